import type {ComponentCounters, MetricsSnapshot} from '../bundle/format.js'
import {counterIncrease, increaseBetween, type CounterPoint, type ErrorTotals} from './error-totals.js'
import {distributionDelta, latencyStats, meanSeconds} from './latency.js'
import {LATENCY_FAMILIES, type ComponentPoint, type LatencyField, type PrometheusSeriesSet} from './prometheus-series.js'
import {round} from './round.js'
import type {ComponentMetrics, ErrorsSource, IntervalRate, LatencyStats} from './types.js'

/**
 * A scrape matches a snapshot when it was taken within half an interval of
 * it, and never further than this: capture takes both at the same tick, so
 * anything further apart belongs to another tick.
 */
const MAX_MATCH_MS = 5_000

export interface MetricsInputs {
  /** metrics/prometheus.ndjson, reduced (internal_metrics). */
  prometheus?: PrometheusSeriesSet | null
  /** metrics/errors.ndjson: error totals streamed from the admin API. */
  errors?: ErrorTotals | null
}

interface CounterSample {
  t: number
  c: ComponentCounters
}

/**
 * Per-component rates between consecutive snapshots, with what the Prometheus
 * scrapes and the error stream add. Counters are cumulative; a decrease means
 * the pipeline restarted, and that interval's rate is unknown (null) rather
 * than negative. A component the admin API's snapshots lack gets its intervals
 * from the scrapes' counters instead.
 */
export function componentMetrics(snapshots: MetricsSnapshot[], windowStartIso: string | null, inputs: MetricsInputs = {}): ComponentMetrics[] {
  const usable = snapshots
    .filter((s) => s && typeof s === 'object' && typeof s.t_ms === 'number' && s.components && typeof s.components === 'object')
    .sort((a, b) => a.t_ms - b.t_ms)
  const prom = inputs.prometheus ?? null
  const errs = inputs.errors ?? null
  // The three files share vdiag's capture clock (t_ms from one start): one offset places them all on the window.
  const ref = usable[0] ? {at: usable[0].at, t_ms: usable[0].t_ms} : prom?.scrapes[0] ? {at: prom.scrapes[0].at, t_ms: prom.scrapes[0].t} : (errs?.first ?? null)
  if (!ref) return []
  const windowStartMs = windowStartIso ? Date.parse(windowStartIso) : Number.NaN
  const refAt = Date.parse(ref.at)
  const offsetMs = Number.isFinite(windowStartMs) && Number.isFinite(refAt) ? refAt - windowStartMs - ref.t_ms : -ref.t_ms
  const firstScrapeT = prom?.scrapes[0]?.t ?? Number.NEGATIVE_INFINITY

  const fromSnapshots = new Map<string, CounterSample[]>()
  for (const s of usable) {
    for (const [id, c] of Object.entries(s.components)) {
      if (!c || typeof c !== 'object') continue
      let list = fromSnapshots.get(id)
      if (!list) fromSnapshots.set(id, (list = []))
      list.push({t: s.t_ms, c})
    }
  }
  const ids = new Set<string>(fromSnapshots.keys())
  for (const id of prom?.points.keys() ?? []) ids.add(id)
  for (const id of errs?.series.keys() ?? []) ids.add(id)

  const out: ComponentMetrics[] = []
  for (const id of [...ids].sort()) {
    const points = prom?.points.get(id) ?? []
    const stream = errs?.series.get(id) ?? null
    const snaps = fromSnapshots.get(id)
    const base: CounterSample[] = snaps ?? points.map((p) => ({t: p.t, c: countersOf(p)}))

    const intervals: IntervalRate[] = []
    for (let i = 1; i < base.length; i++) {
      const a = base[i - 1]
      const b = base[i]
      const dt = b.t - a.t
      if (!(dt > 0)) continue
      const tol = Math.min(MAX_MATCH_MS, dt / 2)
      const pa = nearestPoint(points, a.t, tol)
      const pb = nearestPoint(points, b.t, tol)
      const errors = stream ? increaseBetween(stream, a.t, b.t) : (delta(a.c.errors, b.c.errors) ?? pointDelta(pa, pb, 'errors'))
      intervals.push({
        t_ms: round(a.t + offsetMs, 1),
        dt_ms: round(dt, 1),
        received_eps: rate(a.c.received_events, b.c.received_events, dt),
        sent_eps: rate(a.c.sent_events, b.c.sent_events, dt),
        errors,
        dropped_events: notSent(a.c, b.c),
        ...intervalInternals(pa, pb),
      })
    }
    const first = base[0]?.c ?? null
    const last = base[base.length - 1]?.c ?? null
    const received = first && last ? delta(first.received_events, last.received_events) : null
    const sent = first && last ? delta(first.sent_events, last.sent_events) : null
    const span = intervals.reduce((a, r) => a + r.dt_ms, 0)
    const err = errorsOver(stream, snaps ?? null, points)
    out.push({
      id,
      intervals,
      received_events: received,
      sent_events: sent,
      dropped_events: received !== null && sent !== null ? Math.max(0, received - sent) : null,
      errors: err.errors,
      received_eps: received !== null && span > 0 ? round((received * 1000) / span, 2) : null,
      sent_eps: sent !== null && span > 0 ? round((sent * 1000) / span, 2) : null,
      errors_per_s: err.perS,
      errors_source: err.source,
      ...componentInternals(points, firstScrapeT),
    })
  }
  return out
}

