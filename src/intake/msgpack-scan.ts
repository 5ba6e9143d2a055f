/**
 * A validating walk over msgpack bytes that allocates nothing. The decoders
 * run it over a whole payload before anything is decoded or stored, so that
 * (1) a payload is either accepted whole or refused whole, and (2) msgpackr
 * only ever sees bytes whose every declared length, nesting depth and value
 * count is already known to be within the limits: it cannot be made to
 * allocate more than the limits allow, or to throw.
 */
import type {IntakeLimits} from './limits.js'

/** A payload the intake refuses; the message is the reason given with the 400. */
export class PayloadError extends Error {
  constructor(reason: string) {
    super(reason)
    this.name = 'PayloadError'
  }
}

export function typeName(token: number | undefined): string {
  if (token === undefined) return 'end of body'
  if (token < 0x80 || token >= 0xe0) return 'int'
  if (token < 0x90) return 'map'
  if (token < 0xa0) return 'array'
  if (token < 0xc0) return 'str'
  switch (token) {
    case 0xc0: return 'nil'
    case 0xc1: return 'reserved byte 0xc1'
    case 0xc2: case 0xc3: return 'bool'
    case 0xc4: case 0xc5: case 0xc6: return 'bin'
    case 0xc7: case 0xc8: case 0xc9: case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: return 'ext'
    case 0xca: case 0xcb: return 'float'
    case 0xcc: case 0xcd: case 0xce: case 0xcf: case 0xd0: case 0xd1: case 0xd2: case 0xd3: return 'int'
    case 0xd9: case 0xda: case 0xdb: return 'str'
    case 0xdc: case 0xdd: return 'array'
    default: return 'map'
  }
}

function u16(b: Buffer, p: number): number {
  return (b[p] << 8) | b[p + 1]
}

function u32(b: Buffer, p: number): number {
  return b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3])
}

export class Scanner {
  pos: number
  /** Set when a value was found that the decoders' fast path does not take as-is (bin or nil text, nil maps, 64-bit or non-finite metrics). */
  fixup = false
  /** Start of the last key read by strKey(). */
  keyStart = 0
  private values = 0
  private valueBudget = Infinity

  constructor(
    readonly buf: Buffer,
    readonly end: number,
    readonly limits: IntakeLimits,
    start = 0,
  ) {
    this.pos = start
  }

  fail(reason: string): never {
    throw new PayloadError(`${reason} (at byte ${this.pos})`)
  }

  /** Counts the values of one span against maxValuesPerSpan from here on. */
  beginSpan(): void {
    this.values = 0
    this.valueBudget = this.limits.maxValuesPerSpan
  }

  endSpan(): void {
    this.valueBudget = Infinity
  }

  remaining(): number {
    return this.end - this.pos
  }

  private need(n: number, what: string): void {
    if (this.end - this.pos < n) this.fail(`${what} is cut short by the end of the body`)
  }

  private count(): void {
    if (++this.values > this.valueBudget) this.fail(`span has more than ${this.limits.maxValuesPerSpan} values`)
  }

  private wrongType(what: string, expected: string): never {
    this.fail(`${what} must be ${expected}, got ${typeName(this.buf[this.pos])}`)
  }

  /** An array header; returns the element count. */
  arrayHeader(what: string): number {
    this.need(1, what)
    const b = this.buf
    const t = b[this.pos]
    let n: number
    if (t >= 0x90 && t <= 0x9f) {
      n = t & 0x0f
      this.pos += 1
    } else if (t === 0xdc) {
      this.need(3, what)
      n = u16(b, this.pos + 1)
      this.pos += 3
    } else if (t === 0xdd) {
      this.need(5, what)
      n = u32(b, this.pos + 1)
      this.pos += 5
    } else {
      this.wrongType(what, 'an array')
    }
    // every element takes at least one byte
    if (n > this.end - this.pos) this.fail(`${what} declares ${n} elements but only ${this.end - this.pos} bytes follow`)
    this.count()
    return n
  }

