/**
 * Jaeger UI upload JSON (`{"data":[trace, ...]}`), one trace per Datadog
 * trace, which under the tracing protocol is one component iteration: Jaeger
 * UI slows down above ~2k spans per trace, so a whole window must not be one.
 * The process of a span is its component (serviceName = component id), so
 * Jaeger's service list and trace statistics read per component and stage.
 * Traces are written as they complete; the document streams.
 */
import path from 'node:path'
import type {SpanRecord} from '../bundle/format.js'
import {SPAN} from '../protocol/tracing-control.js'
import {type ExportContext, type Exporter, HighHalves, errorText} from './context.js'
import {decToHex16, traceId128} from './ids.js'
import {OutputFile} from './output.js'
import {TraceGrouper} from './trace-groups.js'
import {buildForest, frameName, isIteration} from './tree.js'

export const JAEGER_FILE = 'traces.jaeger.json'

interface Tag {
  key: string
  type: 'string' | 'bool' | 'int64' | 'float64'
  value: string | boolean | number
}

export class JaegerExporter implements Exporter {
  readonly files: string[]
  private readonly out: OutputFile
  private readonly grouper: TraceGrouper
  private readonly highs = new HighHalves()
  private wroteTrace = false

  constructor(
    outDir: string,
    private readonly ctx: ExportContext,
  ) {
    const file = path.join(outDir, JAEGER_FILE)
    this.files = [file]
    this.out = new OutputFile(file)
    this.grouper = new TraceGrouper((spans) => this.writeTrace(spans))
  }

  async add(span: SpanRecord): Promise<void> {
    await this.grouper.add(span)
  }

  async finish(): Promise<void> {
    await this.grouper.finish()
    await this.out.write(this.wroteTrace ? '\n]}\n' : '{"data":[]}\n')
    await this.out.close()
  }

  abort(): Promise<void> {
    return this.out.abort()
  }

  private async writeTrace(spans: SpanRecord[]): Promise<void> {
    const high = this.highs.ofGroup(spans)
    const nodes = buildForest(spans, this.ctx.t0)
    const processes: Record<string, {serviceName: string; tags: Tag[]}> = {}
    const processIds = new Map<string, string>()
    const traceID = jaegerTraceId(spans[0], high)
    const out = nodes.map((node) => {
      const span = node.span
      let processID = processIds.get(node.component)
      if (processID === undefined) {
        processID = `p${processIds.size + 1}`
        processIds.set(node.component, processID)
        processes[processID] = {serviceName: node.component, tags: processTags(span, this.ctx)}
      }
      const startUs = BigInt(span.start) / 1000n
      const endUs = (BigInt(span.start) + BigInt(span.duration)) / 1000n
      return {
        traceID,
        spanID: decToHex16(span.span_id),
        operationName: isIteration(node) ? SPAN.iteration : frameName(node),
        references:
          span.parent_id === '0' ? [] : [{refType: 'CHILD_OF', traceID, spanID: decToHex16(span.parent_id)}],
        startTime: Number(startUs),
        duration: Number(endUs - startUs),
        tags: spanTags(span, high),
        logs: [],
        processID,
        warnings: null,
      }
    })
    const trace = {traceID, spans: out, processes, warnings: null}
    await this.out.write(`${this.wroteTrace ? ',\n' : '{"data":[\n'}${JSON.stringify(trace)}`)
    this.wroteTrace = true
  }
}

/** 16 hex chars, or 32 when the trace has a 128-bit high half. */
function jaegerTraceId(span: SpanRecord, high: string | null): string {
  return high === null ? decToHex16(span.trace_id) : traceId128(span, high)
}

function processTags(span: SpanRecord, ctx: ExportContext): Tag[] {
  const tags: Tag[] = [{key: 'service.name', type: 'string', value: span.service}]
  for (const key of [SPAN.meta.componentKind, SPAN.meta.componentType]) {
    const value = span.meta[key]
    if (value) tags.push({key, type: 'string', value})
  }
  if (ctx.manifest.pipeline?.hostname) tags.push({key: 'hostname', type: 'string', value: ctx.manifest.pipeline.hostname})
  return tags
}

function spanTags(span: SpanRecord, high: string | null): Tag[] {
  const tags: Tag[] = [{key: 'resource.name', type: 'string', value: span.resource}]
  if (span.type) tags.push({key: 'span.type', type: 'string', value: span.type})
  if (span.error > 0) {
    tags.push({key: 'error', type: 'bool', value: true})
    tags.push({key: 'error.message', type: 'string', value: errorText(span)})
  }
  if (high !== null) tags.push({key: 'datadog.trace.id', type: 'string', value: BigInt(span.trace_id).toString()})
  for (const [key, value] of Object.entries(span.meta)) {
    if (key === 'error.message' && span.error > 0) continue
    tags.push({key, type: 'string', value})
  }
  for (const [key, value] of Object.entries(span.metrics)) {
    tags.push(Number.isSafeInteger(value) ? {key, type: 'int64', value} : {key, type: 'float64', value})
  }
  return tags
}
