/**
 * The result of analysing a bundle: plain data, independent of any output
 * format. `vdiag replay --json` prints it (docs/replay-json.md is its schema);
 * the terminal and HTML reports render it.
 */
import type {ApiGeneration, ComponentInfo, Edge} from '../bundle/format.js'
import type {ComponentKind, TracingLevel} from '../protocol/tracing-control.js'

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info'

export interface Finding {
  /** Stable identifier of the detector/finding kind, e.g. `bottleneck.sink_send`. */
  id: string
  severity: Severity
  component: string | null
  stage: string | null
  /** One sentence a support engineer can paste into a ticket. */
  summary: string
  evidence: Record<string, unknown>
}

export interface StageStats {
  name: string
  count: number
  self_ms: number
  total_ms: number
  /** self time over the component's total iteration time, 0..1 */
  share: number
  /** total (inclusive) time over the component's total iteration time, 0..1 */
  total_share: number
  p50_ms: number
  p95_ms: number
  p99_ms: number
  /** Present when spans carry cpu_ns. */
  cpu_ms?: number
  off_cpu_ms?: number
  /** Fraction of this stage's spans that carried cpu_ns (the split covers only those). */
  cpu_coverage?: number
  errors: number
  substages: StageStats[]
}

export interface ComponentStats {
  id: string
  kind: ComponentKind
  type: string
  iterations: number
  /** Sum of iteration wall time, ms. */
  wall_ms: number
  /** wall − idle stages, ms */
  busy_ms: number
  /** time in idle stages (`sleep`, `wait`), ms */
  idle_ms: number
  /** busy time blocked handing events downstream (`send` of sources and transforms), ms */
  blocked_ms: number
  /** (wall − idle stages) / window, 0..1 */
  busy_share: number
  /** union(iteration intervals) / window, 0..1 */
  coverage: number
  /** Iteration time not covered by any stage, ms. */
  untracked_ms: number
  /** untracked_ms over wall_ms, 0..1 */
  untracked_share: number
  errors: number
  top_errors: {message: string; count: number}[]
  stages: StageStats[]
}

export interface IntervalRate {
  /** ms since window start */
  t_ms: number
  dt_ms: number
  received_eps: number | null
  sent_eps: number | null
  errors: number | null
  /** received − sent in the interval (0 when negative): events that went in but not out; always written by analyseBundle */
  dropped_events?: number | null
  /** Vector's `utilization` gauge at the interval's end, when scraped. */
  utilization: number | null
  /** The following come from the Prometheus scrapes (internal_metrics); null when not scraped. Always written by analyseBundle. */
  /** Mean `component_latency_seconds` of the events observed in the interval, ms. */
  latency_mean_ms?: number | null
  /** Mean `source_send_latency_seconds` in the interval, ms. */
  send_latency_mean_ms?: number | null
  /** Mean `http_client_rtt_seconds` in the interval, ms. */
  http_rtt_mean_ms?: number | null
  /** Fullest buffer of the component at the interval's end (events over capacity), 0..1. */
  buffer_utilization?: number | null
  /** `component_discarded_events_total` increase in the interval. */
  discarded_events?: number | null
  /** `component_cpu_usage_ns_total` increase over the interval's length: CPU cores in use (1 = one core). */
  cpu_usage?: number | null
}

/** A latency distribution from a Prometheus histogram (or summary) of the internal metrics. */
export interface LatencyStats {
  /** Observations (histogram count increase); null for a gauge of means. */
  count: number | null
  mean_ms: number | null
  /** Estimated from the buckets (linear within a bucket, as Prometheus' histogram_quantile); a summary's own quantiles. */
  p50_ms: number | null
  p95_ms: number | null
  p99_ms: number | null
  /** `window`: increase between the first and last scrape; `lifetime`: a single scrape, since the pipeline started. */
  scope: 'window' | 'lifetime'
}

export type ErrorsSource = 'errors_stream' | 'snapshots' | 'prometheus'