function countersOf(p: ComponentPoint): ComponentCounters {
  const c: ComponentCounters = {}
  if (p.received !== null) c.received_events = p.received
  if (p.sent !== null) c.sent_events = p.sent
  if (p.errors !== null) c.errors = p.errors
  return c
}

/**
 * Errors over the capture, from the best source the bundle has: the admin
 * API's error stream, else the snapshots' counter, else the scrapes'
 * `component_errors_total`.
 */
function errorsOver(stream: CounterPoint[] | null, snaps: CounterSample[] | null, points: ComponentPoint[]): {errors: number | null; perS: number | null; source: ErrorsSource | null} {
  const result = (series: CounterPoint[], source: ErrorsSource) => {
    const errors = counterIncrease(series)
    const spanMs = series.length > 1 ? series[series.length - 1].t - series[0].t : 0
    return {errors, perS: errors !== null && spanMs > 0 ? round((errors * 1000) / spanMs, 3) : null, source: errors === null ? null : source}
  }
  if (stream && stream.length > 1) return result(stream, 'errors_stream')
  const fromSnaps = (snaps ?? []).filter((s) => typeof s.c.errors === 'number').map((s) => ({t: s.t, v: s.c.errors as number}))
  if (fromSnaps.length > 1) return result(fromSnaps, 'snapshots')
  const fromProm = points.filter((p) => p.errors !== null).map((p) => ({t: p.t, v: p.errors as number}))
  if (fromProm.length > 1) return result(fromProm, 'prometheus')
  return {errors: null, perS: null, source: null}
}

/** The scrape closest to `t` within `tol` ms, or null. Points are in time order. */
function nearestPoint(points: ComponentPoint[], t: number, tol: number): ComponentPoint | null {
  let lo = 0
  let hi = points.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (points[mid].t < t) lo = mid + 1
    else hi = mid
  }
  let best: ComponentPoint | null = null
  for (const k of [lo - 1, lo]) {
    const p = points[k]
    if (p && Math.abs(p.t - t) <= tol && (!best || Math.abs(p.t - t) < Math.abs(best.t - t))) best = p
  }
  return best
}

type Counter = 'errors' | 'discarded' | 'cpu_ns'

function pointDelta(a: ComponentPoint | null, b: ComponentPoint | null, key: Counter): number | null {
  if (!a || !b || a === b) return null
  const x = a[key]
  const y = b[key]
  return x === null || y === null || y < x ? null : y - x
}

function deltaMeanMs(a: ComponentPoint | null, b: ComponentPoint | null, field: LatencyField): number | null {
  const later = b?.dist[field]
  if (!a || !b || a === b || !later) return null
  const m = meanSeconds(distributionDelta(a.dist[field], later))
  return m === null ? null : round(m * 1000, 3)
}

function intervalInternals(a: ComponentPoint | null, b: ComponentPoint | null): Omit<IntervalRate, 't_ms' | 'dt_ms' | 'received_eps' | 'sent_eps' | 'errors' | 'dropped_events'> {
  const cpu = pointDelta(a, b, 'cpu_ns')
  const latencyGauge = b?.latency_mean_s ?? null
  return {
    utilization: b?.utilization !== null && b?.utilization !== undefined ? round(b.utilization, 4) : null,
    latency_mean_ms: deltaMeanMs(a, b, 'latency') ?? (latencyGauge !== null && !b?.dist.latency ? round(latencyGauge * 1000, 3) : null),
    send_latency_mean_ms: deltaMeanMs(a, b, 'send_latency'),
    http_rtt_mean_ms: deltaMeanMs(a, b, 'http_rtt'),
    buffer_utilization: b?.buffer_fill !== null && b?.buffer_fill !== undefined ? round(b.buffer_fill, 4) : null,
    discarded_events: pointDelta(a, b, 'discarded'),
    cpu_usage: cpu !== null && a && b && b.t > a.t ? round(cpu / ((b.t - a.t) * 1e6), 4) : null,
  }
}

