/**
 * metrics/prometheus.ndjson → per component, one compact point per scrape:
 * only the numbers the analysis uses (utilization, counters, latency
 * distributions, buffer fill, CPU). The file is read line by line and each
 * scrape is reduced as it arrives, so a long capture of a large pipeline never
 * holds its raw scrapes.
 */
import {ENTRY, type PrometheusComponentSample, type PrometheusRecord, type PrometheusSeries} from '../bundle/format.js'
import {forEachNdjsonRecord} from './bundle-files.js'
import type {InternalMetricsSummary} from './types.js'

/** A latency family merged over its series (outputs, stages) at one scrape. Values in seconds. */
export interface Distribution {
  kind: 'histogram' | 'summary'
  sum: number | null
  count: number | null
  /** histogram: `[le, cumulative count]` by le */
  buckets: [number, number][]
  /** summary: `[quantile, value]` */
  quantiles: [number, number | null][]
}

/** Latency families the analysis reports, by the ComponentMetrics field they fill. */
export const LATENCY_FAMILIES = {
  latency: 'component_latency_seconds',
  send_latency: 'source_send_latency_seconds',
  send_batch_latency: 'source_send_batch_latency_seconds',
  http_rtt: 'http_client_rtt_seconds',
} as const
export type LatencyField = keyof typeof LATENCY_FAMILIES

/** One component at one scrape. Every value is null when the scrape did not hold it. */
export interface ComponentPoint {
  /** ms on vdiag's capture clock (the record's t_ms) */
  t: number
  utilization: number | null
  received: number | null
  sent: number | null
  errors: number | null
  discarded: number | null
  cpu_ns: number | null
  /** `component_latency_mean_seconds` (a gauge), seconds */
  latency_mean_s: number | null
  /** the fullest buffer: events over capacity, 0..1, and the most events in one buffer */
  buffer_fill: number | null
  buffer_events: number | null
  dist: Partial<Record<LatencyField, Distribution>>
}

export interface PrometheusSeriesSet {
  /** Per component id, points in time order. */
  points: Map<string, ComponentPoint[]>
  /** Successful scrapes in time order: their capture-clock time and wall clock. */
  scrapes: {t: number; at: string}[]
  /** `component_kind` / `component_type` labels per component id, for components the pipeline facts lack. */
  identities: Map<string, {kind: string | null; type: string | null}>
  summary: InternalMetricsSummary
}

/** Scrape lines read; a capture writes one per interval. */
export const MAX_PROMETHEUS_SCRAPES = 100_000

/** Reduces scrapes one at a time; `finish()` gives the series. */
export class PrometheusAccumulator {
  private readonly points = new Map<string, ComponentPoint[]>()
  private readonly identities = new Map<string, {kind: string | null; type: string | null}>()
  private readonly scrapes: {t: number; at: string}[] = []
  private readonly families = new Set<string>()
  private readonly withUtilization = new Set<string>()
  private prefix: string | null = null
  private total = 0
  private failed = 0
  private firstError: string | null = null

  add(record: PrometheusRecord): void {
    if (!record || typeof record !== 'object') return
    this.total++
    const scrape = record.scrape
    const t = record.t_ms
    if (!scrape || typeof scrape !== 'object' || typeof t !== 'number' || !Number.isFinite(t)) {
      this.failed++
      if (this.firstError === null) this.firstError = typeof record.error === 'string' ? record.error : 'the scrape holds no data'
      return
    }
    if (typeof scrape.prefix === 'string' && this.prefix === null) this.prefix = scrape.prefix
    this.scrapes.push({t, at: typeof record.at === 'string' ? record.at : ''})
    const components = scrape.components && typeof scrape.components === 'object' ? scrape.components : {}
    for (const [id, sample] of Object.entries(components)) {
      if (!sample || typeof sample !== 'object' || !sample.metrics || typeof sample.metrics !== 'object') continue
      for (const name of Object.keys(sample.metrics)) this.families.add(name)
      if (!this.identities.has(id)) {
        this.identities.set(id, {kind: typeof sample.kind === 'string' ? sample.kind : null, type: typeof sample.type === 'string' ? sample.type : null})
      }
      const point = reducePoint(t, sample, scrape.types ?? {})
      if (point.utilization !== null) this.withUtilization.add(id)
      let list = this.points.get(id)
      if (!list) this.points.set(id, (list = []))
      list.push(point)
    }
  }

  finish(): PrometheusSeriesSet {
    const byTime = (a: {t: number}, b: {t: number}) => a.t - b.t
    for (const list of this.points.values()) list.sort(byTime)
    return {
      points: this.points,
      scrapes: [...this.scrapes].sort(byTime),
      identities: this.identities,
      summary: {
        scrapes: this.total,
        failed: this.failed,
        prefix: this.prefix,
        families: [...this.families].sort(),
        utilization_components: this.withUtilization.size,
        first_error: this.firstError,
      },
    }
  }
}

/** Null when the bundle has no scrapes file; unparsable lines are noted in `problems`. */
export async function readPrometheusSeries(root: string, problems: string[], maxLines = MAX_PROMETHEUS_SCRAPES): Promise<PrometheusSeriesSet | null> {
  const acc = new PrometheusAccumulator()
  if (!(await forEachNdjsonRecord<PrometheusRecord>(root, ENTRY.prometheus, problems, maxLines, (r) => acc.add(r)))) return null
  return acc.finish()
}