  /** A map header; nil reads as an empty map when nilOk (and marks fixup: the decoded value is null). */
  mapHeader(what: string, nilOk: boolean): number {
    this.need(1, what)
    const b = this.buf
    const t = b[this.pos]
    let n: number
    if (t >= 0x80 && t <= 0x8f) {
      n = t & 0x0f
      this.pos += 1
    } else if (t === 0xde) {
      this.need(3, what)
      n = u16(b, this.pos + 1)
      this.pos += 3
    } else if (t === 0xdf) {
      this.need(5, what)
      n = u32(b, this.pos + 1)
      this.pos += 5
    } else if (t === 0xc0 && nilOk) {
      this.pos += 1
      this.fixup = true
      this.count()
      return 0
    } else {
      this.wrongType(what, 'a map')
    }
    // every entry takes at least two bytes
    if (n > (this.end - this.pos) / 2) this.fail(`${what} declares ${n} entries but only ${this.end - this.pos} bytes follow`)
    this.count()
    return n
  }

  /** Length of a str/bin body after its header at the current position, advancing past the header; -1 if not str/bin. */
  private stringHeader(what: string, allowBin: boolean): number {
    const b = this.buf
    const t = b[this.pos]
    let n: number
    if (t >= 0xa0 && t <= 0xbf) {
      n = t & 0x1f
      this.pos += 1
    } else if (t === 0xd9 || (t === 0xc4 && allowBin)) {
      this.need(2, what)
      n = b[this.pos + 1]
      this.pos += 2
    } else if (t === 0xda || (t === 0xc5 && allowBin)) {
      this.need(3, what)
      n = u16(b, this.pos + 1)
      this.pos += 3
    } else if (t === 0xdb || (t === 0xc6 && allowBin)) {
      this.need(5, what)
      n = u32(b, this.pos + 1)
      this.pos += 5
    } else {
      return -1
    }
    if (n > this.limits.maxStringBytes) this.fail(`${what} is ${n} bytes long, over the ${this.limits.maxStringBytes}-byte limit`)
    if (n > this.end - this.pos) this.fail(`${what} declares ${n} bytes but only ${this.end - this.pos} follow`)
    return n
  }

  /** A map key that must be a str; returns its byte length (its bytes start at keyStart). */
  strKey(what: string): number {
    this.need(1, what)
    const n = this.stringHeader(what, false)
    if (n < 0) this.wrongType(what, 'a string')
    this.keyStart = this.pos
    this.pos += n
    this.count()
    return n
  }

  /** A text value: str, bin (read as UTF-8) or nil (empty). Returns its byte length. */
  text(what: string): number {
    this.need(1, what)
    const t = this.buf[this.pos]
    if (t === 0xc0) {
      this.pos += 1
      this.fixup = true
      this.count()
      return 0
    }
    const n = this.stringHeader(what, true)
    if (n < 0) this.wrongType(what, 'a string')
    if (t >= 0xc4 && t <= 0xc6) this.fixup = true
    this.pos += n
    this.count()
    return n
  }

  /** An integer of any width, or nil (0). */
  int(what: string): void {
    this.need(1, what)
    const t = this.buf[this.pos]
    let size: number
    if (t < 0x80 || t >= 0xe0 || t === 0xc0) size = 1
    else if (t === 0xcc || t === 0xd0) size = 2
    else if (t === 0xcd || t === 0xd1) size = 3
    else if (t === 0xce || t === 0xd2) size = 5
    else if (t === 0xcf || t === 0xd3) size = 9
    else this.wrongType(what, 'an integer')
    this.need(size, what)
    this.pos += size
    this.count()
  }

