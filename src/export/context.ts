/** What every exporter gets besides the spans. */
import type {Manifest, SpanRecord} from '../bundle/format.js'
import {spanHigh} from './ids.js'

export interface ExportContext {
  manifest: Manifest
  /** epoch ns that relative times count from: the window start, else the first span. */
  t0: bigint
}

/** One output format: fed span by span, then finished or aborted. */
export interface Exporter {
  readonly files: string[]
  add(span: SpanRecord): Promise<void>
  finish(): Promise<void>
  abort(): Promise<void>
}

/** Traces remembered for their `_dd.p.tid` high half; bounded, oldest forgotten first. */
const HIGH_MEMORY = 100_000

/**
 * Only the first span of a chunk carries `_dd.p.tid`; the capture copies it
 * to the chunk's other spans, and this carries it over to later chunks of the
 * same trace.
 */
export class HighHalves {
  private readonly known = new Map<string, string>()

  of(span: SpanRecord): string | null {
    const own = spanHigh(span)
    if (own !== null) {
      if (!this.known.has(span.trace_id)) {
        this.known.set(span.trace_id, own)
        if (this.known.size > HIGH_MEMORY) this.known.delete(this.known.keys().next().value as string)
      }
      return own
    }
    return this.known.get(span.trace_id) ?? null
  }

  /** The high half of a whole trace group: any span's, else remembered. */
  ofGroup(spans: SpanRecord[]): string | null {
    let found: string | null = null
    for (const span of spans) {
      const high = this.of(span)
      if (high !== null) found ??= high
    }
    return found
  }
}

/** The error text of a span, from the usual Datadog meta keys. */
export function errorText(span: SpanRecord): string {
  return span.meta['error.message'] || span.meta['error.msg'] || span.meta['error.type'] || 'error'
}
