/**
 * Vector's timing metrics (utilization, latencies, buffers, CPU) exist only in
 * its `internal_metrics`, usually served by a `prometheus_exporter` sink. This
 * scrapes that exposition, keeps the families that matter for performance per
 * component, with or without the sink's namespace prefix, and records scrapes
 * at the start, every interval and the end as NDJSON.
 */
import type {
  PrometheusComponentSample,
  PrometheusMetricType,
  PrometheusProbe,
  PrometheusScrape,
  PrometheusSeries,
} from '../bundle/format.js'
import {errorMessage, isVdiagError, usageError, VdiagError} from '../errors.js'
import {displayUrl, quote} from './api-errors.js'
import {readJson, request} from './http.js'
import {parseExposition, parseValue, type ExpositionFamily, type ExpositionSample} from './prometheus-text.js'

/** Where Vector's `prometheus_exporter` listens by default (0.0.0.0:9598), as seen from the same host. */
export const DEFAULT_METRICS_URL = 'http://127.0.0.1:9598/metrics'
/** Vector's `prometheus_exporter` default `default_namespace`. */
export const DEFAULT_PREFIX = 'vector_'

/**
 * The exporter renders from memory; 3 s tolerates a loaded host yet keeps a
 * scrape well inside the shortest capture interval (1 s is the minimum, so a
 * slow scrape delays one interval at most by this much).
 */
export const SCRAPE_TIMEOUT_MS = 3_000
/** The unasked-for default address is tried once, briefly: nothing there is the common case and must not slow the capture. */
export const PROBE_TIMEOUT_MS = 1_000
/**
 * A pipeline with a few hundred components and every histogram is a few MiB of
 * text; 32 MiB bounds a hostile or endless body while one scrape per interval
 * stays cheap in memory.
 */
export const MAX_EXPOSITION_BYTES = 32 * 1024 * 1024

export const HINT_METRICS =
  "Check that the pipeline has an `internal_metrics` source feeding a `prometheus_exporter` sink and that --metrics-url points at that sink's address (Vector's default is 0.0.0.0:9598, path /metrics)."

/** Families kept exactly (names without the namespace prefix). */
const PERFORMANCE_FAMILIES = new Set([
  'utilization',
  'component_latency_seconds',
  'component_latency_mean_seconds',
  'source_send_latency_seconds',
  'source_send_batch_latency_seconds',
  'buffer_size_events',
  'buffer_size_bytes',
  'component_errors_total',
  'component_discarded_events_total',
  'component_cpu_usage_ns_total',
  'http_client_rtt_seconds',
  'component_received_events_total',
  'component_sent_events_total',
])
/** `source_buffer_utilization`, `transform_buffer_utilization_level`, `buffer_max_size_events`, … */
const PERFORMANCE_PATTERNS = [/^(?:[a-z]+_)?buffer_utilization(?:_[a-z]+)?$/, /^(?:[a-z]+_)?buffer_max_size_(?:events|bytes)$/]

/**
 * Families every Vector internal_metrics exposition carries; the prefix in
 * front of them is the sink's namespace. `utilization` behind a `..._buffer_`
 * prefix is a buffer family, not a namespace, and is not counted.
 */
const PREFIX_ANCHORS = [
  'component_received_events_total',
  'component_sent_events_total',
  'component_received_bytes_total',
  'component_sent_bytes_total',
  'component_errors_total',
  'component_discarded_events_total',
  'utilization',
]

/** Labels on every Vector series that say nothing about the series itself. */
const IDENTITY_LABELS = new Set(['component_id', 'component_kind', 'component_type', 'host', 'pid'])

export function isPerformanceFamily(base: string): boolean {
  return PERFORMANCE_FAMILIES.has(base) || PERFORMANCE_PATTERNS.some((p) => p.test(base))
}

/** Could `name` be a performance family behind some namespace prefix? (decides what the parser stores) */
function mightBePerformance(name: string): boolean {
  for (let k = 0; k < name.length; k++) {
    if ((k === 0 || name[k - 1] === '_') && isPerformanceFamily(name.slice(k))) return true
  }
  return false
}

/**
 * The namespace prefix most Vector anchor families share. Without any anchor
 * (a trimmed exposition), the shortest prefix in front of a performance
 * family votes instead. null when neither is present.
 */
export function detectPrefix(names: Iterable<string>): string | null {
  const list = [...names]
  const votes = new Map<string, number>()
  const vote = (prefix: string) => votes.set(prefix, (votes.get(prefix) ?? 0) + 1)
  for (const name of list) {
    for (const anchor of PREFIX_ANCHORS) {
      if (!name.endsWith(anchor)) continue
      const prefix = name.slice(0, name.length - anchor.length)
      if (prefix !== '' && !prefix.endsWith('_')) continue
      if (anchor === 'utilization' && prefix.endsWith('buffer_')) continue
      vote(prefix)
    }
  }
  if (votes.size === 0) {
    for (const name of list) {
      for (let k = 0; k < name.length; k++) {
        if ((k === 0 || name[k - 1] === '_') && isPerformanceFamily(name.slice(k))) {
          vote(name.slice(0, k))
          break
        }
      }
    }
  }
  let best: string | null = null
  let bestVotes = 0
  for (const [prefix, n] of votes) {
    const better = n > bestVotes || (n === bestVotes && best !== null && prefixRank(prefix) < prefixRank(best))
    if (better) {
      best = prefix
      bestVotes = n
    }
  }
  return best
}