  /** A string-table index (any non-negative integer width, nil = 0); must be below tableSize. */
  index(what: string, tableSize: number): number {
    this.need(1, what)
    const b = this.buf
    const p = this.pos
    const t = b[p]
    let v: number
    if (t < 0x80) {
      v = t
      this.pos += 1
    } else if (t === 0xc0) {
      v = 0
      this.pos += 1
    } else if (t === 0xcc || t === 0xd0) {
      this.need(2, what)
      v = t === 0xcc ? b[p + 1] : b.readInt8(p + 1)
      this.pos += 2
    } else if (t === 0xcd || t === 0xd1) {
      this.need(3, what)
      v = t === 0xcd ? u16(b, p + 1) : b.readInt16BE(p + 1)
      this.pos += 3
    } else if (t === 0xce || t === 0xd2) {
      this.need(5, what)
      v = t === 0xce ? u32(b, p + 1) : b.readInt32BE(p + 1)
      this.pos += 5
    } else if (t === 0xcf || t === 0xd3) {
      this.need(9, what)
      const hi = t === 0xcf ? u32(b, p + 1) : b.readInt32BE(p + 1)
      // any index that needs the upper word is out of range (or negative)
      if (hi !== 0) this.fail(`${what} ${hi < 0 ? 'is negative' : `${b.readBigUInt64BE(p + 1)} is out of range for a string table of ${tableSize}`}`)
      v = u32(b, p + 5)
      this.pos += 9
    } else if (t >= 0xe0) {
      v = t - 0x100
      this.pos += 1
    } else {
      this.wrongType(what, 'a string-table index')
    }
    if (v < 0 || v >= tableSize) {
      this.pos = p
      this.fail(`${what} ${v < 0 ? 'is negative' : `${v} is out of range for a string table of ${tableSize}`}`)
    }
    this.count()
    return v
  }

  /** A metric value: any integer or float, or nil. */
  number(what: string): void {
    this.need(1, what)
    const b = this.buf
    const t = b[this.pos]
    if (t === 0xcb) {
      this.need(9, what)
      // exponent all ones: NaN or ±Infinity, which JSON cannot carry
      if ((b[this.pos + 1] & 0x7f) === 0x7f && (b[this.pos + 2] & 0xf0) === 0xf0) this.fixup = true
      this.pos += 9
      this.count()
      return
    }
    if (t === 0xca) {
      this.need(5, what)
      if ((b[this.pos + 1] & 0x7f) === 0x7f && (b[this.pos + 2] & 0x80) === 0x80) this.fixup = true
      this.pos += 5
      this.count()
      return
    }
    if (!(t < 0x80 || t >= 0xe0 || (t >= 0xcc && t <= 0xd3) || t === 0xc0)) this.wrongType(what, 'a number')
    if (t === 0xc0 || t === 0xcf || t === 0xd3) this.fixup = true
    this.int(what)
  }

  /** Any msgpack value except ext and 0xc1, within the depth, string and length limits. */
  any(what: string, depth: number): void {
    if (depth > this.limits.maxDepth) this.fail(`${what} nests deeper than ${this.limits.maxDepth} levels`)
    this.need(1, what)
    const t = this.buf[this.pos]
    if (t < 0x80 || t >= 0xe0 || (t >= 0xc0 && t <= 0xc3 && t !== 0xc1)) {
      this.pos += 1
      this.count()
      return
    }
    if ((t >= 0x80 && t <= 0x8f) || t === 0xde || t === 0xdf) {
      const n = this.mapHeader(what, false)
      for (let i = 0; i < n; i++) {
        this.mapKey(what, depth + 1)
        this.any(what, depth + 1)
      }
      return
    }
    if ((t >= 0x90 && t <= 0x9f) || t === 0xdc || t === 0xdd) {
      const n = this.arrayHeader(what)
      for (let i = 0; i < n; i++) this.any(what, depth + 1)
      return
    }
    if ((t >= 0xa0 && t <= 0xbf) || (t >= 0xc4 && t <= 0xc6) || (t >= 0xd9 && t <= 0xdb)) {
      // (not `this.pos += this.stringHeader()`: that would add to the position from before the header)
      const n = this.stringHeader(what, true)
      this.pos += n
      this.count()
      return
    }
    if (t === 0xca) {
      this.need(5, what)
      this.pos += 5
      this.count()
      return
    }
    if (t === 0xcb) {
      this.need(9, what)
      this.pos += 9
      this.count()
      return
    }
    if (t >= 0xcc && t <= 0xd3) {
      this.int(what)
      return
    }
    this.fail(`${what} holds an unsupported ${typeName(t)} value`)
  }

