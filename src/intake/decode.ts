/**
 * The decoder contract, one implementation per wire version (decode-v04.ts,
 * decode-v05.ts). decodePayload() validates the whole body first and either
 * refuses it with a reason or returns a payload whose spans can then be
 * read one at a time, so that memory does not grow with the spans in a body
 * and nothing of a refused payload is ever stored.
 */
import type {WireVersion} from '../bundle/format.js'
import type {IntakeLimits} from './limits.js'
import {PayloadError} from './msgpack-scan.js'
import {scanV04} from './decode-v04.js'
import {scanV05} from './decode-v05.js'

/** The textual fields of a span: what redaction sees and may change in place. */
export interface WireSpanFields {
  service: string
  name: string
  resource: string
  /** '' when the span has none. */
  type: string
  meta: Record<string, string>
}

/**
 * One span as it came off the wire, with the Agent's tolerance applied:
 * missing or nil text is '', bin is read as UTF-8, missing maps are empty,
 * metrics are finite numbers (non-finite ones are left out). Integers keep
 * their wire form: 64-bit values are bigint, smaller ones number; use
 * normalise.ts to turn them into SpanRecord strings.
 */
export interface WireSpan extends WireSpanFields {
  trace_id: bigint | number | null
  span_id: bigint | number | null
  parent_id: bigint | number | null
  start: bigint | number | null
  duration: bigint | number | null
  error: bigint | number | null
  metrics: Record<string, number>
}

/** Reads the spans of an accepted payload in wire order. */
export interface SpanCursor {
  /** Span count of the next trace chunk, or -1 after the last. Call nextSpan() that many times before calling it again. */
  nextChunk(): number
  nextSpan(): WireSpan
  /** Byte range of the span nextSpan() just returned. */
  readonly spanStart: number
  readonly spanEnd: number
}

export interface DecodedPayload {
  version: WireVersion
  body: Buffer
  /** Trace chunks in the payload. */
  traces: number
  spans: number
  /** A new cursor from the first span; decoding an accepted payload does not fail. */
  cursor(): SpanCursor
}

export type DecodeResult = {ok: true; payload: DecodedPayload} | {ok: false; reason: string}

export function decodePayload(version: WireVersion, body: Buffer, limits: IntakeLimits): DecodeResult {
  if (body.length === 0) return {ok: false, reason: 'empty body'}
  try {
    return {ok: true, payload: version === 'v0.5' ? scanV05(body, limits) : scanV04(body, limits)}
  } catch (e) {
    if (e instanceof PayloadError) return {ok: false, reason: e.message}
    // anything else is a bug in the scanner, but still only this payload's problem
    return {ok: false, reason: `undecodable: ${e instanceof Error ? e.message : String(e)}`}
  }
}
