import {after, before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync} from 'node:fs'
import {gunzipSync} from 'node:zlib'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {events, runCli, startCli} from '../helpers/cli.js'
import {checksumMismatches, extractWithSystemTools, readManifest} from '../helpers/archive.js'
import {spawnDemo} from '../../src/demo/spawn.js'
import type {TracingRecord} from '../../src/bundle/format.js'
import type {TracingStatus} from '../../src/protocol/tracing-control.js'

const work = mkdtempSync(path.join(os.tmpdir(), 'vdiag-capture-test-'))
after(() => rmSync(work, {recursive: true, force: true}))

function spanLines(root: string): Record<string, unknown>[] {
  const text = gunzipSync(readFileSync(path.join(root, 'spans/spans.ndjson.gz'))).toString('utf8')
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
}

async function tracingStatus(api: string, token?: string): Promise<TracingStatus> {
  const res = await fetch(`${api}/tracing`, {headers: token ? {authorization: `Bearer ${token}`} : {}})
  return (await res.json()) as TracingStatus
}

async function closedPort(): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as net.AddressInfo).port
  await new Promise<void>((r) => srv.close(() => r()))
  return port
}

describe('capture --demo end to end', {timeout: 180_000}, () => {
  test('writes a verified tar.gz bundle whose span counts add up', async () => {
    const out = path.join(work, 'demo.tar.gz')
    const r = await runCli(['capture', '--demo', '--duration', '3s', '--interval', '1s', '--json', '--output', out])
    assert.equal(r.code, 0, r.stderr)
    const ev = events(r.stdout)
    const names = ev.map((e) => e.event)
    for (const n of ['started', 'attached', 'window_opened', 'progress', 'bundle_written', 'done']) assert.ok(names.includes(n), `missing ${n} in ${names}`)
    assert.equal((statSync(out).mode & 0o777).toString(8), '600')

    const {root, listing} = extractWithSystemTools(out)
    assert.ok(listing.some((l) => l.endsWith('/manifest.json')))
    const m = readManifest(root)
    assert.deepEqual(checksumMismatches(root, m), [])
    assert.equal(m.complete, true)
    assert.equal(m.pipeline.api_generation, 'grpc')
    assert.ok(m.counts.spans_kept > 0, 'no spans kept')
    assert.equal(m.counts.spans_lost, 0)
    assert.equal(m.counts.spans_started, m.counts.spans_kept + (m.counts.spans_dropped_pipeline ?? 0) + m.counts.spans_dropped_vdiag)
    assert.equal(spanLines(root).length, m.counts.spans_kept)
    const snaps = readFileSync(path.join(root, 'metrics/snapshots.ndjson'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as {phase: string; components: Record<string, unknown>})
    assert.equal(snaps[0].phase, 'start')
    assert.equal(snaps.at(-1)!.phase, 'end')
    assert.ok(snaps.length >= 3)
    assert.ok(Object.keys(snaps[0].components).length >= 3)
    assert.ok(existsSync(path.join(root, 'host/facts.json')))
    assert.ok(existsSync(path.join(root, 'README.txt')))
  })

  test('zip format against the GraphQL generation', async () => {
    const demo = await spawnDemo({apiProtocol: 'graphql'})
    try {
      const out = path.join(work, 'graphql.zip')
      const r = await runCli(['capture', '--api', demo.api, '--duration', '2s', '--interval', '1s', '--format', 'zip', '--output', out, '--json'])
      assert.equal(r.code, 0, r.stderr)
      const {root} = extractWithSystemTools(out)
      const m = readManifest(root)
      assert.deepEqual(checksumMismatches(root, m), [])
      assert.equal(m.pipeline.api_generation, 'graphql')
      const facts = JSON.parse(readFileSync(path.join(root, 'pipeline/pipeline.json'), 'utf8')) as {edges: unknown[] | null}
      assert.ok(Array.isArray(facts.edges) && facts.edges.length >= 2, 'GraphQL relations give topology edges')
      assert.equal(m.counts.spans_lost, 0)
    } finally {
      await demo.stop()
    }
  })

  test('a pipeline without /tracing: metrics and host facts only, said plainly', async () => {
    const demo = await spawnDemo({tracing: false})
    try {
      const out = path.join(work, 'notrace.tar.gz')
      const r = await runCli(['capture', '--api', demo.api, '--duration', '1s', '--interval', '1s', '--output', out])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stderr, /cannot turn on tracing/)
      const {root} = extractWithSystemTools(out)
      const t = JSON.parse(readFileSync(path.join(root, 'pipeline/tracing.json'), 'utf8')) as TracingRecord
      assert.equal(t.supported, false)
      assert.equal(t.status_http, 404)
      assert.equal(existsSync(path.join(root, 'spans/spans.ndjson.gz')), false)
      assert.equal(readManifest(root).collectors.tracing.status, 'skipped')
    } finally {
      await demo.stop()
    }
  })
})