function reducePoint(t: number, sample: PrometheusComponentSample, types: Record<string, string>): ComponentPoint {
  const m = sample.metrics
  const util = values(m.utilization).filter((v) => v >= 0 && v <= 1)
  const dist: ComponentPoint['dist'] = {}
  for (const [field, family] of Object.entries(LATENCY_FAMILIES) as [LatencyField, string][]) {
    const d = mergeDistribution(m[family], types[family])
    if (d) dist[field] = d
  }
  const meanGauge = values(m.component_latency_mean_seconds)
  const buffers = bufferLevels(m)
  return {
    t,
    utilization: util.length > 0 ? util.reduce((a, b) => a + b, 0) / util.length : null,
    received: total(m.component_received_events_total),
    sent: total(m.component_sent_events_total),
    errors: total(m.component_errors_total),
    discarded: total(m.component_discarded_events_total),
    cpu_ns: total(m.component_cpu_usage_ns_total),
    latency_mean_s: meanGauge.length > 0 ? meanGauge.reduce((a, b) => a + b, 0) / meanGauge.length : null,
    buffer_fill: buffers.fill,
    buffer_events: buffers.events,
    dist,
  }
}

function list(series: unknown): PrometheusSeries[] {
  return Array.isArray(series) ? series.filter((s): s is PrometheusSeries => Boolean(s) && typeof s === 'object') : []
}

function values(series: unknown): number[] {
  return list(series)
    .map((s) => s.value)
    .filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
}

/** Sum over the series (a counter split by labels such as `output` or `error_type`); null when absent. */
function total(series: unknown): number | null {
  const v = values(series)
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0)
}

/** Histograms (or summaries) of one family summed over their series, bucket by bucket. */
export function mergeDistribution(series: unknown, type: string | undefined): Distribution | null {
  const all = list(series)
  if (all.length === 0) return null
  const summary = type === 'summary' || all.some((s) => Array.isArray(s.quantiles))
  let sum: number | null = null
  let count: number | null = null
  const buckets = new Map<number, number>()
  let quantiles: [number, number | null][] = []
  for (const s of all) {
    if (typeof s.sum === 'number' && Number.isFinite(s.sum)) sum = (sum ?? 0) + s.sum
    if (typeof s.count === 'number' && Number.isFinite(s.count)) count = (count ?? 0) + s.count
    if (Array.isArray(s.buckets)) {
      for (const b of s.buckets) {
        if (!Array.isArray(b) || typeof b[0] !== 'number' || typeof b[1] !== 'number' || !Number.isFinite(b[0]) || !Number.isFinite(b[1])) continue
        buckets.set(b[0], (buckets.get(b[0]) ?? 0) + b[1])
      }
    }
    // Quantiles of several series cannot be merged; one series is what Vector writes per component.
    if (Array.isArray(s.quantiles) && quantiles.length === 0) {
      quantiles = s.quantiles.filter((q): q is [number, number | null] => Array.isArray(q) && typeof q[0] === 'number')
    }
  }
  if (sum === null && count === null && buckets.size === 0 && quantiles.length === 0) return null
  return {
    kind: summary ? 'summary' : 'histogram',
    sum,
    count,
    buckets: [...buckets.entries()].sort((a, b) => a[0] - b[0]),
    quantiles,
  }
}

/**
 * Buffer fill: `<kind>_buffer_utilization_level` (events in a source's output
 * or a transform's input buffer, Vector ≥ 0.52) or `buffer_size_events` (a
 * sink's buffer), over the matching `…buffer_max_size_events` capacity (older
 * name `…buffer_max_event_size`). The EWMA `…_mean` stands in for a missing
 * level. The fullest buffer wins.
 */
function bufferLevels(m: Record<string, PrometheusSeries[]>): {fill: number | null; events: number | null} {
  let fill: number | null = null
  let events: number | null = null
  const levelOf = (prefix: string, kind: 'pipeline' | 'sink'): number | null =>
    kind === 'sink'
      ? total(m[`${prefix}buffer_size_events`]) ?? total(m[`${prefix}buffer_events`])
      : total(m[`${prefix}buffer_utilization_level`]) ?? total(m[`${prefix}buffer_utilization_mean`])
  const prefixes = new Set<string>()
  for (const name of Object.keys(m)) {
    const match = /^(.*?)buffer_(?:utilization_level|utilization_mean|size_events|events)$/.exec(name)
    if (match) prefixes.add(match[1])
  }
  for (const prefix of prefixes) {
    for (const kind of ['pipeline', 'sink'] as const) {
      const level = levelOf(prefix, kind)
      if (level === null) continue
      events = Math.max(events ?? 0, level)
      const capacity = total(m[`${prefix}buffer_max_size_events`]) ?? total(m[`${prefix}buffer_max_event_size`])
      if (capacity !== null && capacity > 0) fill = Math.max(fill ?? 0, Math.min(1, Math.max(0, level / capacity)))
    }
  }
  return {fill, events}
}
