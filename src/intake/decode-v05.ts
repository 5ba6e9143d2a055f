/**
 * v0.5 traces: `[string-table, [[span, …], …]]`, each span an array of
 * exactly 12 (service, name, resource, trace_id, span_id, parent_id, start,
 * duration, error, meta, metrics, type) whose strings are indexes into the
 * table (datadog-agent decoder_v05.go). msgpackr decodes the string table;
 * the spans are all integers and index maps, read here directly, since
 * msgpackr would turn every integer map key into a string first.
 */
import {Unpackr} from 'msgpackr'
import type {DecodedPayload, SpanCursor, WireSpan} from './decode.js'
import type {IntakeLimits} from './limits.js'
import {Scanner, arrayHeaderAt, mapHeaderAt} from './msgpack-scan.js'
import {textOf} from './decode-v04.js'

export const V05_SPAN_FIELDS = 12

/** Scans one span; returns the bytes it stands for (its own plus those of every string it references). */
function scanSpan(s: Scanner, lengths: Uint32Array, limits: IntakeLimits): number {
  const start = s.pos
  const size = lengths.length
  s.beginSpan()
  const n = s.arrayHeader('span')
  if (n !== V05_SPAN_FIELDS) {
    s.pos = start
    s.fail(`a v0.5 span must be an array of ${V05_SPAN_FIELDS} elements, got ${n}`)
  }
  let bytes = lengths[s.index('service index', size)]
  bytes += lengths[s.index('name index', size)]
  bytes += lengths[s.index('resource index', size)]
  s.int('trace_id')
  s.int('span_id')
  s.int('parent_id')
  s.int('start')
  s.int('duration')
  s.int('error')
  const meta = s.mapHeader('meta', true)
  for (let i = 0; i < meta; i++) {
    bytes += lengths[s.index('meta key index', size)]
    bytes += lengths[s.index('meta value index', size)]
  }
  const metrics = s.mapHeader('metrics', true)
  for (let i = 0; i < metrics; i++) {
    bytes += lengths[s.index('metrics key index', size)]
    s.number('metrics value')
  }
  bytes += lengths[s.index('type index', size)]
  s.endSpan()
  bytes += s.pos - start
  if (bytes > limits.maxSpanBytes) {
    s.pos = start
    s.fail(`span stands for ${bytes} bytes of strings, over the ${limits.maxSpanBytes}-byte limit`)
  }
  return bytes
}

export function scanV05(body: Buffer, limits: IntakeLimits): DecodedPayload {
  const s = new Scanner(body, body.length, limits)
  const top = s.arrayHeader('v0.5 payload')
  if (top !== 2) {
    s.pos = 0
    s.fail(`a v0.5 payload must be an array of exactly 2 elements (string table, traces), got ${top}`)
  }
  const tableStart = s.pos
  const tableSize = s.arrayHeader('string table')
  if (tableSize > limits.maxStringTable) s.fail(`string table has ${tableSize} entries, over the ${limits.maxStringTable} limit`)
  // byte length of every entry, to bound what the spans expand to
  const lengths = new Uint32Array(tableSize)
  for (let i = 0; i < tableSize; i++) lengths[i] = s.text('string table entry')
  const tableEnd = s.pos
  const tracesStart = s.pos
  const chunks = s.arrayHeader('traces')
  let spans = 0
  let expanded = 0
  for (let c = 0; c < chunks; c++) {
    const n = s.arrayHeader('trace chunk')
    spans += n
    if (spans > limits.maxSpansPerPayload) s.fail(`payload holds more than ${limits.maxSpansPerPayload} spans`)
    for (let i = 0; i < n; i++) {
      expanded += scanSpan(s, lengths, limits)
      if (expanded > limits.maxExpandedBytes) s.fail(`spans stand for more than ${limits.maxExpandedBytes} bytes of strings`)
    }
  }
  if (s.pos !== body.length) s.fail(`${body.length - s.pos} unexpected bytes after the payload`)
  let table: StringTable | null = null
  return {
    version: 'v0.5',
    body,
    traces: chunks,
    spans,
    cursor: () => new V05Cursor(body, (table ??= decodeTable(body, tableStart, tableEnd)), tracesStart),
  }
}

interface StringTable {
  values: string[]
  /** The same strings as object keys: msgpackr renames `__proto__` so it stays a key, and so do we. */
  keys: string[]
}

