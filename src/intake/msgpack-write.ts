/**
 * The few msgpack forms the re-encoder writes, in dd-trace's style: ids and
 * start as uint64 (0xcf), string-table indexes as uint32 (0xce). msgpackr's
 * packer would write bigints below 2^63 as int64 (0xd3) instead.
 */

const INITIAL_BYTES = 64 * 1024

export class MsgpackWriter {
  private buf: Buffer
  private pos = 0

  constructor(initialBytes = INITIAL_BYTES) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialBytes))
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  get length(): number {
    return this.pos
  }

  arrayHeader(n: number): void {
    this.header(n, 0x90, 0xdc, 0xdd)
  }

  mapHeader(n: number): void {
    this.header(n, 0x80, 0xde, 0xdf)
  }

  private header(n: number, fix: number, t16: number, t32: number): void {
    this.ensure(5)
    if (n < 16) {
      this.buf[this.pos++] = fix | n
    } else if (n < 0x10000) {
      this.buf[this.pos] = t16
      this.buf.writeUInt16BE(n, this.pos + 1)
      this.pos += 3
    } else {
      this.buf[this.pos] = t32
      this.buf.writeUInt32BE(n, this.pos + 1)
      this.pos += 5
    }
  }

  str(s: string): void {
    const n = Buffer.byteLength(s, 'utf8')
    this.ensure(5 + n)
    if (n < 32) {
      this.buf[this.pos++] = 0xa0 | n
    } else if (n < 0x100) {
      this.buf[this.pos] = 0xd9
      this.buf[this.pos + 1] = n
      this.pos += 2
    } else if (n < 0x10000) {
      this.buf[this.pos] = 0xda
      this.buf.writeUInt16BE(n, this.pos + 1)
      this.pos += 3
    } else {
      this.buf[this.pos] = 0xdb
      this.buf.writeUInt32BE(n, this.pos + 1)
      this.pos += 5
    }
    this.pos += this.buf.write(s, this.pos, n, 'utf8')
  }

  /** An unsigned 64-bit id; negative wire values are the same bits read unsigned. */
  uint64(v: bigint | number | null): void {
    this.ensure(9)
    this.buf[this.pos] = 0xcf
    this.buf.writeBigUInt64BE(BigInt.asUintN(64, BigInt(v ?? 0)), this.pos + 1)
    this.pos += 9
  }

  /** A signed 64-bit time: uint64 when non-negative (as dd-trace), int64 otherwise. */
  time64(v: bigint | number | null): void {
    const b = BigInt.asIntN(64, BigInt(v ?? 0))
    if (b >= 0n) return this.uint64(b)
    this.ensure(9)
    this.buf[this.pos] = 0xd3
    this.buf.writeBigInt64BE(b, this.pos + 1)
    this.pos += 9
  }

  /** A duration the way dd-trace writes it: uint32 below 2^32 ns, else 64-bit. */
  duration(v: bigint | number | null): void {
    const b = BigInt.asIntN(64, BigInt(v ?? 0))
    if (b >= 0n && b < 0x100000000n) return this.uint32(Number(b))
    this.time64(b)
  }

  uint32(n: number): void {
    this.ensure(5)
    this.buf[this.pos] = 0xce
    this.buf.writeUInt32BE(n, this.pos + 1)
    this.pos += 5
  }

  /** A small integer such as `error`, in the shortest signed or unsigned form. */
  int(v: bigint | number | null): void {
    const b = BigInt.asIntN(64, BigInt(v ?? 0))
    if (b >= 0n && b < 128n) {
      this.ensure(1)
      this.buf[this.pos++] = Number(b)
    } else if (b >= -2147483648n && b <= 2147483647n) {
      this.ensure(5)
      this.buf[this.pos] = 0xd2
      this.buf.writeInt32BE(Number(b), this.pos + 1)
      this.pos += 5
    } else {
      this.time64(b)
    }
  }

  float64(v: number): void {
    this.ensure(9)
    this.buf[this.pos] = 0xcb
    this.buf.writeDoubleBE(v, this.pos + 1)
    this.pos += 9
  }

  /** Bytes copied as they are. */
  raw(src: Buffer, start = 0, end = src.length): void {
    this.ensure(end - start)
    src.copy(this.buf, this.pos, start, end)
    this.pos += end - start
  }

  /** A copy of what was written (the writer can be dropped afterwards). */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos))
  }
}
