/**
 * Rebuilds a payload body after redaction changed some of its spans, so the
 * stored body says what the span file says and holds no redacted value.
 * Same wire version, ids as uint64.
 * - v0.4: only the changed span maps are re-encoded; everything else (other
 *   spans, array headers, and within a changed span every field redaction
 *   does not see, such as meta_struct or span_links) keeps its bytes.
 * - v0.5: the string table is shared by all spans, so the whole payload is
 *   re-encoded with a new table holding only strings still referenced (an
 *   appended table would keep the secrets in it).
 */
import type {DecodedPayload, WireSpan, WireSpanFields} from './decode.js'
import {F_META, F_NAME, F_PARENT_ID, F_RESOURCE, F_SERVICE, F_SPAN_ID, F_TRACE_ID, F_TYPE, FIELD_NAMES, fieldOf} from './decode-v04.js'
import {mapHeaderAt, skipValue} from './msgpack-scan.js'
import {MsgpackWriter} from './msgpack-write.js'

export interface Splice {
  start: number
  end: number
  bytes: Buffer
}

const TEXT_FIELDS = [F_SERVICE, F_NAME, F_RESOURCE, F_TYPE] as const

function strHeaderAt(b: Buffer, p: number): {length: number; next: number} {
  const t = b[p]
  if (t >= 0xa0 && t <= 0xbf) return {length: t & 0x1f, next: p + 1}
  if (t === 0xd9) return {length: b[p + 1], next: p + 2}
  if (t === 0xda) return {length: b.readUInt16BE(p + 1), next: p + 3}
  return {length: b.readUInt32BE(p + 1), next: p + 5}
}

function writeMeta(w: MsgpackWriter, meta: Record<string, string>): void {
  const keys = Object.keys(meta)
  w.mapHeader(keys.length)
  for (const k of keys) {
    w.str(k)
    w.str(meta[k])
  }
}

/** The v0.4 span map at body[start, end), re-encoded with span's text fields, meta and ids. */
export function reencodeSpanV04(body: Buffer, start: number, end: number, span: WireSpan): Buffer {
  const h = mapHeaderAt(body, start)
  const w = new MsgpackWriter(2 * (end - start) + 64)
  let count = h.count
  let seen = 0
  let p = h.next
  for (let i = 0; i < h.count; i++) {
    const key = strHeaderAt(body, p)
    const field = fieldOf(body, key.next, key.length)
    const valueStart = key.next + key.length
    const valueEnd = skipValue(body, valueStart)
    w.raw(body, p, valueStart)
    seen |= 1 << field
    switch (field) {
      case F_SERVICE:
      case F_NAME:
      case F_RESOURCE:
      case F_TYPE:
        w.str(span[FIELD_NAMES[field] as keyof WireSpanFields] as string)
        break
      case F_TRACE_ID:
      case F_SPAN_ID:
      case F_PARENT_ID:
        w.uint64(span[FIELD_NAMES[field] as 'trace_id' | 'span_id' | 'parent_id'])
        break
      case F_META:
        writeMeta(w, span.meta)
        break
      default:
        w.raw(body, valueStart, valueEnd)
    }
    p = valueEnd
  }
  // a field redaction filled in that the span did not carry
  for (const field of TEXT_FIELDS) {
    const name = FIELD_NAMES[field] as 'service' | 'name' | 'resource' | 'type'
    if (!(seen & (1 << field)) && span[name] !== '') {
      w.str(name)
      w.str(span[name])
      count++
    }
  }
  if (!(seen & (1 << F_META)) && Object.keys(span.meta).length > 0) {
    w.str('meta')
    writeMeta(w, span.meta)
    count++
  }
  const out = new MsgpackWriter(w.length + 5)
  out.mapHeader(count)
  out.raw(w.finish())
  return out.finish()
}

/** body with each splice's byte range replaced by its bytes; splices in ascending order. */
export function applySplices(body: Buffer, splices: readonly Splice[]): Buffer {
  const parts: Buffer[] = []
  let at = 0
  for (const s of splices) {
    parts.push(body.subarray(at, s.start), s.bytes)
    at = s.end
  }
  parts.push(body.subarray(at))
  return Buffer.concat(parts)
}

/** The whole v0.5 payload again, with `changed` (span ordinal → redacted fields) in place of those spans' fields. */
export function reencodeV05(payload: DecodedPayload, changed: ReadonlyMap<number, WireSpanFields>): Buffer {
  const index = new Map<string, number>()
  const table: string[] = []
  const intern = (s: string): number => {
    let i = index.get(s)
    if (i === undefined) {
      i = table.length
      index.set(s, i)
      table.push(s)
    }
    return i
  }
  // dd-trace's table always starts with ''
  intern('')
  const traces = new MsgpackWriter(payload.body.length + 64)
  traces.arrayHeader(payload.traces)
  const cursor = payload.cursor()
  let ordinal = 0
  for (let n = cursor.nextChunk(); n >= 0; n = cursor.nextChunk()) {
    traces.arrayHeader(n)
    for (let i = 0; i < n; i++) {
      const span = cursor.nextSpan()
      const text = changed.get(ordinal++) ?? span
      traces.arrayHeader(12)
      traces.uint32(intern(text.service))
      traces.uint32(intern(text.name))
      traces.uint32(intern(text.resource))
      traces.uint64(span.trace_id)
      traces.uint64(span.span_id)
      traces.uint64(span.parent_id)
      traces.time64(span.start)
      traces.duration(span.duration)
      traces.int(span.error)
      const metaKeys = Object.keys(text.meta)
      traces.mapHeader(metaKeys.length)
      for (const k of metaKeys) {
        traces.uint32(intern(k))
        traces.uint32(intern(text.meta[k]))
      }
      const metricKeys = Object.keys(span.metrics)
      traces.mapHeader(metricKeys.length)
      for (const k of metricKeys) {
        traces.uint32(intern(k))
        traces.float64(span.metrics[k])
      }
      traces.uint32(intern(text.type))
    }
  }
  const tracesBytes = traces.finish()
  const out = new MsgpackWriter(tracesBytes.length + 64 * 1024)
  out.arrayHeader(2)
  out.arrayHeader(table.length)
  for (const s of table) out.str(s)
  out.raw(tracesBytes)
  return out.finish()
}
