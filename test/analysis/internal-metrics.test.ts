/**
 * Prometheus scrapes and error totals → per-component metrics, on hand-made
 * records whose every expected number is worked out in the comments.
 */
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import type {ErrorsRecord, MetricsSnapshot, PrometheusComponentSample, PrometheusRecord} from '../../src/bundle/format.js'
import {counterIncrease, ErrorTotalsAccumulator, increaseBetween} from '../../src/analysis/error-totals.js'
import {distributionDelta, histogramQuantile, latencyStats} from '../../src/analysis/latency.js'
import {componentMetrics} from '../../src/analysis/metrics.js'
import {PrometheusAccumulator, type Distribution} from '../../src/analysis/prometheus-series.js'
import {BASE_ISO, isoAt} from './fixtures.js'

const BOUNDS = [0.01, 0.1, 1]

/** A cumulative histogram series from per-bucket counts (seconds). */
function hist(counts: number[], sum: number) {
  let c = 0
  const buckets = BOUNDS.map((le, i): [number, number] => [le, (c += counts[i])])
  return {sum, count: c, buckets}
}

function scrape(seq: number, tMs: number, components: Record<string, PrometheusComponentSample['metrics']>, phase: PrometheusRecord['phase'] = 'interval'): PrometheusRecord {
  const kinds: Record<string, string> = {src: 'source', xf: 'transform', out: 'sink'}
  return {
    seq,
    at: isoAt(tMs),
    t_ms: tMs,
    phase,
    scrape: {
      prefix: 'vector_',
      types: {component_latency_seconds: 'histogram', utilization: 'gauge'},
      components: Object.fromEntries(Object.entries(components).map(([id, metrics]) => [id, {kind: kinds[id] ?? null, type: null, metrics}])),
      bytes: 100,
      lines: 10,
      samples: 10,
      skipped_lines: 0,
      unattributed: 0,
    },
  }
}

function snapshot(seq: number, tMs: number, components: MetricsSnapshot['components']): MetricsSnapshot {
  return {seq, at: isoAt(tMs), t_ms: tMs, phase: seq === 0 ? 'start' : 'interval', components}
}

function series(records: PrometheusRecord[]) {
  const acc = new PrometheusAccumulator()
  for (const r of records) acc.add(r)
  return acc.finish()
}

describe('latency from histograms', () => {
  it('estimates quantiles like histogram_quantile', () => {
    // 10 observations: 4 ≤ 10 ms, 4 in (10 ms, 100 ms], 2 in (100 ms, 1 s]
    const buckets: [number, number][] = [[0.01, 4], [0.1, 8], [1, 10]]
    // rank 5 lies in the 2nd bucket: 0.01 + 0.09 × (5 − 4) / 4
    assert.ok(Math.abs(histogramQuantile(0.5, buckets, 10)! - 0.0325) < 1e-12)
    // rank 2 in the first bucket interpolates from 0
    assert.ok(Math.abs(histogramQuantile(0.2, buckets, 10)! - 0.005) < 1e-12)
    // with 2 more observations in +Inf (count 12), rank 11.88 lies beyond the last bound: the highest finite bound
    assert.equal(histogramQuantile(0.99, buckets, 12), 1)
    assert.equal(histogramQuantile(0.5, buckets, 0), null)
  })

  it('subtracts two scrapes, and treats a lower count as a restart', () => {
    const a: Distribution = {kind: 'histogram', sum: 1, count: 4, buckets: [[0.01, 4], [0.1, 4], [1, 4]], quantiles: []}
    const b: Distribution = {kind: 'histogram', sum: 1.5, count: 9, buckets: [[0.01, 4], [0.1, 9], [1, 9]], quantiles: []}
    const d = distributionDelta(a, b)
    assert.deepEqual(d.buckets, [[0.01, 0], [0.1, 5], [1, 5]])
    assert.equal(d.count, 5)
    assert.equal(d.sum, 0.5)
    // 5 observations summing to 0.5 s: mean 100 ms; all in (10 ms, 100 ms]: p50 = 0.01 + 0.09 × 2.5/5
    const stats = latencyStats(a, b, 'window')
    assert.equal(stats.mean_ms, 100)
    assert.equal(stats.p50_ms, 55)
    assert.equal(stats.count, 5)
    const restarted = distributionDelta(b, a)
    assert.equal(restarted, a)
  })
})

