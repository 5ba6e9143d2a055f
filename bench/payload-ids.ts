/**
 * Makes a recorded payload new again. vdiag's store keeps a payload it has
 * already stored only once (identical bytes can only be a resend), and real
 * traffic never repeats ids, so a benchmark that cycles through a recording
 * must not send the same bytes twice: each cycle XORs a cycle-specific mask
 * into every non-zero trace, span and parent id, in place in the msgpack
 * (ids are uint64, 0xcf + 8 bytes, in both wire versions). The trace trees
 * stay intact (parent ^ m == span ^ m), roots stay roots (0 is left alone),
 * and the body keeps its size and layout, so decoding it costs the same.
 */

const UINT64 = 0xcf
const V04_ID_KEYS = new Set(['trace_id', 'span_id', 'parent_id'])
/** v0.5 span: [service, name, resource, trace_id, span_id, parent_id, start, duration, error, meta, metrics, type]. */
const V05_ID_INDEXES = new Set([3, 4, 5])

class Walker {
  constructor(
    readonly b: Buffer,
    public o = 0,
  ) {}

  /** Reads a container header; returns its length, or -1 when the value is not a container of that kind. */
  arrayLength(): number {
    const t = this.b[this.o]
    if (t >= 0x90 && t <= 0x9f) return (this.o++, t & 0x0f)
    if (t === 0xdc) return (this.o += 3, this.b.readUInt16BE(this.o - 2))
    if (t === 0xdd) return (this.o += 5, this.b.readUInt32BE(this.o - 4))
    return -1
  }

  mapLength(): number {
    const t = this.b[this.o]
    if (t >= 0x80 && t <= 0x8f) return (this.o++, t & 0x0f)
    if (t === 0xde) return (this.o += 3, this.b.readUInt16BE(this.o - 2))
    if (t === 0xdf) return (this.o += 5, this.b.readUInt32BE(this.o - 4))
    return -1
  }

  /** A str value, or null (and nothing consumed) if the next value is not a str. */
  str(): string | null {
    const t = this.b[this.o]
    let len: number
    let head: number
    if (t >= 0xa0 && t <= 0xbf) [len, head] = [t & 0x1f, 1]
    else if (t === 0xd9) [len, head] = [this.b[this.o + 1], 2]
    else if (t === 0xda) [len, head] = [this.b.readUInt16BE(this.o + 1), 3]
    else if (t === 0xdb) [len, head] = [this.b.readUInt32BE(this.o + 1), 5]
    else return null
    const s = this.b.toString('utf8', this.o + head, this.o + head + len)
    this.o += head + len
    return s
  }

  skip(): void {
    const b = this.b
    const t = b[this.o]
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) return void this.o++
    if ((t >= 0x80 && t <= 0x8f) || t === 0xde || t === 0xdf) {
      for (let n = this.mapLength() * 2; n > 0; n--) this.skip()
      return
    }
    if ((t >= 0x90 && t <= 0x9f) || t === 0xdc || t === 0xdd) {
      for (let n = this.arrayLength(); n > 0; n--) this.skip()
      return
    }
    if (this.str() !== null) return
    switch (t) {
      case 0xc4: return void (this.o += 2 + b[this.o + 1])
      case 0xc5: return void (this.o += 3 + b.readUInt16BE(this.o + 1))
      case 0xc6: return void (this.o += 5 + b.readUInt32BE(this.o + 1))
      case 0xcc: case 0xd0: return void (this.o += 2)
      case 0xcd: case 0xd1: return void (this.o += 3)
      case 0xca: case 0xce: case 0xd2: return void (this.o += 5)
      case 0xcb: case 0xcf: case 0xd3: return void (this.o += 9)
      case 0xd4: return void (this.o += 3)
      case 0xd5: return void (this.o += 4)
      case 0xd6: return void (this.o += 6)
      case 0xd7: return void (this.o += 10)
      case 0xd8: return void (this.o += 18)
      case 0xc7: return void (this.o += 3 + b[this.o + 1])
      case 0xc8: return void (this.o += 4 + b.readUInt16BE(this.o + 1))
      case 0xc9: return void (this.o += 6 + b.readUInt32BE(this.o + 1))
    }
    throw new Error(`unexpected msgpack byte 0x${t.toString(16)} at ${this.o}`)
  }
}

/** Offsets of the 8 id bytes (after the 0xcf marker) of every non-zero uint64 trace/span/parent id. */
export function idOffsets(version: 'v0.4' | 'v0.5', body: Buffer): Uint32Array {
  const out: number[] = []
  const w = new Walker(body)
  const id = () => {
    if (body[w.o] === UINT64 && body.readBigUInt64BE(w.o + 1) !== 0n) out.push(w.o + 1)
    w.skip()
  }
  if (version === 'v0.5') {
    if (w.arrayLength() !== 2) throw new Error('a v0.5 payload is a 2-element array')
    w.skip() // the string table
  }
  for (let traces = w.arrayLength(); traces > 0; traces--) {
    for (let spans = w.arrayLength(); spans > 0; spans--) {
      if (version === 'v0.5') {
        const n = w.arrayLength()
        for (let i = 0; i < n; i++) V05_ID_INDEXES.has(i) ? id() : w.skip()
      } else {
        for (let n = w.mapLength(); n > 0; n--) {
          const key = w.str()
          if (key === null) w.skip()
          key !== null && V04_ID_KEYS.has(key) ? id() : w.skip()
        }
      }
    }
  }
  return Uint32Array.from(out)
}

/** 64-bit mask for cycle `c` (0 for the first cycle: the recording as it was). */
function mask(c: number): [number, number] {
  if (c === 0) return [0, 0]
  // splitmix-style scrambling of the cycle number: distinct, non-zero, well spread
  let x = Math.imul(c ^ 0x9e3779b9, 0x85ebca6b) >>> 0
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0
  const y = Math.imul(x ^ (x >>> 16) ^ c, 0x27d4eb2f) >>> 0
  return [(x ^ (x >>> 16)) >>> 0 || 1, y]
}

/** `body` with its ids XORed for cycle `c`, written into `into` (same length) or a new buffer. */
export function cycleBody(body: Buffer, offsets: Uint32Array, c: number, into?: Buffer): Buffer {
  const out = into ?? Buffer.allocUnsafe(body.length)
  body.copy(out)
  const [hi, lo] = mask(c)
  if (hi === 0 && lo === 0) return out
  for (const o of offsets) {
    out.writeUInt32BE((out.readUInt32BE(o) ^ hi) >>> 0, o)
    out.writeUInt32BE((out.readUInt32BE(o + 4) ^ lo) >>> 0, o + 4)
  }
  return out
}
