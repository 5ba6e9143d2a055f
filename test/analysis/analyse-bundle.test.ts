import {after, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {promises as fs} from 'node:fs'
import path from 'node:path'
import {gzipSync} from 'node:zlib'
import {analyseBundle} from '../../src/analysis/index.js'
import {ENTRY, type MetricsSnapshot, type SpanRecord} from '../../src/bundle/format.js'
import {VdiagError} from '../../src/errors.js'
import {SINK, SOURCE, isoAt, iteration, shuffled, tempDir, tracingRecord, writeBundle} from './fixtures.js'

/**
 * A 10 s window with two components whose numbers can be worked out by hand:
 * - src: 10 iterations of 1000 ms = read 200 (cpu 150) + send 100 + sleep 600 + 100 untracked
 * - out: 5 iterations of 1500 ms = wait 500 + encode 100 + send 900 (sub-stage request 800);
 *   one send fails with "HTTP 503".
 */
function handSpans(): SpanRecord[] {
  const spans: SpanRecord[] = []
  for (let k = 0; k < 10; k++) {
    spans.push(...iteration(SOURCE, k * 1000, [{name: 'read', dur: 200, cpu: 150}, {name: 'send', dur: 100, cpu: 1}, {name: 'sleep', dur: 600}], 100))
  }
  for (let k = 0; k < 5; k++) {
    spans.push(
      ...iteration(SINK, k * 2000, [
        {name: 'wait', dur: 500},
        {name: 'encode', dur: 100},
        {name: 'send', dur: 900, error: k === 2 ? 'HTTP 503' : undefined, sub: [{name: 'request', dur: 800}]},
      ]),
    )
  }
  return spans
}

const snapshots: MetricsSnapshot[] = [
  {seq: 0, at: isoAt(0), t_ms: 50, phase: 'start', components: {src: {received_events: 0, sent_events: 0, errors: 0}, out: {received_events: 100, sent_events: 100, errors: 0}}},
  {seq: 1, at: isoAt(5000), t_ms: 5050, phase: 'interval', components: {src: {received_events: 5000, sent_events: 5000, errors: 0}, out: {received_events: 50, sent_events: 40, errors: 1}}},
  {seq: 2, at: isoAt(10000), t_ms: 10050, phase: 'end', components: {src: {received_events: 15000, sent_events: 15000, errors: 0}, out: {received_events: 5050, sent_events: 4000, errors: 1}}},
]

describe('analyseBundle on a hand-computed bundle', {timeout: 30_000}, () => {
  const dirs: string[] = []
  after(async () => {
    for (const d of dirs) await fs.rm(d, {recursive: true, force: true})
  })
  const bundle = async (spans: SpanRecord[], extra: Parameters<typeof writeBundle>[1] = {}) => {
    const dir = await tempDir()
    dirs.push(dir)
    return writeBundle(dir, {spans, tracing: tracingRecord(0, 10_000), snapshots, ...extra})
  }

  it('computes iterations, busy share, coverage, untracked and per-stage figures', async () => {
    const r = await analyseBundle(await bundle(handSpans()), {path: 'x.tar.gz'})
    assert.equal(r.bundle.path, 'x.tar.gz')
    assert.equal(r.window.duration_s, 10)
    assert.equal(r.window.source, 'tracing')
    assert.equal(r.spans.total, 10 * 4 + 5 * 5)
    assert.equal(r.spans.traces, 15)
    assert.equal(r.spans.orphans, 0)

    const src = r.components.find((c) => c.id === 'src')!
    assert.equal(src.kind, 'source')
    assert.equal(src.type, 'file')
    assert.equal(src.iterations, 10)
    assert.equal(src.wall_ms, 10_000)
    assert.equal(src.idle_ms, 6000)
    assert.equal(src.busy_ms, 4000)
    assert.equal(src.blocked_ms, 1000)
    assert.equal(src.busy_share, 0.4)
    assert.equal(src.coverage, 1)
    assert.equal(src.untracked_ms, 1000)
    assert.equal(src.untracked_share, 0.1)
    assert.deepEqual(
      src.stages.map((s) => s.name),
      ['read', 'send', 'sleep'],
    )
    const read = src.stages[0]
    assert.equal(read.count, 10)
    assert.equal(read.total_ms, 2000)
    assert.equal(read.self_ms, 2000)
    assert.equal(read.share, 0.2)
    assert.equal(read.p50_ms, 200)
    assert.equal(read.p99_ms, 200)
    assert.equal(read.cpu_ms, 1500)
    assert.equal(read.off_cpu_ms, 500)
    assert.equal(src.stages[2].cpu_ms, undefined)

    const out = r.components.find((c) => c.id === 'out')!
    assert.equal(out.iterations, 5)
    assert.equal(out.wall_ms, 7500)
    assert.equal(out.busy_share, 0.5)
    assert.equal(out.coverage, 0.75)
    assert.equal(out.untracked_ms, 0)
    assert.equal(out.blocked_ms, 0) // a sink's send is its own work
    const send = out.stages.find((s) => s.name === 'send')!
    assert.equal(send.total_ms, 4500)
    assert.equal(send.self_ms, 500)
    assert.equal(send.share, Math.round((500 / 7500) * 1e4) / 1e4)
    assert.equal(send.total_share, 0.6)
    assert.equal(send.errors, 1)
    assert.deepEqual(
      send.substages.map((s) => [s.name, s.count, s.total_ms, s.self_ms]),
      [['request', 5, 4000, 4000]],
    )
    assert.equal(out.errors, 1)
    assert.deepEqual(out.top_errors, [{message: 'HTTP 503', count: 1}])
    // self times partition the iteration time
    const selfSum = out.stages.reduce((a, s) => a + s.self_ms + s.substages.reduce((b, x) => b + x.self_ms, 0), 0) + out.untracked_ms
    assert.equal(selfSum, out.wall_ms)
  })

  it('orders components upstream first and infers the topology from kinds, saying so', async () => {
    const r = await analyseBundle(await bundle(handSpans()))
    assert.deepEqual(r.components.map((c) => c.id), ['src', 'out'])
    assert.equal(r.topology.inferred, true)
    assert.equal(r.topology.edges_source, 'kinds')
    assert.deepEqual(r.topology.edges, [{from: 'src', to: 'out'}])
    assert.deepEqual(r.topology.order, ['src', 'out'])
  })

  it('uses topology edges from the pipeline facts when present', async () => {
    const facts = {
      api: {url: 'x', generation: 'graphql' as const, detection: []},
      version: '0.54.0',
      version_string: null,
      hostname: 'h',
      components: [
        {id: 'out', kind: 'sink' as const, type: 'http', outputs: []},
        {id: 'src', kind: 'source' as const, type: 'file', outputs: ['_default']},
      ],
      edges: [{from: 'src', to: 'out'}],
      edges_source: 'graphql' as const,
    }
    const r = await analyseBundle(await bundle(handSpans(), {facts}))
    assert.equal(r.topology.inferred, false)
    assert.equal(r.topology.edges_source, 'graphql')
    assert.equal(r.pipeline.version, '0.54.0')
    assert.equal(r.pipeline.api, 'graphql')
  })

  it('gives identical figures when traces arrive split across payloads in any order', async () => {
    const inOrder = await analyseBundle(await bundle(handSpans()))
    const spans = handSpans()
    // every iteration span in a later payload than its children, and everything shuffled
    const split = shuffled(spans, 9).map((s) => ({...s, payload: s.name === 'iteration' ? 2 : 1}))
    split.sort((a, b) => a.payload - b.payload)
    const r = await analyseBundle(await bundle(split))
    assert.deepEqual(r.components, inOrder.components)
    assert.equal(r.spans.orphans, 0)
  })

  it('derives per-interval rates, drops and errors from the metric snapshots', async () => {
    const r = await analyseBundle(await bundle(handSpans()))
    const src = r.metrics.find((m) => m.id === 'src')!
    assert.deepEqual(
      src.intervals.map((i) => [i.t_ms, i.dt_ms, i.received_eps, i.sent_eps]),
      [
        [0, 5000, 1000, 1000],
        [5000, 5000, 2000, 2000],
      ],
    )
    assert.equal(src.sent_events, 15000)
    assert.equal(src.sent_eps, 1500)
    const out = r.metrics.find((m) => m.id === 'out')!
    // the counters went down: a restart, so that interval's rate is unknown, not negative
    assert.equal(out.intervals[0].received_eps, null)
    assert.equal(out.intervals[1].received_eps, 1000)
    assert.equal(out.received_events, 4950)
    assert.equal(out.dropped_events, 4950 - 3900)
    assert.equal(out.errors, 1)
  })

  it('counts malformed lines and spans outside any iteration', async () => {
    const spans = handSpans()
    const orphan = {...spans[1], span_id: '999999', parent_id: '123456789'}
    const r = await analyseBundle(await bundle([...spans, orphan], {rawLines: ['not json', '{"trace_id":"x"}', '[]']}))
    assert.equal(r.spans.malformed, 3)
    assert.equal(r.spans.orphans, 1)
    assert.ok(r.findings.some((f) => f.id === 'spans.malformed'))
    assert.ok(r.findings.some((f) => f.id === 'spans.orphans'))
  })

  it('fails with bundle_corrupt naming the file when the spans gzip is truncated', async () => {
    const dir = await tempDir()
    dirs.push(dir)
    const opened = await writeBundle(dir, {spans: handSpans()})
    const gz = await fs.readFile(path.join(dir, ENTRY.spans))
    await fs.writeFile(path.join(dir, ENTRY.spans), gz.subarray(0, Math.floor(gz.length / 2)))
    await assert.rejects(analyseBundle(opened), (e: unknown) => e instanceof VdiagError && e.code === 'bundle_corrupt' && e.message.includes(ENTRY.spans))
  })

  it('refuses an endless line instead of growing one string', async () => {
    const {forEachGzipLine} = await import('../../src/analysis/line-reader.js')
    const dir = await tempDir()
    dirs.push(dir)
    const file = path.join(dir, 'long.gz')
    await fs.writeFile(file, gzipSync('x'.repeat(300_000) + '\nshort\n'))
    await assert.rejects(forEachGzipLine(file, () => {}, 'long.gz', 100_000), (e: unknown) => e instanceof VdiagError && /longer than/.test(e.message))
    const seen: string[] = []
    await forEachGzipLine(file, (l) => seen.push(l.slice(0, 5)), 'long.gz', 1_000_000)
    assert.deepEqual(seen, ['xxxxx', 'short'])
  })

  it('goes on without unreadable side entries and says so', async () => {
    const dir = await tempDir()
    dirs.push(dir)
    const opened = await writeBundle(dir, {spans: handSpans(), tracing: tracingRecord(0, 10_000)})
    await fs.writeFile(path.join(dir, ENTRY.pipeline), '{"truncated":')
    const r = await analyseBundle(opened)
    assert.equal(r.bundle.problems.length, 1)
    assert.match(r.bundle.problems[0], /pipeline\/pipeline\.json/)
    assert.equal(r.components.length, 2)
    assert.ok(r.findings.some((f) => f.id === 'bundle.unreadable'))
  })

  it('reports a bundle without spans and without tracing as metrics-only', async () => {
    const dir = await tempDir()
    dirs.push(dir)
    const tracing = {...tracingRecord(0, 1), supported: false, reason: 'GET /tracing answered 404', opened: null, final: null}
    const r = await analyseBundle(await writeBundle(dir, {tracing, snapshots}))
    assert.equal(r.spans.tracing_available, false)
    assert.equal(r.spans.tracing_reason, 'GET /tracing answered 404')
    assert.equal(r.components.length, 0)
    assert.equal(r.window.duration_s, 10)
    assert.equal(r.window.source, 'manifest')
    assert.equal(r.findings[0].id, 'metrics.accumulating')
    assert.equal(r.findings[0].component, 'out')
  })
})
