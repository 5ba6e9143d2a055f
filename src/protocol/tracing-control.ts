/**
 * Wire types of the `/tracing` admin-API extension (docs/tracing-control.md).
 * The demo pipeline serves them and vdiag's attach layer consumes them; both
 * import from here so the two sides cannot drift apart.
 */

export const TRACING_PROTOCOL_VERSION = 1
export const TRACING_PATH = '/tracing'

export type TracingLevel = 'info' | 'debug'
export const TRACING_LEVELS: readonly TracingLevel[] = ['info', 'debug']

export type WindowState = 'active' | 'ending' | 'ended'

export interface TracingWindow {
  id: string
  state: WindowState
  /** RFC 3339 */
  started_at: string
  expires_at: string
  ended_at: string | null
  level: TracingLevel
  endpoint: string
  components: string[]
  sample_rate: number
  spans_started: number
  spans_dropped: number
}

export interface TracingStatus {
  supported: true
  version: number
  max_duration_secs: number
  levels: TracingLevel[]
  window: TracingWindow | null
}

export interface OpenWindowRequest {
  duration_secs: number
  endpoint: string
  level?: TracingLevel
  components?: string[]
  sample_rate?: number
}

export interface WindowReply {
  window: TracingWindow
}

export interface TracingErrorReply {
  error: string
  window?: TracingWindow
}

/** Guarantees a client may rely on (spec "Lifecycle and guarantees"). */
export const ENDED_WITHIN_MS_AFTER_LAST_SPAN = 2_000
export const ENDED_AT_LATEST_MS_AFTER_EXPIRY = 5_000

export type ComponentKind = 'source' | 'transform' | 'sink'
export const COMPONENT_KINDS: readonly ComponentKind[] = ['source', 'transform', 'sink']

/** Span names and meta keys of RFC 8025-style component spans. */
export const SPAN = {
  iteration: 'iteration',
  meta: {
    componentId: 'component_id',
    componentKind: 'component_kind',
    componentType: 'component_type',
    stage: 'stage',
    substage: 'substage',
  },
  metrics: {
    cpuNs: 'cpu_ns',
    events: 'events',
    bytes: 'bytes',
    /** On a stage span: sub-stage spans not started because the iteration hit its span cap. */
    substagesOmitted: 'substages_omitted',
  },
} as const

/** The stage vocabulary per kind. Other names are allowed and count as busy. */
export const STAGES: Record<ComponentKind, readonly string[]> = {
  source: ['discover', 'read', 'send', 'sleep'],
  transform: ['wait', 'process', 'send'],
  sink: ['wait', 'encode', 'send', 'backoff'],
}

/** Stages that are idle time: the component had nothing to do. */
export const IDLE_STAGES: ReadonlySet<string> = new Set(['sleep', 'wait'])

/**
 * For sources and transforms `send` is time blocked handing events downstream
 * (backpressure); for sinks it is the request to the destination (own work).
 */
export function isBlockedOnDownstream(kind: ComponentKind, stage: string): boolean {
  return stage === 'send' && kind !== 'sink'
}
