/**
 * What the window state machine needs from a span library: start spans, point
 * the exporter somewhere, and flush with a verdict. dd-backend.ts implements it
 * with dd-trace; tests of the state machine could use a fake.
 */

export type SpanTags = Record<string, string | number>

export interface BackendSpan {
  setTag(key: string, value: string | number): unknown
  finish(): void
}

export interface FlushResult {
  /** Spans in the payload(s) this flush sent; 0 when nothing was buffered. */
  spans: number
  /** False when the intake did not accept them (network error, non-2xx, discarded). */
  delivered: boolean
}

export interface SpanBackend {
  /** Re-points the exporter at a window's intake (base URL). */
  setEndpoint(url: string): void
  /** A new trace when `parent` is null, else a child of it. */
  startSpan(name: string, parent: BackendSpan | null, tags: SpanTags): BackendSpan
  /** Finished spans handed to the exporter and not yet flushed. */
  bufferedSpans(): number
  /** Buffered plus in-flight spans: the memory the exporter holds. */
  pendingSpans(): number
  /** Sends everything buffered now. Resolves when the intake answered (or the export failed). */
  flush(): Promise<FlushResult>
  /** Called with a count when the exporter refused finished spans (its buffer was full). */
  onRejected: ((spans: number) => void) | null
  /** True when flush verdicts are exact; false in the fallback mode (see dd-backend.ts). */
  readonly exactAccounting: boolean
}
