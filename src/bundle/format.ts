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
  /** Scrapes of the pipeline's Prometheus exposition (internal_metrics), one PrometheusRecord per line. */
  prometheus: 'metrics/prometheus.ndjson',
  /** Per-component error totals streamed from the admin API over the window, one ErrorsRecord per line. */
  errors: 'metrics/errors.ndjson',
  /** The pipeline's config files, redacted (`config/<n>-<name>`, see configEntry), and their ConfigCollection. */
  configDir: 'config',
  configIndex: 'config/index.json',
  /** Tails of the pipeline's logs, redacted (`logs/<n>-<name>.log`, see logEntry), and their LogCollection. */
  logsDir: 'logs',
  logsIndex: 'logs/index.json',
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
  /** How many more distinct (file, field) places the rule fired in beyond those listed (the list is capped). */
  where_more?: number
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
    /** --via agent: the Datadog Agent the pipeline's requests were forwarded to, and how that went. */
    agent?: AgentRecord
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

// ---------- the Datadog Agent (capture --via agent) ----------

/** The Agent's `/info`, asked once before the window with a bounded timeout. */
export interface AgentInfoRecord {
  /** Something answered HTTP at the Agent's address (even if /info itself failed). */
  reachable: boolean
  http_status: number | null
  version: string | null
  endpoints: string[] | null
  /** Why /info could not be asked or read, in plain words; null when it answered. */
  error: string | null
  checked_at: string
  duration_ms: number
}

/**
 * What became of the requests the pipeline sent through vdiag's tee. Each
 * request is counted once in exactly one of forwarded_ok, agent_errors,
 * failed and not_tried (they add up to `requests`).
 */
export interface AgentForwardCounts {
  requests: number
  /** The Agent answered 2xx (relayed to the pipeline, or to a background probe). */
  forwarded_ok: number
  /** The Agent answered with another status, relayed to the pipeline as it was. */
  agent_errors: number
  /** Sent to the Agent, which did not answer within the deadline or broke the connection. */
  failed: number
  /** Not sent: the Agent had just failed, so vdiag answered at once (circuit breaker open). */
  not_tried: number
  /** Requests the pipeline got vdiag's own answer to instead of the Agent's. */
  answered_locally: number
  trace_payloads: number
  /** Trace payloads the Agent did not accept (no 2xx); their spans are in the bundle all the same. */
  trace_payloads_missed: number
  spans_missed: number
  /** Times the Agent went from answering to not answering. */
  outages: number
  /** Background requests sent to find out whether the Agent was back. */
  probes: number
  last_error: string | null
}

export interface AgentRecord {
  url: string
  info: AgentInfoRecord
  /** How long the tee waited for the Agent's answer to one request before answering the pipeline itself. */
  deadline_ms: number
  forwarding: AgentForwardCounts
  /**
   * Seqs of the stored payloads redaction re-encoded (also flagged in the
   * payload index): the Agent received the pipeline's original bytes, the
   * bundle holds the redacted re-encoding. Every other stored payload is
   * byte-identical to what the Agent received. Listed up to a cap.
   */
  reencoded_payloads: number[]
  reencoded_payloads_total: number
}

// ---------- Prometheus internal metrics ----------

export type PrometheusMetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'

/**
 * One series of a kept family for one component. Values that are NaN or
 * infinite in the exposition are null (JSON has neither).
 */
export interface PrometheusSeries {
  /** Labels besides component_id/kind/type, host and pid (e.g. `stage`, `error_type`, `output`); absent when none. */
  labels?: Record<string, string>
  /** counter, gauge, untyped */
  value?: number | null
  /** histogram and summary */
  sum?: number | null
  count?: number | null
  /** histogram: `[le, cumulative count]` sorted by le; the +Inf bucket is `count`. */
  buckets?: [number, number][]
  /** summary: `[quantile, value]` sorted by quantile. */
  quantiles?: [number, number | null][]
  /** ms since the epoch, when the exposition stamps the sample (Vector does by default). */
  ts?: number
}

export interface PrometheusComponentSample {
  /** `component_kind` / `component_type` labels, null when absent. */
  kind: string | null
  type: string | null
  /** Family name without the namespace prefix, e.g. `utilization`, `component_latency_seconds`. */
  metrics: Record<string, PrometheusSeries[]>
}

/** One scrape, reduced to the families that matter for performance, per component. */
export interface PrometheusScrape {
  /** Namespace prefix of the families, e.g. `vector_` ('' without one); null when no Vector family was found. */
  prefix: string | null
  /** Type of each kept family (unprefixed name). */
  types: Record<string, PrometheusMetricType>
  components: Record<string, PrometheusComponentSample>
  bytes: number
  /** Non-empty lines and sample lines read. */
  lines: number
  samples: number
  /** Lines that broke the format and were skipped, with the first few reasons. */
  skipped_lines: number
  problems?: string[]
  /** Series of kept families without a component_id label (left out). */
  unattributed: number
}