/** Ties go to Vector's default namespace, then to none, then to the shorter. */
function prefixRank(prefix: string): number {
  if (prefix === DEFAULT_PREFIX) return -2
  if (prefix === '') return -1
  return prefix.length
}

export interface SummariseOptions {
  /** The sink's namespace when known (`--metrics-prefix`); detected from the families otherwise. */
  prefix?: string
}

/** Parses exposition text and keeps the performance families per component. */
export function summariseExposition(text: string, opts: SummariseOptions = {}): PrometheusScrape {
  const parsed = parseExposition(text, {keep: mightBePerformance})
  const prefix = opts.prefix ?? detectPrefix(parsed.names)
  const scrape: PrometheusScrape = {
    prefix,
    types: {},
    components: {},
    bytes: Buffer.byteLength(text),
    lines: parsed.lines,
    samples: parsed.samples,
    skipped_lines: parsed.skipped,
    unattributed: 0,
  }
  if (parsed.problems.length > 0) scrape.problems = parsed.problems
  if (prefix === null) return scrape
  for (const family of parsed.families.values()) {
    if (!family.name.startsWith(prefix)) continue
    const base = family.name.slice(prefix.length)
    if (!isPerformanceFamily(base)) continue
    const series = seriesOf(family)
    for (const s of series) {
      if (s.componentId === undefined) {
        scrape.unattributed++
        continue
      }
      const component = (scrape.components[s.componentId] ??= {kind: null, type: null, metrics: {}} as PrometheusComponentSample)
      component.kind ??= s.kind ?? null
      component.type ??= s.type ?? null
      ;(component.metrics[base] ??= []).push(s.series)
      scrape.types[base] = family.type as PrometheusMetricType
    }
  }
  return scrape
}

interface AttributedSeries {
  componentId: string | undefined
  kind: string | undefined
  type: string | undefined
  series: PrometheusSeries
}

/** One entry per series; a histogram's or summary's lines are folded into one. */
function seriesOf(family: ExpositionFamily): AttributedSeries[] {
  const groups = new Map<string, {first: ExpositionSample; samples: ExpositionSample[]}>()
  for (const sample of family.samples) {
    const key = groupKey(sample.labels)
    const g = groups.get(key)
    if (g) g.samples.push(sample)
    else groups.set(key, {first: sample, samples: [sample]})
  }
  const out: AttributedSeries[] = []
  for (const {first, samples} of groups.values()) {
    const series: PrometheusSeries = {}
    const extra = extraLabels(first.labels)
    if (extra) series.labels = extra
    if (family.type === 'histogram' || family.type === 'summary') foldDistribution(family, samples, series)
    else series.value = jsonNumber(first.value)
    const ts = samples.reduce<number | undefined>((max, s) => (s.timestamp !== undefined && (max === undefined || s.timestamp > max) ? s.timestamp : max), undefined)
    if (ts !== undefined) series.ts = ts
    out.push({componentId: first.labels.component_id, kind: first.labels.component_kind, type: first.labels.component_type, series})
  }
  return out
}

function foldDistribution(family: ExpositionFamily, samples: ExpositionSample[], series: PrometheusSeries): void {
  const buckets: [number, number][] = []
  const quantiles: [number, number | null][] = []
  let infBucket: number | undefined
  for (const s of samples) {
    const suffix = s.name.slice(family.name.length)
    if (suffix === '_sum') series.sum = jsonNumber(s.value)
    else if (suffix === '_count') series.count = jsonNumber(s.value)
    else if (suffix === '_bucket') {
      const le = parseValue(s.labels.le)
      if (le === Infinity) infBucket = s.value
      else if (Number.isFinite(s.value)) buckets.push([le, s.value])
    } else quantiles.push([parseValue(s.labels.quantile), jsonNumber(s.value)])
  }
  if (series.count === undefined && infBucket !== undefined) series.count = jsonNumber(infBucket)
  if (family.type === 'histogram') series.buckets = buckets.sort((a, b) => a[0] - b[0])
  else series.quantiles = quantiles.sort((a, b) => a[0] - b[0])
}

function groupKey(labels: Record<string, string>): string {
  return Object.keys(labels)
    .filter((k) => k !== 'le' && k !== 'quantile')
    .sort()
    .map((k) => `${k}\u0001${labels[k]}`)
    .join('\u0002')
}

function extraLabels(labels: Record<string, string>): Record<string, string> | undefined {
  const extra = Object.entries(labels).filter(([k]) => !IDENTITY_LABELS.has(k) && k !== 'le' && k !== 'quantile')
  return extra.length === 0 ? undefined : Object.fromEntries(extra)
}

