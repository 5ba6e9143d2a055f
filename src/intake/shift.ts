/**
 * Moving a payload's spans in time (replay --to-agent --shift-to-now): each
 * span's `start` is rewritten, and nothing else. Ids, durations, tags and
 * every byte outside the start values stay as they were (msgpack headers
 * count elements, not bytes, so a start that grows from 5 to 9 bytes keeps
 * the payload valid). Works on payloads decodePayload() accepted.
 */
import type {DecodedPayload} from './decode.js'
import {F_START, fieldOf} from './decode-v04.js'
import {arrayHeaderAt, mapHeaderAt, skipValue} from './msgpack-scan.js'
import {MsgpackWriter} from './msgpack-write.js'
import {applySplices, type Splice} from './reencode.js'

/** Fields before `start` in a v0.5 span: service, name, resource, trace_id, span_id, parent_id. */
const V05_FIELDS_BEFORE_START = 6

const asInt64 = (v: bigint | number | null): bigint => BigInt.asIntN(64, BigInt(v ?? 0))

/** The latest `start + duration` of the payload's spans (epoch ns), or null when it has none. */
export function latestEnd(payload: DecodedPayload): bigint | null {
  let latest: bigint | null = null
  const cursor = payload.cursor()
  for (let n = cursor.nextChunk(); n >= 0; n = cursor.nextChunk()) {
    for (let i = 0; i < n; i++) {
      const span = cursor.nextSpan()
      const end = asInt64(span.start) + asInt64(span.duration)
      if (latest === null || end > latest) latest = end
    }
  }
  return latest
}

/** Start of a map key's bytes and where its value begins (keys are str, or bin from a lenient encoder). */
function keyAt(b: Buffer, p: number): {start: number; length: number} {
  const t = b[p]
  if (t >= 0xa0 && t <= 0xbf) return {start: p + 1, length: t & 0x1f}
  if (t === 0xd9 || t === 0xc4) return {start: p + 2, length: b[p + 1]}
  if (t === 0xda || t === 0xc5) return {start: p + 3, length: b.readUInt16BE(p + 1)}
  return {start: p + 5, length: b.readUInt32BE(p + 1)}
}

/** Byte range of the `start` value inside the span at [spanStart, …), or null when the span has none. */
function startValueRange(payload: DecodedPayload, spanStart: number): {start: number; end: number} | null {
  const b = payload.body
  if (payload.version === 'v0.5') {
    let p = arrayHeaderAt(b, spanStart).next
    for (let i = 0; i < V05_FIELDS_BEFORE_START; i++) p = skipValue(b, p)
    return {start: p, end: skipValue(b, p)}
  }
  const h = mapHeaderAt(b, spanStart)
  let p = h.next
  for (let i = 0; i < h.count; i++) {
    const key = keyAt(b, p)
    const valueStart = key.start + key.length
    const valueEnd = skipValue(b, valueStart)
    if (fieldOf(b, key.start, key.length) === F_START) return {start: valueStart, end: valueEnd}
    p = valueEnd
  }
  return null
}

/** The payload's body with every span's start moved by deltaNs (written as dd-trace does: uint64, int64 if negative). */
export function shiftStarts(payload: DecodedPayload, deltaNs: bigint): Buffer {
  const splices: Splice[] = []
  const cursor = payload.cursor()
  for (let n = cursor.nextChunk(); n >= 0; n = cursor.nextChunk()) {
    for (let i = 0; i < n; i++) {
      const span = cursor.nextSpan()
      const range = startValueRange(payload, cursor.spanStart)
      if (range === null) continue
      const w = new MsgpackWriter(16)
      w.time64(asInt64(span.start) + deltaNs)
      splices.push({...range, bytes: w.finish()})
    }
  }
  return applySplices(payload.body, splices)
}
