/**
 * Wire span → SpanRecord (src/bundle/format.ts): 64-bit ids as unsigned
 * decimal strings, start and duration as signed int64 decimal strings,
 * error as 0/1, and the upper half of a 128-bit trace id taken from
 * `_dd.p.tid`. spanLine() writes the NDJSON line directly (no SpanRecord
 * object in between: it runs once per span); toSpanRecord() is the same
 * mapping as an object and the reference the line is tested against.
 */
import type {SpanRecord} from '../bundle/format.js'
import type {WireSpan} from './decode.js'

const INT64_MAX = (1n << 63n) - 1n

/** Agent semantics for uint64 fields: a negative int64 on the wire is the same 64 bits read unsigned. */
export function uint64String(v: bigint | number | null): string {
  if (typeof v === 'bigint') return (v < 0n ? BigInt.asUintN(64, v) : v).toString()
  if (v == null) return '0'
  return v >= 0 ? String(v) : BigInt.asUintN(64, BigInt(v)).toString()
}

/** Agent semantics for int64 fields (start, duration): a uint64 above 2^63 wraps negative. */
export function int64String(v: bigint | number | null): string {
  if (typeof v === 'bigint') return (v > INT64_MAX ? BigInt.asIntN(64, v) : v).toString()
  if (v == null) return '0'
  return String(v)
}

const HEX16 = /^[0-9a-fA-F]{16}$/

/** The 16 hex chars of `_dd.p.tid`, lower-cased, or undefined when absent or malformed. */
export function tidOf(meta: Record<string, string>): string | undefined {
  const t = meta['_dd.p.tid']
  return t !== undefined && HEX16.test(t) ? t.toLowerCase() : undefined
}

/**
 * The trace_id_high of a span: its own `_dd.p.tid` when it carries one,
 * else its chunk's. dd-trace sets the tag only on the first span of each
 * chunk; pass that span's result as chunkTid for the rest of the chunk.
 */
export function tidFor(span: WireSpan, chunkTid: string | undefined): string | undefined {
  return span.meta['_dd.p.tid'] === undefined ? chunkTid : (tidOf(span.meta) ?? chunkTid)
}

export function toSpanRecord(span: WireSpan, traceIdHigh: string | undefined, payload: number): SpanRecord {
  // built in SpanRecord's key order, which is also the line's
  return {
    trace_id: uint64String(span.trace_id),
    ...(traceIdHigh !== undefined ? {trace_id_high: traceIdHigh} : {}),
    span_id: uint64String(span.span_id),
    parent_id: uint64String(span.parent_id),
    service: span.service,
    name: span.name,
    resource: span.resource,
    ...(span.type !== '' ? {type: span.type} : {}),
    start: int64String(span.start),
    duration: int64String(span.duration),
    error: span.error ? 1 : 0,
    meta: span.meta,
    metrics: span.metrics,
    payload,
  }
}

/** JSON.stringify(toSpanRecord(...)) + '\n', built without the intermediate object. */
export function spanLine(span: WireSpan, traceIdHigh: string | undefined, payload: number): string {
  let line = '{"trace_id":"' + uint64String(span.trace_id)
  if (traceIdHigh !== undefined) line += '","trace_id_high":"' + traceIdHigh
  line +=
    '","span_id":"' + uint64String(span.span_id) +
    '","parent_id":"' + uint64String(span.parent_id) +
    '","service":' + JSON.stringify(span.service) +
    ',"name":' + JSON.stringify(span.name) +
    ',"resource":' + JSON.stringify(span.resource)
  if (span.type !== '') line += ',"type":' + JSON.stringify(span.type)
  return (
    line +
    ',"start":"' + int64String(span.start) +
    '","duration":"' + int64String(span.duration) +
    '","error":' + (span.error ? 1 : 0) +
    ',"meta":' + JSON.stringify(span.meta) +
    ',"metrics":' + JSON.stringify(span.metrics) +
    ',"payload":' + payload +
    '}\n'
  )
}