describe('capture safety', {timeout: 180_000}, () => {
  test('SIGINT mid-window: a valid partial bundle, exit 130, the window gone', async () => {
    const demo = await spawnDemo({})
    try {
      const out = path.join(work, 'sigint.tar.gz')
      const cli = startCli(['capture', '--api', demo.api, '--duration', '60s', '--interval', '1s', '--json', '--output', out])
      await cli.waitForLine((l) => l.includes('"progress"'))
      cli.child.kill('SIGINT')
      const r = await cli.done
      assert.equal(r.code, 130, r.stderr)
      const {root} = extractWithSystemTools(out)
      const m = readManifest(root)
      assert.deepEqual(checksumMismatches(root, m), [])
      assert.equal(m.complete, false)
      assert.match(m.incomplete_reason ?? '', /SIGINT/)
      const st = await tracingStatus(demo.api)
      assert.equal(st.window?.state, 'ended')
    } finally {
      await demo.stop()
    }
  })

  test('SIGKILL mid-window: the pipeline ends the window by itself, and a new capture can start', async () => {
    const demo = await spawnDemo({})
    try {
      const cli = startCli(['capture', '--api', demo.api, '--duration', '2s', '--interval', '1s', '--json', '--output', path.join(work, 'killed.tar.gz')])
      await cli.waitForLine((l) => l.includes('"window_opened"'))
      cli.child.kill('SIGKILL')
      await cli.done
      let st = await tracingStatus(demo.api)
      assert.ok(st.window && st.window.state !== 'ended', 'window should still be open right after the kill')
      for (let i = 0; i < 300 && st.window?.state !== 'ended'; i++) {
        await new Promise((r) => setTimeout(r, 100))
        st = await tracingStatus(demo.api)
      }
      assert.equal(st.window?.state, 'ended')
      // The protocol's guarantee, read off the pipeline's own clock.
      assert.ok(Date.parse(st.window!.ended_at!) <= Date.parse(st.window!.expires_at) + 5_000, JSON.stringify(st.window))
      const r = await runCli(['capture', '--api', demo.api, '--duration', '1s', '--interval', '1s', '--output', path.join(work, 'after-kill.tar.gz')])
      assert.equal(r.code, 0, r.stderr)
    } finally {
      await demo.stop()
    }
  })

  test('another active window: exit 1 naming it; --yes captures without spans', async () => {
    const demo = await spawnDemo({})
    try {
      const open = await fetch(`${demo.api}/tracing`, {method: 'POST', body: JSON.stringify({duration_secs: 30, endpoint: 'http://127.0.0.1:9'})})
      assert.equal(open.status, 201)
      const r = await runCli(['capture', '--api', demo.api, '--duration', '1s', '--output', path.join(work, 'conflict.tar.gz')])
      assert.equal(r.code, 1)
      assert.match(r.stderr, /another tracing window/)
      assert.equal(existsSync(path.join(work, 'conflict.tar.gz')), false)
      const y = await runCli(['capture', '--api', demo.api, '--duration', '1s', '--interval', '1s', '--yes', '--output', path.join(work, 'conflict-yes.tar.gz')])
      assert.equal(y.code, 0, y.stderr)
      const {root} = extractWithSystemTools(path.join(work, 'conflict-yes.tar.gz'))
      assert.equal(readManifest(root).counts.spans_kept, 0)
      await fetch(`${demo.api}/tracing`, {method: 'DELETE'})
    } finally {
      await demo.stop()
    }
  })

  test('--duration above the pipeline maximum is a usage error before anything is switched on', async () => {
    const demo = await spawnDemo({extraArgs: ['--max-window', '5']})
    try {
      const r = await runCli(['capture', '--api', demo.api, '--duration', '10s', '--output', path.join(work, 'toolong.tar.gz')])
      assert.equal(r.code, 2)
      assert.match(r.stderr, /max_duration_secs: 5/)
      const st = await tracingStatus(demo.api)
      assert.equal(st.window, null)
    } finally {
      await demo.stop()
    }
  })

  test('unreachable API: one paragraph saying what was tried, exit 1, no bundle', async () => {
    const port = await closedPort()
    const cwd = mkdtempSync(path.join(work, 'unreachable-'))
    const r = await runCli(['capture', '--api', `http://127.0.0.1:${port}`, '--duration', '1s'], {cwd})
    assert.equal(r.code, 1)
    assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port}`))
    assert.match(r.stderr, /api/i)
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
    assert.deepEqual(readdirSync(cwd), [])
  })

  test('bad durations are usage errors naming the flag', async () => {
    for (const [flag, value] of [['--duration', '60'], ['--duration', 'soon'], ['--interval', '0s']]) {
      const r = await runCli(['capture', flag, value])
      assert.equal(r.code, 2, `${flag} ${value}: ${r.stderr}`)
      assert.match(r.stderr, new RegExp(flag.slice(2)))
      assert.match(r.stderr, /e\.g\./)
    }
  })
})
