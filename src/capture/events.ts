/**
 * What a capture reports while it runs. The terminal view animates them; with
 * --json each is one line on stdout. Names are part of the --json contract.
 */
import type {TracingWindow} from '../protocol/tracing-control.js'

export type CaptureEvent =
  | {event: 'started'; api: string; duration_ms: number; interval_ms: number; level: string; output: string; plan: string[]}
  | {event: 'attached'; generation: string; version: string | null; hostname: string | null; components: number; tracing: boolean; tracing_reason: string | null}
  | {event: 'window_opened'; window: TracingWindow}
  | {event: 'progress'; elapsed_ms: number; remaining_ms: number; spans: number; payloads: number; dropped: number; snapshots: number}
  | {event: 'warning'; code: string; message: string}
  | {event: 'window_closed'; ended: boolean; spans_started: number | null; spans_dropped: number | null}
  | {event: 'bundle_written'; path: string; size: number; sha256: string; spans: number; complete: boolean}
  | {event: 'done'; exit_code: number; path: string | null; complete: boolean; reason: string | null}

export type CaptureListener = (e: CaptureEvent) => void