const unpackr = new Unpackr({useRecords: false, mapsAsObjects: true})

function decodeTable(body: Buffer, start: number, end: number): StringTable {
  const raw = unpackr.unpack(body, {start, end}) as unknown[]
  const values = raw as string[]
  for (let i = 0; i < raw.length; i++) if (typeof raw[i] !== 'string') values[i] = textOf(raw[i])
  const keys = values.includes('__proto__') ? values.map((v) => (v === '__proto__' ? '__proto_' : v)) : values
  return {values, keys}
}

class V05Cursor implements SpanCursor {
  spanStart = 0
  spanEnd = 0
  private p: number
  private chunksLeft: number

  constructor(
    private readonly body: Buffer,
    private readonly table: StringTable,
    tracesStart: number,
  ) {
    const h = arrayHeaderAt(body, tracesStart)
    this.chunksLeft = h.count
    this.p = h.next
  }

  nextChunk(): number {
    if (this.chunksLeft === 0) return -1
    this.chunksLeft--
    const h = arrayHeaderAt(this.body, this.p)
    this.p = h.next
    return h.count
  }

  nextSpan(): WireSpan {
    const {values, keys} = this.table
    const start = this.p
    this.p = arrayHeaderAt(this.body, start).next
    const service = values[this.index()]
    const name = values[this.index()]
    const resource = values[this.index()]
    const trace_id = this.int()
    const span_id = this.int()
    const parent_id = this.int()
    const startNs = this.int()
    const duration = this.int()
    const error = this.int()
    const meta: Record<string, string> = {}
    let h = mapHeaderAt(this.body, this.p)
    this.p = h.next
    for (let i = h.count; i > 0; i--) {
      const k = keys[this.index()]
      meta[k] = values[this.index()]
    }
    const metrics: Record<string, number> = {}
    h = mapHeaderAt(this.body, this.p)
    this.p = h.next
    for (let i = h.count; i > 0; i--) {
      const k = keys[this.index()]
      const v = this.number()
      if (Number.isFinite(v)) metrics[k] = v
    }
    const type = values[this.index()]
    this.spanStart = start
    this.spanEnd = this.p
    return {service, name, resource, type, trace_id, span_id, parent_id, start: startNs, duration, error, meta, metrics}
  }

  // The readers below only see bytes the scan accepted.

  private int(): bigint | number | null {
    const b = this.body
    const p = this.p
    const t = b[p]
    if (t < 0x80) {
      this.p = p + 1
      return t
    }
    if (t >= 0xe0) {
      this.p = p + 1
      return t - 0x100
    }
    switch (t) {
      case 0xcc: this.p = p + 2; return b[p + 1]
      case 0xcd: this.p = p + 3; return b.readUInt16BE(p + 1)
      case 0xce: this.p = p + 5; return b.readUInt32BE(p + 1)
      case 0xcf: this.p = p + 9; return b.readBigUInt64BE(p + 1)
      case 0xd0: this.p = p + 2; return b.readInt8(p + 1)
      case 0xd1: this.p = p + 3; return b.readInt16BE(p + 1)
      case 0xd2: this.p = p + 5; return b.readInt32BE(p + 1)
      case 0xd3: this.p = p + 9; return b.readBigInt64BE(p + 1)
      default: this.p = p + 1; return null
    }
  }

  private index(): number {
    const b = this.body
    const p = this.p
    const t = b[p]
    if (t < 0x80) {
      this.p = p + 1
      return t
    }
    switch (t) {
      case 0xcc: case 0xd0: this.p = p + 2; return b[p + 1]
      case 0xcd: case 0xd1: this.p = p + 3; return b.readUInt16BE(p + 1)
      case 0xce: case 0xd2: this.p = p + 5; return b.readUInt32BE(p + 1)
      // the scan accepted only values below the table size, so the upper word is 0
      case 0xcf: case 0xd3: this.p = p + 9; return b.readUInt32BE(p + 5)
      default: this.p = p + 1; return 0
    }
  }

  private number(): number {
    const b = this.body
    const p = this.p
    const t = b[p]
    if (t === 0xcb) {
      this.p = p + 9
      return b.readDoubleBE(p + 1)
    }
    if (t === 0xca) {
      this.p = p + 5
      return b.readFloatBE(p + 1)
    }
    const v = this.int()
    return v === null ? 0 : Number(v)
  }
}