describe('error totals', () => {
  it('adds up increases, counting a drop as a restart from 0', () => {
    const pts = [
      {t: 0, v: 5},
      {t: 1000, v: 8},
      {t: 2000, v: 2},
      {t: 3000, v: 6},
    ]
    // +3, restart: +2, +4
    assert.equal(counterIncrease(pts), 9)
    assert.equal(counterIncrease(pts.slice(0, 1)), null)
    // the value at 1500 is 8 (t 1000), at 3000 it is 6: +2 (restart) +4
    assert.equal(increaseBetween(pts, 1500, 3000), 6)
    // nothing before t 0
    assert.equal(increaseBetween(pts, -10, 3000), null)
    // the stream had stopped long before t 9000
    assert.equal(increaseBetween(pts, 1000, 9000), null)
  })

  it('reads records per component and ignores broken ones', () => {
    const acc = new ErrorTotalsAccumulator()
    const recs: unknown[] = [
      {seq: 0, at: BASE_ISO, t_ms: 100, components: {a: 0, b: 1}},
      {seq: 1, at: isoAt(1000), t_ms: 1100, components: {a: 4, b: 'x', c: -1}},
      {seq: 2, at: isoAt(2000), t_ms: 'late', components: {a: 9}},
      null,
    ]
    for (const r of recs) acc.add(r as ErrorsRecord)
    const t = acc.finish()
    assert.equal(t.records, 2)
    assert.deepEqual(t.series.get('a'), [{t: 100, v: 0}, {t: 1100, v: 4}])
    assert.deepEqual(t.series.get('b'), [{t: 100, v: 1}])
    assert.equal(t.series.has('c'), false)
  })
})