  /** A key inside a map of a field we pass through: msgpackr turns keys into strings, which it can do for str and scalars but not bin or containers. */
  private mapKey(what: string, depth: number): void {
    this.need(1, what)
    const t = this.buf[this.pos]
    const scalar = t < 0x80 || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3 || (t >= 0xca && t <= 0xd3) || (t >= 0xa0 && t <= 0xbf) || (t >= 0xd9 && t <= 0xdb)
    if (!scalar) this.fail(`${what} has a map key of type ${typeName(t)}`)
    this.any(what, depth)
  }
}

/**
 * End of the value starting at p, for bytes a Scanner has already accepted
 * (no checks: it must not be used on anything else).
 */
export function skipValue(b: Buffer, p: number): number {
  const t = b[p]
  if (t < 0x80 || t >= 0xe0) return p + 1
  if (t < 0x90) {
    let q = p + 1
    for (let i = (t & 0x0f) * 2; i > 0; i--) q = skipValue(b, q)
    return q
  }
  if (t < 0xa0) {
    let q = p + 1
    for (let i = t & 0x0f; i > 0; i--) q = skipValue(b, q)
    return q
  }
  if (t < 0xc0) return p + 1 + (t & 0x1f)
  switch (t) {
    case 0xc0: case 0xc2: case 0xc3: return p + 1
    case 0xcc: case 0xd0: return p + 2
    case 0xcd: case 0xd1: return p + 3
    case 0xca: case 0xce: case 0xd2: return p + 5
    case 0xcb: case 0xcf: case 0xd3: return p + 9
    case 0xc4: case 0xd9: return p + 2 + b[p + 1]
    case 0xc5: case 0xda: return p + 3 + u16(b, p + 1)
    case 0xc6: case 0xdb: return p + 5 + u32(b, p + 1)
    case 0xdc: case 0xdd: {
      const wide = t === 0xdd
      let n = wide ? u32(b, p + 1) : u16(b, p + 1)
      let q = p + (wide ? 5 : 3)
      for (; n > 0; n--) q = skipValue(b, q)
      return q
    }
    case 0xde: case 0xdf: {
      const wide = t === 0xdf
      let n = (wide ? u32(b, p + 1) : u16(b, p + 1)) * 2
      let q = p + (wide ? 5 : 3)
      for (; n > 0; n--) q = skipValue(b, q)
      return q
    }
    default:
      throw new Error(`skipValue: token 0x${t.toString(16)} was not validated`)
  }
}

/** Count and end of an array header at p, for accepted bytes. */
export function arrayHeaderAt(b: Buffer, p: number): {count: number; next: number} {
  const t = b[p]
  if (t >= 0x90 && t <= 0x9f) return {count: t & 0x0f, next: p + 1}
  if (t === 0xdc) return {count: u16(b, p + 1), next: p + 3}
  return {count: u32(b, p + 1), next: p + 5}
}

/** Count and end of a map header (or nil, as 0) at p, for accepted bytes. */
export function mapHeaderAt(b: Buffer, p: number): {count: number; next: number} {
  const t = b[p]
  if (t >= 0x80 && t <= 0x8f) return {count: t & 0x0f, next: p + 1}
  if (t === 0xde) return {count: u16(b, p + 1), next: p + 3}
  if (t === 0xdf) return {count: u32(b, p + 1), next: p + 5}
  return {count: 0, next: p + 1}
}
