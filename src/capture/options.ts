import type {TracingLevel} from '../protocol/tracing-control.js'

/** Long enough to see several iterations of a slow sink, short enough to stay out of the way. */
export const DEFAULT_DURATION_MS = 60_000
/** Vector's utilization gauge updates every 5 s; 10 s gives two readings per interval. */
export const DEFAULT_INTERVAL_MS = 10_000
/** Finer sampling only adds load on the admin API without adding information. */
export const MIN_INTERVAL_MS = 1_000
/** ~400 B/span on the wire: a million spans is a ~40 MB gzip bundle, still mailable. */
export const DEFAULT_MAX_SPANS = 1_000_000
/** How long after the window's own expiry we keep asking whether it ended (the protocol promises 5 s). */
export const END_WAIT_GRACE_MS = 10_000
/** After `ended`, how long to wait for the last payloads the tracer had in flight. */
export const SPAN_DRAIN_WAIT_MS = 5_000

export interface CaptureOptions {
  api: string
  token?: string
  durationMs: number
  intervalMs: number
  level: TracingLevel
  output?: string
  format: 'tar.gz' | 'zip'
  maxSpans: number
  /** Proceed without spans when another window is active. */
  yes: boolean
  demo: boolean
  demoScenario: string
  /** The argv as typed, recorded (redacted) in the manifest. */
  argv: string[]
  /** Where to stage files before archiving; defaults to the OS temp dir. */
  tmpDir?: string
  /** Prometheus exposition of Vector's internal metrics; undefined: try the default address once. */
  metricsUrl?: string
  /** Vector config files or directories to include (redacted) and take topology from. */
  configs: string[]
  /** Log files or `journal:UNIT` to include the window's tail of (redacted). */
  logs: string[]
  /** Attach, check, print the plan, switch nothing on. */
  dryRun: boolean
  /** Bind the intake here instead of 127.0.0.1 (explicit, warned about). */
  listen?: {host: string; port: number}
  /** `agent`: the intake also forwards everything to the Datadog Agent at agentUrl (a tee). Default `local`. */
  via?: 'local' | 'agent'
  /** With via agent: the Agent's address, already checked (parseAgentUrl); default DEFAULT_AGENT_URL. */
  agentUrl?: string
}

/** Called with the plan after every check passed and before anything is switched on. */
export interface CaptureHooks {
  confirm?: (plan: CapturePlanView) => Promise<boolean>
}

export interface CapturePlanView {
  api: string
  lines: string[]
  output: string
  estimated_bytes: number
}

export function defaultOutputName(hostname: string, now: Date, format: 'tar.gz' | 'zip'): string {
  // No colons: tar reads `host:path` as a remote archive.
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '')
  const safeHost = hostname.replace(/[^A-Za-z0-9._-]+/g, '_') || 'host'
  return `vdiag-${safeHost}-${stamp}.${format}`
}
