/**
 * The bundle format: every type and entry name of a vdiag bundle, in one place.
 * The writer (capture) and the reader (replay) both import from here.
 * Documented for humans in docs/bundle-format.md; bump FORMAT_VERSION on any
 * change a reader of the previous version would misread.
 */
import type {ComponentKind, TracingLevel, TracingWindow} from '../protocol/tracing-control.js'

export const FORMAT_VERSION = 1
export const FORMAT_NAME = 'vdiag-bundle'

/** Entry names relative to the bundle's top folder. */
export const ENTRY = {
  manifest: 'manifest.json',
  readme: 'README.txt',
  pipeline: 'pipeline/pipeline.json',
  tracing: 'pipeline/tracing.json',
  metrics: 'metrics/snapshots.ndjson',
  host: 'host/facts.json',
  /** Normalised spans, one JSON object per line (SpanRecord), gzip. */
  spans: 'spans/spans.ndjson.gz',
  /** One line per received trace payload (PayloadRecord). */
  payloadIndex: 'spans/payloads.ndjson',
  /** Raw payload bodies, `spans/payloads/<seq>.msgpack`. */
  payloadDir: 'spans/payloads',
  log: 'vdiag.log',
} as const

export function payloadEntry(seq: number): string {
  return `${ENTRY.payloadDir}/${String(seq).padStart(6, '0')}.msgpack`
}

export type ApiGeneration = 'grpc' | 'graphql' | 'unknown'

// ---------- spans ----------

/**
 * A normalised Datadog span. 64-bit ids and nanosecond times are decimal
 * strings so JSON keeps them exact (epoch ns exceed 2^53).
 */
export interface SpanRecord {
  trace_id: string
  /** Upper 64 bits of a 128-bit trace id as 16 hex chars, from `_dd.p.tid`, propagated to every span of the trace chunk. */
  trace_id_high?: string
  span_id: string
  parent_id: string
  service: string
  name: string
  resource: string
  type?: string
  /** epoch ns */
  start: string
  /** ns */
  duration: string
  error: number
  meta: Record<string, string>
  metrics: Record<string, number>
  /** seq of the payload it arrived in */
  payload: number
}

export type WireVersion = 'v0.4' | 'v0.5'

export interface PayloadRecord {
  seq: number
  /** Entry of the stored body, relative to the bundle root. */
  file: string
  received_at: string
  method: string
  path: string
  version: WireVersion
  /** Content-Type, X-Datadog-Trace-Count and Datadog-Meta-* (lower-cased names). */
  headers: Record<string, string>
  size: number
  spans: number
  traces: number
  /** True when redaction changed a span, so the stored body is a re-encoding rather than the bytes received. */
  reencoded: boolean
}

// ---------- pipeline facts ----------

export interface ComponentInfo {
  id: string
  kind: ComponentKind
  /** The plugin, e.g. `file`, `remap`, `http`. */
  type: string
  outputs: string[]
}

export interface Edge {
  from: string
  to: string
}

export interface PipelineFacts {
  api: {
    url: string
    generation: ApiGeneration
    /** Why this generation was chosen, or what failed. */
    detection: string[]
  }
  version: string | null
  version_string: string | null
  hostname: string | null
  components: ComponentInfo[]
  /** null when the API gives no topology (gRPC). */
  edges: Edge[] | null
  edges_source: 'graphql' | 'config' | 'none'
}

// ---------- metrics ----------

export interface ComponentCounters {
  received_events?: number
  sent_events?: number
  received_bytes?: number
  sent_bytes?: number
  errors?: number
}

/** One line of metrics/snapshots.ndjson: every component's counters at one instant. */
export interface MetricsSnapshot {
  seq: number
  /** Wall clock, RFC 3339, and ms since the capture started on vdiag's monotonic clock. */
  at: string
  t_ms: number
  phase: 'start' | 'interval' | 'end'
  components: Record<string, ComponentCounters>
  error?: string
}

// ---------- tracing ----------

export interface TracingRecord {
  supported: boolean
  /** Why tracing was unavailable, in plain words (when !supported or not opened). */
  reason: string | null
  status_http: number | null
  max_duration_secs: number | null
  requested: {duration_secs: number; level: TracingLevel; endpoint: string} | null
  opened: TracingWindow | null
  /** The last state seen; `state: ended` when the window closed cleanly. */
  final: TracingWindow | null
  ended_cleanly: boolean
  close_error: string | null
}

// ---------- manifest ----------

export type CollectorStatus = 'ok' | 'failed' | 'timeout' | 'skipped' | 'canceled' | 'partial'

export interface CollectorReport {
  status: CollectorStatus
  duration_ms: number
  error?: string
  detail?: string
}

export interface FileEntry {
  path: string
  size: number
  sha256: string
}

export interface RedactionHit {
  rule: string
  count: number
  /** `file` + `field` paths where the rule fired, e.g. spans/spans.ndjson.gz : meta.db.password */
  where: {file: string; field: string; count: number}[]
}

export interface RedactionAudit {
  enabled: boolean
  rules_version: number
  rules: {name: string; kind: 'key' | 'value'; description: string}[]
  hits: RedactionHit[]
  total: number
}

export interface SpanCounts {
  payloads: number
  bad_payloads: number
  oversized_payloads: number
  spans_kept: number
  /** vdiag's own drops: over --max-spans. */
  spans_dropped_vdiag: number
  /** The pipeline's own figures, from the final window. */
  spans_started: number | null
  spans_dropped_pipeline: number | null
  /** started − pipeline-dropped − kept − vdiag-dropped; 0 when nothing went missing. null when unknown. */
  spans_lost: number | null
  traces: number
}

export interface Manifest {
  format: typeof FORMAT_NAME
  format_version: number
  vdiag_version: string
  created_at: string
  complete: boolean
  /** Why the bundle is incomplete, when it is. */
  incomplete_reason: string | null
  command_line: string[]
  capture: {
    api: string
    duration_ms: number
    interval_ms: number
    level: TracingLevel
    max_spans: number
    via: 'local' | 'agent'
    intake: string | null
  }
  pipeline: {
    api_generation: ApiGeneration
    version: string | null
    hostname: string | null
  }
  window: {
    start: string | null
    end: string | null
  }
  collectors: Record<string, CollectorReport>
  counts: SpanCounts
  redaction: RedactionAudit
  files: FileEntry[]
}