describe('componentMetrics with scrapes and error totals', () => {
  // Snapshots and scrapes at 0, 2000 and 4000 ms of the capture clock, which started with the window.
  const snapshots = [0, 2000, 4000].map((t, i) =>
    snapshot(i, t, {src: {received_events: 1000 * i, sent_events: 1000 * i}, xf: {received_events: 1000 * i, sent_events: 900 * i}}),
  )
  const scrapes = [
    // Vector publishes utilization every 5 s: the first scrape holds none.
    scrape(0, 0, {xf: {component_latency_seconds: [hist([0, 0, 0], 0)], component_cpu_usage_ns_total: [{value: 0}], component_errors_total: [{value: 1}]}}, 'start'),
    scrape(1, 2000, {
      xf: {
        utilization: [{value: 0.8}],
        component_latency_seconds: [hist([2, 2, 0], 0.2)],
        component_cpu_usage_ns_total: [{value: 1e9}],
        component_discarded_events_total: [{labels: {intentional: 'true'}, value: 3}, {labels: {intentional: 'false'}, value: 2}],
        transform_buffer_utilization_level: [{value: 250}],
        transform_buffer_max_size_events: [{value: 1000}],
        component_errors_total: [{value: 3}],
      },
      out: {utilization: [{value: 0.95}], component_received_events_total: [{value: 500}], component_sent_events_total: [{value: 500}]},
    }),
    scrape(2, 4000, {
      xf: {
        utilization: [{value: 1}],
        component_latency_seconds: [hist([2, 6, 2], 2.2)],
        component_cpu_usage_ns_total: [{value: 4e9}],
        component_discarded_events_total: [{labels: {intentional: 'true'}, value: 3}, {labels: {intentional: 'false'}, value: 7}],
        transform_buffer_utilization_level: [{value: 900}],
        transform_buffer_max_size_events: [{value: 1000}],
        component_errors_total: [{value: 10}],
      },
      out: {utilization: [{value: 0.97}], component_received_events_total: [{value: 2500}], component_sent_events_total: [{value: 2400}]},
    }),
    {seq: 3, at: isoAt(4100), t_ms: 4100, phase: 'end', scrape: null, error: 'connection refused'} as PrometheusRecord,
  ]

  it('adds utilization, latency, buffers, CPU and discards to snapshot intervals', () => {
    const prom = series(scrapes)
    assert.equal(prom.summary.scrapes, 4)
    assert.equal(prom.summary.failed, 1)
    assert.equal(prom.summary.first_error, 'connection refused')
    assert.equal(prom.summary.utilization_components, 2)
    const byId = new Map(componentMetrics(snapshots, BASE_ISO, {prometheus: prom}).map((m) => [m.id, m]))
    const xf = byId.get('xf')!
    assert.equal(xf.utilization, 0.9) // mean of 0.8 and 1
    assert.equal(xf.utilization_max, 1)
    assert.equal(xf.utilization_samples, 2)
    assert.deepEqual(
      xf.intervals.map((iv) => iv.utilization),
      [0.8, 1],
    )
    // interval 2: 6 new observations summing 2.0 s → 333.333 ms; over the capture: 10 observations, 2.2 s → 220 ms
    assert.deepEqual(
      xf.intervals.map((iv) => iv.latency_mean_ms),
      [50, 333.333],
    )
    assert.equal(xf.latency?.mean_ms, 220)
    assert.equal(xf.latency?.count, 10)
    assert.equal(xf.latency?.scope, 'window')
    // p95: rank 9.5 of 10 → in (0.1, 1] holding ranks 8..10: 0.1 + 0.9 × 1.5/2 = 0.775 s
    assert.equal(xf.latency?.p95_ms, 775)
    // 1e9 ns in the first 2 s → 0.5 cores; 3e9 in the next 2 s → 1.5; over the capture 4e9 in 4 s → 1
    assert.deepEqual(
      xf.intervals.map((iv) => iv.cpu_usage),
      [0.5, 1.5],
    )
    assert.equal(xf.cpu_usage, 1)
    // intentional and not: 5 then 10
    assert.deepEqual(
      xf.intervals.map((iv) => iv.discarded_events),
      [null, 5],
    )
    assert.equal(xf.discarded_events, 5)
    assert.deepEqual(
      xf.intervals.map((iv) => iv.buffer_utilization),
      [0.25, 0.9],
    )
    assert.equal(xf.buffer_utilization_max, 0.9)
    assert.equal(xf.buffer_events_max, 900)
    // without an error stream, the snapshots have no errors counter: component_errors_total it is (1 → 10)
    assert.equal(xf.errors, 9)
    assert.equal(xf.errors_source, 'prometheus')
    assert.deepEqual(
      xf.intervals.map((iv) => iv.errors),
      [2, 7],
    )
    // counters from the snapshots as before
    assert.equal(xf.received_events, 2000)
    assert.equal(xf.dropped_events, 200)
  })

  it('builds intervals from the scrapes for a component the snapshots lack', () => {
    const out = componentMetrics(snapshots, BASE_ISO, {prometheus: series(scrapes)}).find((m) => m.id === 'out')!
    assert.equal(out.intervals.length, 1)
    assert.equal(out.intervals[0].t_ms, 2000)
    // 2000 events in 2 s
    assert.equal(out.intervals[0].received_eps, 1000)
    assert.equal(out.intervals[0].sent_eps, 950)
    assert.equal(out.utilization, 0.96)
    assert.equal(out.received_events, 2000)
  })

  it('uses only the first scrape when no later one holds utilization', () => {
    const only = series([scrape(0, 0, {xf: {utilization: [{value: 0.4}]}}, 'start'), scrape(1, 2000, {xf: {}})])
    const xf = componentMetrics(snapshots, BASE_ISO, {prometheus: only}).find((m) => m.id === 'xf')!
    assert.equal(xf.utilization, 0.4)
    assert.equal(xf.utilization_samples, 1)
    assert.deepEqual(
      xf.intervals.map((iv) => iv.utilization),
      [null, null],
    )
  })

  it('prefers the streamed error totals, per interval and over the capture', () => {
    const acc = new ErrorTotalsAccumulator()
    // ticks every 500 ms from t 0: xf errs 0,0,1,1,3,3,3,6,10 (at 4000)
    const xfVals = [0, 0, 1, 1, 3, 3, 3, 6, 10]
    xfVals.forEach((v, i) => acc.add({seq: i, at: isoAt(i * 500), t_ms: i * 500, components: {xf: v, lonely: i}}))
    const byId = new Map(componentMetrics(snapshots, BASE_ISO, {prometheus: series(scrapes), errors: acc.finish()}).map((m) => [m.id, m]))
    const xf = byId.get('xf')!
    assert.equal(xf.errors, 10)
    assert.equal(xf.errors_source, 'errors_stream')
    // 10 errors over 4 s of stream
    assert.equal(xf.errors_per_s, 2.5)
    // values at 0, 2000, 4000: 0, 3, 10
    assert.deepEqual(
      xf.intervals.map((iv) => iv.errors),
      [3, 7],
    )
    // a component only the stream knows still gets its count
    const lonely = byId.get('lonely')!
    assert.equal(lonely.errors, 8)
    assert.equal(lonely.intervals.length, 0)
  })

  it('places everything on the window when the capture started earlier', () => {
    // The window opened 1.5 s after the first snapshot.
    const m = componentMetrics(snapshots, isoAt(1500), {prometheus: series(scrapes)})
    assert.deepEqual(
      m.find((x) => x.id === 'xf')!.intervals.map((iv) => iv.t_ms),
      [-1500, 500],
    )
  })
})