export interface ComponentMetrics {
  id: string
  intervals: IntervalRate[]
  received_events: number | null
  sent_events: number | null
  /** received − sent over the capture, for transforms and sinks. */
  dropped_events: number | null
  /** errors counter increase over the capture */
  errors: number | null
  /** mean rates over the capture, events/s */
  received_eps: number | null
  sent_eps: number | null
  /** mean of the interval utilization values, when scraped */
  utilization: number | null
  /** The following are always written by analyseBundle (null when the bundle lacks the data). */
  /** highest `utilization` seen, and how many scrapes held the gauge */
  utilization_max?: number | null
  utilization_samples?: number
  /** errors over the capture per second, and where `errors` came from */
  errors_per_s?: number | null
  errors_source?: ErrorsSource | null
  /** `component_latency_seconds` (transforms: time in the transform incl. its input queue) */
  latency?: LatencyStats | null
  /** `source_send_latency_seconds` / `source_send_batch_latency_seconds` (sources blocked on downstream) */
  send_latency?: LatencyStats | null
  send_batch_latency?: LatencyStats | null
  /** `http_client_rtt_seconds` (sinks' requests) */
  http_rtt?: LatencyStats | null
  /** fullest buffer seen (events over capacity, 0..1) and the most events seen in one buffer */
  buffer_utilization_max?: number | null
  buffer_events_max?: number | null
  /** `component_discarded_events_total` increase over the capture */
  discarded_events?: number | null
  /** mean CPU cores in use over the capture (`component_cpu_usage_ns_total`) */
  cpu_usage?: number | null
}

/** What the bundle's Prometheus scrapes held (metrics/prometheus.ndjson). */
export interface InternalMetricsSummary {
  scrapes: number
  failed: number
  /** Namespace prefix of the families (`vector_`), null when no Vector family was seen. */
  prefix: string | null
  /** Families seen in at least one scrape (without the prefix). */
  families: string[]
  /** Components with at least one `utilization` sample. */
  utilization_components: number
  /** The first scrape error, when some failed. */
  first_error: string | null
}

/** The config files captured with --config (config/index.json), without their content. */
export interface ConfigSummary {
  files: {source: string; entry: string | null; format: string | null; ok: boolean; error: string | null; components: string[]}[]
  /** Components and edges the files define, and `inputs` that matched nothing. */
  component_count: number
  edge_count: number
  unresolved_inputs: number
  errors: {source: string; error: string}[]
  warnings: string[]
}

/** The log tails captured with --logs (logs/index.json), without their content. */
export interface LogsSummary {
  since: string | null
  until: string | null
  max_bytes: number | null
  sources: {
    spec: string
    kind: string
    entry: string | null
    status: string
    error: string | null
    selection: string | null
    lines: number
    bytes_read: number
    truncated: boolean
    first_timestamp: string | null
    last_timestamp: string | null
  }[]
}

export interface TimelineIteration {
  /** ms since window start */
  t_ms: number
  dur_ms: number
  /** the stage with the most self time in this iteration */
  dominant: string
  error: boolean
}

export interface AnalysisResult {
  bundle: {
    path: string
    format_version: number
    verified: boolean
    complete: boolean
    incomplete_reason: string | null
    /** vdiag version that wrote the bundle */
    vdiag_version: string | null
    created_at: string | null
    /** Entries that could not be read; the analysis went on without them. */
    problems: string[]
  }
  pipeline: {version: string | null; hostname: string | null; api: ApiGeneration}
  window: {start: string | null; end: string | null; duration_s: number; source: 'tracing' | 'manifest' | 'spans' | 'none'}
  spans: {
    total: number
    traces: number
    dropped: number
    lost: number | null
    tracing_available: boolean
    tracing_reason: string | null
    /** tracing level of the window (`debug` adds sub-stages) */
    level: TracingLevel | null
    /** spans not attached to an iteration (parent never arrived, or not a protocol span) */
    orphans: number
    /** lines of the spans file that were not usable spans */
    malformed: number
  }
  topology: {
    components: ComponentInfo[]
    edges: Edge[]
    inferred: boolean
    edges_source: 'graphql' | 'config' | 'kinds' | 'none'
    /** component ids, upstream first */
    order: string[]
  }
  components: ComponentStats[]
  metrics: ComponentMetrics[]
  /** Per component, iterations over the window (capped sample for reports). */
  timeline: Record<string, TimelineIteration[]>
  /** Always written by analyseBundle: null when the bundle has no such entry. */
  internal_metrics?: InternalMetricsSummary | null
  config?: ConfigSummary | null
  logs?: LogsSummary | null
  findings: Finding[]
}
