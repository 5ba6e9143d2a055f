/**
 * The pipeline dies mid-window (SIGKILL: no chance to end the window or flush):
 * vdiag still writes the bundle with what it had, records why it is
 * incomplete, and exits 1 as README "Exit codes" documents.
 */
import {after, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {gunzipSync} from 'node:zlib'
import {events, startCli} from '../helpers/cli.js'
import {checksumMismatches, extractWithSystemTools, readManifest} from '../helpers/archive.js'
import {spawnDemo} from '../../src/demo/spawn.js'
import type {TracingRecord} from '../../src/bundle/format.js'
import {assertCleanExit, workDir} from './helpers.js'

const work = workDir('vdiag-faults-death-')
after(() => rmSync(work, {recursive: true, force: true}))

describe('the pipeline dies mid-window', {timeout: 120_000}, () => {
  test('partial bundle with the error recorded, verified by tar and checksums, exit 1', {timeout: 90_000}, async () => {
    // The demo's own temp files live here, since a killed demo cannot remove them.
    const demoTmp = path.join(work, 'demo-tmp')
    mkdirSync(demoTmp)
    const demo = await spawnDemo({env: {TMPDIR: demoTmp}})
    const out = path.join(work, 'died.tar.gz')
    const cli = startCli(['capture', '--api', demo.api, '--duration', '40s', '--interval', '1s', '--json', '--output', out])
    const killer = setTimeout(() => cli.child.kill('SIGKILL'), 75_000)
    try {
      // Wait until spans are flowing, so "what it had" is not nothing.
      await cli.waitForLine((l) => l.includes('"progress"') && (JSON.parse(l) as {spans: number}).spans > 0, 40_000)
      demo.child.kill('SIGKILL')
      const r = await cli.done
      assertCleanExit(r, 'pipeline killed')
      assert.equal(r.code, 1, `exit code (README: 1 when the pipeline went away mid-window)\n${r.stderr}`)

      const ev = events(r.stdout)
      const lost = ev.find((e) => e.event === 'warning' && e.code === 'pipeline_lost')
      assert.ok(lost, `no pipeline_lost warning in ${ev.map((e) => e.event)}`)
      const done = ev.find((e) => e.event === 'done') as {exit_code: number; complete: boolean; path: string} | undefined
      assert.ok(done, 'no done event')
      assert.equal(done.exit_code, 1)
      assert.equal(done.complete, false)
      assert.equal(done.path, out)

      const {root} = extractWithSystemTools(out)
      const m = readManifest(root)
      assert.deepEqual(checksumMismatches(root, m), [])
      assert.equal(m.complete, false)
      assert.match(m.incomplete_reason ?? '', /pipeline/, m.incomplete_reason ?? '')
      assert.ok(m.counts.spans_kept > 0, 'the spans received before the death are kept')
      // The pipeline never reported final figures, so nothing can be claimed about loss.
      assert.equal(m.counts.spans_started, null)
      assert.equal(m.counts.spans_lost, null)
      const spanLines = gunzipSync(readFileSync(path.join(root, 'spans/spans.ndjson.gz'))).toString('utf8').split('\n').filter(Boolean)
      assert.equal(spanLines.length, m.counts.spans_kept)
      const tracing = JSON.parse(readFileSync(path.join(root, 'pipeline/tracing.json'), 'utf8')) as TracingRecord
      assert.equal(tracing.ended_cleanly, false)
      assert.match(tracing.close_error ?? '', /pipeline/)
      assert.notEqual(m.collectors.tracing?.status, 'ok')
      const snaps = readFileSync(path.join(root, 'metrics/snapshots.ndjson'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as {phase: string; error?: string})
      assert.ok(snaps.some((s) => !s.error), 'snapshots from before the death are kept')
      assert.ok(snaps.some((s) => s.error), 'the failed snapshot is recorded with its error')
    } finally {
      clearTimeout(killer)
      cli.child.kill('SIGKILL')
      await demo.stop()
    }
  })
})
