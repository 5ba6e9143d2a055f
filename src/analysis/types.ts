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
}

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
  findings: Finding[]
}