type Internals = Pick<
  ComponentMetrics,
  | 'utilization'
  | 'utilization_max'
  | 'utilization_samples'
  | 'latency'
  | 'send_latency'
  | 'send_batch_latency'
  | 'http_rtt'
  | 'buffer_utilization_max'
  | 'buffer_events_max'
  | 'discarded_events'
  | 'cpu_usage'
>

/** What the scrapes say about one component over the whole capture. */
function componentInternals(points: ComponentPoint[], firstScrapeT: number): Internals {
  const util = points.filter((p) => p.utilization !== null)
  // The first scrape's gauge describes the time before the capture (Vector publishes it every 5 s): used only when no later scrape has one.
  const during = util.filter((p) => p.t > firstScrapeT)
  const used = (during.length > 0 ? during : util).map((p) => p.utilization as number)
  const latency: Partial<Record<LatencyField, LatencyStats | null>> = {}
  for (const field of Object.keys(LATENCY_FAMILIES) as LatencyField[]) {
    const withDist = points.filter((p) => p.dist[field])
    const firstD = withDist[0]?.dist[field]
    const lastD = withDist[withDist.length - 1]?.dist[field]
    latency[field] = lastD ? latencyStats(withDist.length > 1 ? firstD : null, lastD, withDist.length > 1 ? 'window' : 'lifetime') : null
  }
  if (!latency.latency) {
    const gauges = points.map((p) => p.latency_mean_s).filter((v): v is number => v !== null)
    if (gauges.length > 0) {
      const mean = gauges.reduce((a, b) => a + b, 0) / gauges.length
      latency.latency = {count: null, mean_ms: round(mean * 1000, 3), p50_ms: null, p95_ms: null, p99_ms: null, scope: gauges.length > 1 ? 'window' : 'lifetime'}
    }
  }
  const series = (key: Counter) => points.filter((p) => p[key] !== null).map((p) => ({t: p.t, v: p[key] as number}))
  const cpu = series('cpu_ns')
  const cpuNs = counterIncrease(cpu)
  const cpuSpan = cpu.length > 1 ? cpu[cpu.length - 1].t - cpu[0].t : 0
  const fills = points.map((p) => p.buffer_fill).filter((v): v is number => v !== null)
  const levels = points.map((p) => p.buffer_events).filter((v): v is number => v !== null)
  return {
    utilization: used.length > 0 ? round(used.reduce((a, b) => a + b, 0) / used.length, 4) : null,
    utilization_max: used.length > 0 ? round(maxOf(used), 4) : null,
    utilization_samples: used.length,
    latency: latency.latency ?? null,
    send_latency: latency.send_latency ?? null,
    send_batch_latency: latency.send_batch_latency ?? null,
    http_rtt: latency.http_rtt ?? null,
    buffer_utilization_max: fills.length > 0 ? round(maxOf(fills), 4) : null,
    buffer_events_max: levels.length > 0 ? maxOf(levels) : null,
    discarded_events: counterIncrease(series('discarded')),
    cpu_usage: cpuNs !== null && cpuSpan > 0 ? round(cpuNs / (cpuSpan * 1e6), 4) : null,
  }
}

/** Math.max without spreading (a long capture has more values than call arguments may hold). */
function maxOf(values: number[]): number {
  return values.reduce((a, b) => (b > a ? b : a), Number.NEGATIVE_INFINITY)
}

function notSent(a: ComponentCounters, b: ComponentCounters): number | null {
  const received = delta(a.received_events, b.received_events)
  const sent = delta(a.sent_events, b.sent_events)
  return received === null || sent === null ? null : Math.max(0, received - sent)
}

function delta(a: number | undefined, b: number | undefined): number | null {
  if (typeof a !== 'number' || typeof b !== 'number' || b < a) return null
  return b - a
}

function rate(a: number | undefined, b: number | undefined, dtMs: number): number | null {
  const d = delta(a, b)
  return d === null ? null : round((d * 1000) / dtMs, 2)
}
