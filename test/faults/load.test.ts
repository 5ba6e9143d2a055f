/**
 * Load: the demo as fast as it can go (no rate limit, small batches: many
 * iterations, many spans) for a 15 s window. Every span the pipeline started
 * is in the bundle or counted as dropped by one side; none is counted twice
 * (a tracer re-sends a payload whose answer was slow).
 */
import {after, before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {gunzipSync} from 'node:zlib'
import {runCli} from '../helpers/cli.js'
import {checksumMismatches, extractWithSystemTools, readManifest} from '../helpers/archive.js'
import {spawnDemo, type SpawnedDemo} from '../../src/demo/spawn.js'
import type {Manifest} from '../../src/bundle/format.js'
import {assertCleanExit, workDir} from './helpers.js'

const work = workDir('vdiag-faults-load-')
let demo: SpawnedDemo
before(async () => {
  demo = await spawnDemo({extraArgs: ['--rate', '0', '--batch-size', '10']})
})
after(async () => {
  await demo?.stop()
  rmSync(work, {recursive: true, force: true})
})

function spanIds(root: string): string[] {
  const text = gunzipSync(readFileSync(path.join(root, 'spans/spans.ndjson.gz'))).toString('utf8')
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as {span_id: string}).span_id)
}

async function capture(name: string, extra: string[]): Promise<{m: Manifest; ids: string[]}> {
  const out = path.join(work, `${name}.tar.gz`)
  const r = await runCli(['capture', '--api', demo.api, '--metrics-url', demo.metrics, '--interval', '5s', '--json', '--output', out, ...extra], {timeoutMs: 80_000})
  assertCleanExit(r, name)
  assert.equal(r.code, 0, r.stderr)
  const {root} = extractWithSystemTools(out)
  const m = readManifest(root)
  assert.deepEqual(checksumMismatches(root, m), [])
  return {m, ids: spanIds(root)}
}

describe('load: the demo at full speed', {timeout: 200_000}, () => {
  test('15 s window: started == kept + dropped (pipeline) + dropped (vdiag), nothing lost, nothing twice', {timeout: 90_000}, async (t) => {
    const {m, ids} = await capture('full', ['--duration', '15s'])
    const c = m.counts
    assert.equal(m.complete, true, m.incomplete_reason ?? '')
    // The rate itself depends on the machine (14 000 spans idle, under 1 000 at load 17 on 2 cores): only reported.
    t.diagnostic(`${c.spans_started} spans started in 15 s, ${c.payloads} payloads, ${c.spans_dropped_pipeline} dropped by the pipeline`)
    assert.ok(c.spans_kept > 0, JSON.stringify(c))
    assert.equal(c.spans_started, c.spans_kept + (c.spans_dropped_pipeline ?? NaN) + c.spans_dropped_vdiag, JSON.stringify(c))
    assert.equal(c.spans_lost, 0, JSON.stringify(c))
    assert.equal(ids.length, c.spans_kept)
    assert.equal(new Set(ids).size, ids.length, 'a span is in the bundle twice')
  })

  // Small enough to be passed within 5 s even on a starved machine (400+ spans at load 17).
  test('--max-spans 50: vdiag drops the rest, counts them, and still loses nothing', {timeout: 60_000}, async () => {
    const {m, ids} = await capture('capped', ['--duration', '5s', '--max-spans', '50'])
    const c = m.counts
    assert.ok(c.spans_kept <= 50, JSON.stringify(c))
    assert.ok(c.spans_dropped_vdiag > 0, JSON.stringify(c))
    assert.equal(c.spans_started, c.spans_kept + (c.spans_dropped_pipeline ?? NaN) + c.spans_dropped_vdiag, JSON.stringify(c))
    assert.equal(c.spans_lost, 0, JSON.stringify(c))
    assert.equal(ids.length, c.spans_kept)
    assert.equal(m.capture.max_spans, 50)
  })
})
