/**
 * Regroups the span stream into traces (under the tracing protocol, one trace
 * is one component iteration) while holding only the traces still arriving.
 *
 * A trace can arrive in several chunks, but its root comes in the last one
 * (dd-trace flushes finished children early, the root when the trace ends).
 * So a trace whose root has been seen is complete once the stream moves past
 * that payload. Traces that never show a root (dropped parent, hostile input)
 * are released oldest first when the pending set grows past its bound.
 */
import type {SpanRecord} from '../bundle/format.js'

export interface GroupLimits {
  /** Spans held across all pending traces: ~1.2 KB each, so ~25 MB. */
  maxPendingSpans: number
  /** One trace larger than this is released in parts rather than held. */
  maxTraceSpans: number
}

export const DEFAULT_GROUP_LIMITS: GroupLimits = {maxPendingSpans: 20_000, maxTraceSpans: 10_000}

interface Pending {
  spans: SpanRecord[]
}

export type GroupSink = (spans: SpanRecord[]) => Promise<void>

export class TraceGrouper {
  private readonly pending = new Map<string, Pending>()
  /** Traces whose root has been seen in the current payload. */
  private rooted: string[] = []
  private pendingSpans = 0
  private payload: number | null = null

  constructor(
    private readonly sink: GroupSink,
    private readonly limits: GroupLimits = DEFAULT_GROUP_LIMITS,
  ) {}

  async add(span: SpanRecord): Promise<void> {
    if (this.payload !== null && span.payload !== this.payload) await this.releaseRooted()
    this.payload = span.payload
    let trace = this.pending.get(span.trace_id)
    if (trace === undefined) {
      trace = {spans: []}
      this.pending.set(span.trace_id, trace)
    }
    trace.spans.push(span)
    this.pendingSpans++
    if (span.parent_id === '0') this.rooted.push(span.trace_id)
    if (trace.spans.length >= this.limits.maxTraceSpans) await this.release(span.trace_id)
    while (this.pendingSpans > this.limits.maxPendingSpans) {
      const oldest = this.pending.keys().next()
      if (oldest.done) break
      await this.release(oldest.value)
    }
  }

  async finish(): Promise<void> {
    for (const id of [...this.pending.keys()]) await this.release(id)
    this.rooted = []
  }

  private async releaseRooted(): Promise<void> {
    const ids = this.rooted
    this.rooted = []
    for (const id of ids) await this.release(id)
  }

  private async release(traceId: string): Promise<void> {
    const trace = this.pending.get(traceId)
    if (trace === undefined) return
    this.pending.delete(traceId)
    this.pendingSpans -= trace.spans.length
    await this.sink(trace.spans)
  }
}