function jsonNumber(v: number): number | null {
  return Number.isFinite(v) ? v : null
}

// ---------- over HTTP ----------

export interface ScrapeOptions extends SummariseOptions {
  timeoutMs?: number
  maxBytes?: number
  signal?: AbortSignal
}

/** A usable http(s) URL, or a usage error naming --metrics-url. */
export function checkMetricsUrl(url: string): URL {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw usageError(`--metrics-url: "${displayUrl(url)}" is not a URL`, `use the exporter's full URL, e.g. --metrics-url ${DEFAULT_METRICS_URL}`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw usageError(`--metrics-url: "${displayUrl(url)}" must start with http:// or https://`, `e.g. --metrics-url ${DEFAULT_METRICS_URL}`)
  }
  return parsed
}

/**
 * One scrape, reduced to the performance families per component. Throws
 * `usage` for a malformed URL, `interrupted` when `signal` fires, `failed`
 * (with the reason in details.reason) for anything else.
 */
export async function scrapeOnce(url: string, opts: ScrapeOptions = {}): Promise<PrometheusScrape> {
  checkMetricsUrl(url)
  const shown = displayUrl(url)
  const timeoutMs = opts.timeoutMs ?? SCRAPE_TIMEOUT_MS
  const fail = (reason: string, extra: Record<string, unknown> = {}) =>
    new VdiagError('failed', `vdiag could not scrape the Prometheus metrics at ${shown}: ${reason}.`, {hint: HINT_METRICS, details: {url: shown, reason, ...extra}})
  let reply
  try {
    // No token: the exporter is not the admin API, and a token must not travel to another service.
    reply = await request({url, timeoutMs}, {path: '', timeoutMs, maxBytes: opts.maxBytes ?? MAX_EXPOSITION_BYTES, signal: opts.signal})
  } catch (e) {
    if (isVdiagError(e) && (e.code === 'interrupted' || e.code === 'usage')) throw e
    const reason = isVdiagError(e) && typeof e.details?.reason === 'string' ? e.details.reason : errorMessage(e)
    throw fail(reason)
  }
  if (reply.status !== 200) throw fail(`HTTP ${reply.status}${reply.status === 404 ? ' (nothing is served at that path; the exporter serves /metrics)' : ''}`, {http: reply.status})
  const type = reply.contentType
  if (type === 'text/html' || type === 'application/json' || type.startsWith('application/grpc')) {
    const parsed = type === 'application/json' ? readJson(reply) : undefined
    const what = parsed?.ok === false ? parsed.reason : `content-type ${type}`
    throw fail(`the reply is not a Prometheus text exposition (${what})`, {http: reply.status})
  }
  const text = reply.body.toString('utf8')
  const scrape = summariseExposition(text, {prefix: opts.prefix})
  if (scrape.samples === 0 && scrape.skipped_lines > 0) {
    throw fail(`none of the ${scrape.lines} lines of the reply is a Prometheus sample (e.g. ${quote(scrape.problems?.[0] ?? '')})`, {http: reply.status})
  }
  return scrape
}

export interface ProbeOptions extends SummariseOptions {
  timeoutMs?: number
  signal?: AbortSignal
  /** The user named this URL (true) or vdiag tries its default (false). */
  explicit?: boolean
}

/** Tries a metrics URL once, briefly; never throws. `found` means Vector's internal metrics answered there. */
export async function probeMetricsUrl(url: string, opts: ProbeOptions = {}): Promise<PrometheusProbe> {
  const probe: PrometheusProbe = {url: displayUrl(url), found: false, explicit: opts.explicit ?? false, http_status: null, prefix: null, components: 0, reason: ''}
  try {
    const scrape = await scrapeOnce(url, {timeoutMs: opts.timeoutMs ?? PROBE_TIMEOUT_MS, signal: opts.signal, prefix: opts.prefix})
    probe.http_status = 200
    probe.prefix = scrape.prefix
    probe.components = Object.keys(scrape.components).length
    if (scrape.prefix === null) {
      probe.reason = `a Prometheus exposition answered (${scrape.samples} samples), but without Vector's internal metrics (no component_* or utilization families)`
    } else {
      probe.found = true
      probe.reason = `Vector's internal metrics answered: prefix "${scrape.prefix}", ${probe.components} components with performance metrics`
    }
  } catch (e) {
    const http = isVdiagError(e) ? e.details?.http : undefined
    if (typeof http === 'number') probe.http_status = http
    const reason = isVdiagError(e) && typeof e.details?.reason === 'string' ? e.details.reason : errorMessage(e)
    probe.reason = isVdiagError(e) && e.code === 'interrupted' ? 'canceled' : `nothing usable answered: ${reason}`
  }
  return probe
}

export type PrometheusSource = () => Promise<PrometheusScrape>

/** A recorder source that scrapes `url` each time. */
export function prometheusSource(url: string, opts: ScrapeOptions = {}): PrometheusSource {
  return () => scrapeOnce(url, opts)
}
