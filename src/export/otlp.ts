/**
 * OTLP JSON, as JSON Lines: one ExportTraceServiceRequest per line, each with
 * up to OTLP_SPANS_PER_REQUEST spans grouped into one ResourceSpans per
 * service. A single document would have to hold every span before it could be
 * closed per service; lines stream, and are what the collector's file
 * exporter / otlpjsonfile receiver and `otel-tui --from-json-file` read.
 * Each line is also a valid body for `POST /v1/traces`.
 */
import path from 'node:path'
import type {SpanRecord} from '../bundle/format.js'
import {type ExportContext, type Exporter, HighHalves, errorText} from './context.js'
import {decToHex16, traceId128} from './ids.js'
import {OutputFile} from './output.js'

export const OTLP_FILE = 'traces.otlp.jsonl'
/** Spans per request line: ~1 KB each, so lines of about 1 MB. */
export const OTLP_SPANS_PER_REQUEST = 1000

/** proto `Span.SpanKind`, which OTLP JSON writes as integers. */
const KIND = {unspecified: 0, internal: 1, server: 2, client: 3, producer: 4, consumer: 5} as const
const KIND_BY_META: Record<string, number> = {
  internal: KIND.internal,
  server: KIND.server,
  client: KIND.client,
  producer: KIND.producer,
  consumer: KIND.consumer,
}
const STATUS_ERROR = 2

type AnyValue = {stringValue: string} | {doubleValue: number}
interface KeyValue {
  key: string
  value: AnyValue
}

export class OtlpExporter implements Exporter {
  readonly files: string[]
  private readonly out: OutputFile
  private readonly highs = new HighHalves()
  private batch = new Map<string, object[]>()
  private batchSize = 0

  constructor(
    outDir: string,
    private readonly ctx: ExportContext,
  ) {
    const file = path.join(outDir, OTLP_FILE)
    this.files = [file]
    this.out = new OutputFile(file)
  }

  async add(span: SpanRecord): Promise<void> {
    const service = span.service
    let spans = this.batch.get(service)
    if (spans === undefined) this.batch.set(service, (spans = []))
    spans.push(this.toOtlp(span))
    if (++this.batchSize >= OTLP_SPANS_PER_REQUEST) await this.flush()
  }

  async finish(): Promise<void> {
    await this.flush()
    await this.out.close()
  }

  abort(): Promise<void> {
    return this.out.abort()
  }

  private async flush(): Promise<void> {
    if (this.batchSize === 0) return
    const m = this.ctx.manifest
    const resourceSpans = [...this.batch].map(([service, spans]) => {
      const attributes: KeyValue[] = [str('service.name', service)]
      if (m.pipeline?.hostname) attributes.push(str('host.name', m.pipeline.hostname))
      if (m.pipeline?.version) attributes.push(str('service.version', m.pipeline.version))
      return {resource: {attributes}, scopeSpans: [{scope: {name: 'vdiag', version: m.vdiag_version ?? ''}, spans}]}
    })
    this.batch = new Map()
    this.batchSize = 0
    await this.out.write(`${JSON.stringify({resourceSpans})}\n`)
  }

  private toOtlp(span: SpanRecord): object {
    const start = BigInt(span.start)
    const attributes: KeyValue[] = [
      str('resource.name', span.resource),
      str('datadog.trace.id', BigInt(span.trace_id).toString()),
      str('datadog.span.id', BigInt(span.span_id).toString()),
    ]
    if (span.type) attributes.push(str('span.type', span.type))
    for (const [key, value] of Object.entries(span.meta)) attributes.push(str(key, value))
    for (const [key, value] of Object.entries(span.metrics)) attributes.push({key, value: {doubleValue: value}})
    const out: Record<string, unknown> = {
      traceId: traceId128(span, this.highs.of(span)),
      spanId: decToHex16(span.span_id),
    }
    if (span.parent_id !== '0') out.parentSpanId = decToHex16(span.parent_id)
    out.name = span.name
    out.kind = kindOf(span)
    out.startTimeUnixNano = start.toString()
    out.endTimeUnixNano = (start + BigInt(span.duration)).toString()
    out.attributes = attributes
    if (span.error > 0) out.status = {code: STATUS_ERROR, message: errorText(span)}
    return out
  }
}

function str(key: string, value: string): KeyValue {
  return {key, value: {stringValue: value}}
}

function kindOf(span: SpanRecord): number {
  const declared = (span.meta['span.kind'] ?? '').toLowerCase()
  if (Object.hasOwn(KIND_BY_META, declared)) return KIND_BY_META[declared]
  if (span.type === 'web') return KIND.server
  if (span.type === 'http') return KIND.client
  return KIND.internal
}