/** One line of metrics/prometheus.ndjson. */
export interface PrometheusRecord {
  seq: number
  at: string
  t_ms: number
  phase: 'start' | 'interval' | 'end'
  /** null when the scrape failed (see `error`). */
  scrape: PrometheusScrape | null
  error?: string
}

/** Whether a Prometheus exposition answered where vdiag looked (the default address is tried once). */
export interface PrometheusProbe {
  url: string
  found: boolean
  /** true when the URL was given by the user, false for the default address. */
  explicit: boolean
  http_status: number | null
  prefix: string | null
  components: number
  /** In plain words: what answered, or why nothing usable did. */
  reason: string
}

// ---------- errors over the window ----------

/** One line of metrics/errors.ndjson: cumulative `component_errors_total` per component at one tick. */
export interface ErrorsRecord {
  seq: number
  at: string
  t_ms: number
  components: Record<string, number>
}

// ---------- the pipeline's config files (--config) ----------

export type ConfigFormat = 'yaml' | 'toml' | 'json'

/** File names inside the bundle keep only these characters (and never start with a dot). */
function entryName(name: string, fallback: string): string {
  const clean = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 100)
  return clean === '' ? fallback : clean
}

/** `config/01-vector.yaml`: the n-th config file collected (1-based), named after its source. */
export function configEntry(n: number, name: string): string {
  return `${ENTRY.configDir}/${String(n).padStart(2, '0')}-${entryName(name, 'config')}`
}

export interface ConfigFileRecord {
  /** Absolute path of the file (or of a folder that could not be read), redacted. */
  source: string
  /** Its redacted copy in the bundle; null when it was not included. */
  entry: string | null
  /** Format it was parsed as: from the extension, TOML when there is none (as Vector does). null when never parsed. */
  format: ConfigFormat | null
  /** Format of the stored copy: the original one, or json (entry name + `.json`) when it could not be written back. */
  stored_as: ConfigFormat | null
  /** `config`: a whole config file; `component`: one component from a per-type folder (`sinks/<id>.yaml`). */
  layout: 'config' | 'component'
  ok: boolean
  error?: string
  /** Ids of the sources, transforms and sinks the file defines. */
  components?: string[]
}

export interface ConfigComponent {
  id: string
  kind: ComponentKind
  /** The plugin (`type`); null when the config does not say. */
  type: string | null
  /** `inputs` as written: ids, wildcards (`app_*`), named outputs (`route.errors`). */
  inputs: string[]
  /** Named outputs known from the config (route names, `_unmatched`, `dropped`, ...); the default output is not listed. */
  outputs: string[]
  /** The bundle entry that defines it. */
  entry: string
}

/** A topology edge derived from `inputs`. */
export interface ConfigEdge extends Edge {
  /** The named output of `from` that feeds `to`; null for its default output. */
  output: string | null
  /** The `inputs` item it came from (a wildcard yields several edges). */
  input: string
}

/** config/index.json */
export interface ConfigCollection {
  files: ConfigFileRecord[]
  /** Sources, transforms and sinks across all files, in file order. */
  components: ConfigComponent[]
  edges: ConfigEdge[]
  /** `inputs` items that match no source or transform output. */
  unresolved_inputs: {component: string; input: string}[]
  /** Every file or folder that could not be read, parsed or redacted, with why. */
  errors: {source: string; error: string}[]
  /** What Vector would reject without it stopping the collection (duplicate ids). */
  warnings: string[]
}

// ---------- the pipeline's logs (--logs) ----------

/** `logs/01-vector.log`: the n-th log source collected (1-based). */
export function logEntry(n: number, name: string): string {
  const base = entryName(name, 'log')
  return `${ENTRY.logsDir}/${String(n).padStart(2, '0')}-${base.endsWith('.log') ? base : `${base}.log`}`
}

/**
 * How the lines were chosen: `window`, lines whose timestamps fall in the
 * capture window (with the lines that continue them); `tail`, no timestamps
 * recognised, so the end of the file; `journal`, journalctl's --since/--until.
 */
export type LogSelection = 'window' | 'tail' | 'journal'

export interface LogSourceRecord {
  /** As given: a path or `journal:UNIT` (redacted). */
  spec: string
  kind: 'file' | 'journal'
  /** The redacted lines in the bundle; null when nothing was kept. */
  entry: string | null
  status: CollectorStatus
  error?: string
  /** Anything else worth knowing (journalctl warnings, why nothing was kept). */
  note?: string
  selection: LogSelection | null
  /** Bytes read from the source (at most max_bytes). */
  bytes_read: number
  /** Older content was left out to stay within max_bytes. */
  truncated: boolean
  lines: number
  /** First and last timestamps recognised in what was read, RFC 3339. */
  first_timestamp: string | null
  last_timestamp: string | null
  duration_ms: number
}

/** logs/index.json */
export interface LogCollection {
  since: string
  until: string
  /** Cap per source; the end is kept. */
  max_bytes: number
  sources: LogSourceRecord[]
}
