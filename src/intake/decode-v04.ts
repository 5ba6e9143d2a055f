/**
 * v0.4 traces: `[[span-map, …], …]`, one array per trace chunk, each span a
 * map keyed by field name (datadog-agent span.proto). The scan checks every
 * field's type; the cursor then hands each span's byte range to msgpackr on
 * its own, so what is alive at once is one span, not the whole payload
 * (measured faster, too: per-span objects die young).
 */
import {Unpackr} from 'msgpackr'
import type {DecodedPayload, SpanCursor, WireSpan} from './decode.js'
import type {IntakeLimits} from './limits.js'
import {Scanner, arrayHeaderAt, skipValue} from './msgpack-scan.js'

export const F_OTHER = 0
export const F_SERVICE = 1
export const F_NAME = 2
export const F_RESOURCE = 3
export const F_TYPE = 4
export const F_TRACE_ID = 5
export const F_SPAN_ID = 6
export const F_PARENT_ID = 7
export const F_START = 8
export const F_DURATION = 9
export const F_ERROR = 10
export const F_META = 11
export const F_METRICS = 12

export const FIELD_NAMES = ['', 'service', 'name', 'resource', 'type', 'trace_id', 'span_id', 'parent_id', 'start', 'duration', 'error', 'meta', 'metrics']

/** Known field names grouped by byte length, for matching keys without making strings. */
const BY_LENGTH: {bytes: Buffer; field: number}[][] = []
for (let f = 1; f < FIELD_NAMES.length; f++) {
  const bytes = Buffer.from(FIELD_NAMES[f], 'latin1')
  ;(BY_LENGTH[bytes.length] ??= []).push({bytes, field: f})
}

export function fieldOf(b: Buffer, start: number, length: number): number {
  const candidates = BY_LENGTH[length]
  if (candidates === undefined) return F_OTHER
  next: for (const c of candidates) {
    for (let i = 0; i < length; i++) if (b[start + i] !== c.bytes[i]) continue next
    return c.field
  }
  return F_OTHER
}

/** Depth of a span's field values: payload (1) > chunk (2) > span (3) > value. */
const FIELD_DEPTH = 4

function scanSpan(s: Scanner, limits: IntakeLimits): void {
  const start = s.pos
  s.beginSpan()
  const fields = s.mapHeader('span', false)
  for (let i = 0; i < fields; i++) {
    const length = s.strKey('span field name')
    const field = fieldOf(s.buf, s.keyStart, length)
    switch (field) {
      case F_SERVICE:
      case F_NAME:
      case F_RESOURCE:
      case F_TYPE:
        s.text(FIELD_NAMES[field])
        break
      case F_TRACE_ID:
      case F_SPAN_ID:
      case F_PARENT_ID:
      case F_START:
      case F_DURATION:
      case F_ERROR:
        s.int(FIELD_NAMES[field])
        break
      case F_META: {
        const n = s.mapHeader('meta', true)
        for (let j = 0; j < n; j++) {
          s.strKey('meta key')
          s.text('meta value')
        }
        break
      }
      case F_METRICS: {
        const n = s.mapHeader('metrics', true)
        for (let j = 0; j < n; j++) {
          s.strKey('metrics key')
          s.number('metrics value')
        }
        break
      }
      default:
        // meta_struct, span_links, span_events, anything newer: kept in the raw body, not normalised
        s.any('span field', FIELD_DEPTH)
    }
  }
  s.endSpan()
  const size = s.pos - start
  if (size > limits.maxSpanBytes) {
    s.pos = start
    s.fail(`span is ${size} bytes, over the ${limits.maxSpanBytes}-byte limit`)
  }
}

export function scanV04(body: Buffer, limits: IntakeLimits): DecodedPayload {
  const s = new Scanner(body, body.length, limits)
  const chunks = s.arrayHeader('v0.4 payload')
  let spans = 0
  for (let c = 0; c < chunks; c++) {
    const n = s.arrayHeader('trace chunk')
    spans += n
    if (spans > limits.maxSpansPerPayload) s.fail(`payload holds more than ${limits.maxSpansPerPayload} spans`)
    for (let i = 0; i < n; i++) scanSpan(s, limits)
  }
  if (s.pos !== body.length) s.fail(`${body.length - s.pos} unexpected bytes after the payload`)
  const fixup = s.fixup
  return {version: 'v0.4', body, traces: chunks, spans, cursor: () => new V04Cursor(body, fixup)}
}

// records off: a span map is a plain map; bigint (the default) keeps 64-bit ids exact
const unpackr = new Unpackr({useRecords: false, mapsAsObjects: true})

class V04Cursor implements SpanCursor {
  spanStart = 0
  spanEnd = 0
  private pos: number
  private chunksLeft: number

  constructor(
    private readonly body: Buffer,
    private readonly fixup: boolean,
  ) {
    const h = arrayHeaderAt(body, 0)
    this.chunksLeft = h.count
    this.pos = h.next
  }

  nextChunk(): number {
    if (this.chunksLeft === 0) return -1
    this.chunksLeft--
    const h = arrayHeaderAt(this.body, this.pos)
    this.pos = h.next
    return h.count
  }

  nextSpan(): WireSpan {
    const start = this.pos
    const end = skipValue(this.body, start)
    const span = unpackr.unpack(this.body, {start, end}) as Record<string, unknown>
    this.spanStart = start
    this.spanEnd = this.pos = end
    if (this.fixup) applyTolerance(span)
    return fillDefaults(span)
  }
}

/** Missing fields take the Agent's zero values. */
function fillDefaults(s: Record<string, unknown>): WireSpan {
  if (s.service === undefined) s.service = ''
  if (s.name === undefined) s.name = ''
  if (s.resource === undefined) s.resource = ''
  if (s.type === undefined) s.type = ''
  if (s.trace_id === undefined) s.trace_id = null
  if (s.span_id === undefined) s.span_id = null
  if (s.parent_id === undefined) s.parent_id = null
  if (s.start === undefined) s.start = null
  if (s.duration === undefined) s.duration = null
  if (s.error === undefined) s.error = null
  if (s.meta === undefined) s.meta = {}
  if (s.metrics === undefined) s.metrics = {}
  return s as unknown as WireSpan
}

export function textOf(v: unknown): string {
  if (typeof v === 'string') return v
  if (v == null) return ''
  return Buffer.isBuffer(v) ? v.toString('utf8') : Buffer.from(v as Uint8Array).toString('utf8')
}

/** The slow path, for payloads whose scan saw bin or nil text, nil maps, or 64-bit / non-finite metrics. */
function applyTolerance(s: Record<string, unknown>): void {
  for (const k of ['service', 'name', 'resource', 'type'] as const) if (s[k] !== undefined) s[k] = textOf(s[k])
  if (s.meta === null) s.meta = {}
  if (s.metrics === null) s.metrics = {}
  const meta = s.meta as Record<string, unknown> | undefined
  if (meta) for (const k of Object.keys(meta)) if (typeof meta[k] !== 'string') meta[k] = textOf(meta[k])
  const metrics = s.metrics as Record<string, unknown> | undefined
  if (metrics) {
    for (const k of Object.keys(metrics)) {
      const v = metrics[k]
      const n = v == null ? 0 : typeof v === 'bigint' ? Number(v) : (v as number)
      if (Number.isFinite(n)) metrics[k] = n
      else delete metrics[k]
    }
  }
}
