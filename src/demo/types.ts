/**
 * The seam between the demo pipeline (components, tracing window) and the
 * demo's admin API server (gRPC, GraphQL, /health, /tracing over HTTP).
 */
import type {ComponentKind, OpenWindowRequest, TracingStatus, TracingWindow} from '../protocol/tracing-control.js'

export interface DemoCounters {
  received_events: number
  sent_events: number
  received_bytes: number
  sent_bytes: number
  errors: number
}

export interface DemoComponentView {
  id: string
  kind: ComponentKind
  /** plugin type: `file`, `remap`, `http` */
  type: string
  /** output ids; `_default` for the default output */
  outputs: string[]
  /** ids of the components this one reads from (Vector's `inputs`) */
  inputs: string[]
  counters: DemoCounters
}

export interface DemoPipelineView {
  /** Vector-style version string, e.g. `0.55.0 (vdiag-demo x86_64-unknown-linux-gnu)` */
  versionString(): string
  hostname(): string
  /** Sorted by id, counters read at call time. */
  components(): DemoComponentView[]
}

export type OpenWindowResult =
  | {ok: true; window: TracingWindow}
  | {ok: false; status: 400 | 409; error: string; window?: TracingWindow}

/** The tracing window state machine (docs/tracing-control.md), transport-free. */
export interface TracingController {
  status(): TracingStatus
  /** Validates the request body (already JSON-parsed, of unknown shape). */
  open(body: unknown): OpenWindowResult
  /** DELETE: null when no window is active or ending. */
  end(): TracingWindow | null
}

export type {OpenWindowRequest}
