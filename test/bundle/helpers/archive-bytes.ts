/**
 * Byte-level tar and zip builders for the hostile-archive corpus: they make
 * archives that archiver and node-tar refuse to produce (traversal, links,
 * devices, lying sizes, overlapping zip entries).
 */
import {gzipSync, deflateRawSync} from 'node:zlib'

// ---------- tar ----------

export interface TarSpec {
  name: string
  body?: Buffer | string
  /** '0' file, '1' hard link, '2' symlink, '3' char device, '4' block device, '5' directory, '6' FIFO. */
  type?: string
  linkname?: string
  mode?: number
  /** Size written in the header when it should differ from the body (body is still padded to its own length). */
  headerSize?: number
}

function writeOctal(b: Buffer, off: number, len: number, value: number): void {
  b.write(value.toString(8).padStart(len - 1, '0') + '\0', off, len, 'ascii')
}

export function tarHeader(spec: TarSpec, bodyLength: number): Buffer {
  const b = Buffer.alloc(512)
  b.write(spec.name, 0, 100, 'utf8')
  const type = spec.type ?? '0'
  writeOctal(b, 100, 8, spec.mode ?? (type === '5' ? 0o755 : 0o644))
  writeOctal(b, 108, 8, 0)
  writeOctal(b, 116, 8, 0)
  const size = spec.headerSize ?? bodyLength
  if (size > 0o77777777777) {
    // base-256 for sizes beyond 8 GiB
    b[124] = 0x80
    let v = BigInt(size)
    for (let i = 135; i > 124; i--) {
      b[i] = Number(v & 0xffn)
      v >>= 8n
    }
  } else {
    writeOctal(b, 124, 12, size)
  }
  writeOctal(b, 136, 12, 1_700_000_000)
  b.fill(' ', 148, 156)
  b.write(type, 156, 1, 'ascii')
  if (spec.linkname) b.write(spec.linkname, 157, 100, 'utf8')
  b.write('ustar\0', 257, 6, 'ascii')
  b.write('00', 263, 2, 'ascii')
  let sum = 0
  for (const byte of b) sum += byte
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii')
  return b
}

export function tarEntry(spec: TarSpec): Buffer {
  const body = typeof spec.body === 'string' ? Buffer.from(spec.body) : (spec.body ?? Buffer.alloc(0))
  const pad = (512 - (body.length % 512)) % 512
  return Buffer.concat([tarHeader(spec, body.length), body, Buffer.alloc(pad)])
}

export function tarBytes(entries: TarSpec[], {end = true}: {end?: boolean} = {}): Buffer {
  return Buffer.concat([...entries.map(tarEntry), end ? Buffer.alloc(1024) : Buffer.alloc(0)])
}

export function tarGz(entries: TarSpec[]): Buffer {
  return gzipSync(tarBytes(entries))
}

// ---------- zip ----------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

export function crc32(buf: Buffer): number {
  let c = 0xffffffff
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

export interface ZipSpec {
  name: string
  body?: Buffer | string
  /** 0 stored, 8 deflate (default). */
  method?: 0 | 8
  /** Unix mode including the type bits, e.g. 0o120777 for a symlink. Default regular file 0o100644 (or 0o040755 for names ending in /). */
  mode?: number
  /** Uncompressed size to declare instead of the real one. */
  declaredSize?: number
}

export interface CentralOverride {
  /** Index of the local entry this central record describes. */
  of: number
  name?: string
  /** Compressed size to declare instead of the real one (to make ranges overlap). */
  compressedSize?: number
}

interface BuiltLocal {
  offset: number
  name: Buffer
  method: number
  crc: number
  compressed: Buffer
  uncompressedSize: number
  mode: number
}

/**
 * A zip archive. `central` lists the central-directory records (default one
 * per local entry), so several records can point at one local entry or claim
 * ranges that overlap the next one.
 */
export function zipBytes(entries: ZipSpec[], central?: CentralOverride[]): Buffer {
  const parts: Buffer[] = []
  const locals: BuiltLocal[] = []
  let offset = 0
  for (const e of entries) {
    const body = typeof e.body === 'string' ? Buffer.from(e.body) : (e.body ?? Buffer.alloc(0))
    const method = e.method ?? 8
    const compressed = method === 8 ? deflateRawSync(body) : body
    const name = Buffer.from(e.name, 'utf8')
    const crc = crc32(body)
    const uncompressedSize = e.declaredSize ?? body.length
    const h = Buffer.alloc(30)
    h.writeUInt32LE(0x04034b50, 0)
    h.writeUInt16LE(20, 4)
    h.writeUInt16LE(0x0800, 6)
    h.writeUInt16LE(method, 8)
    h.writeUInt16LE(0, 10)
    h.writeUInt16LE(0x5021, 12)
    h.writeUInt32LE(crc, 14)
    h.writeUInt32LE(compressed.length, 18)
    h.writeUInt32LE(uncompressedSize, 22)
    h.writeUInt16LE(name.length, 26)
    h.writeUInt16LE(0, 28)
    const mode = e.mode ?? (e.name.endsWith('/') ? 0o040755 : 0o100644)
    locals.push({offset, name, method, crc, compressed, uncompressedSize, mode})
    parts.push(h, name, compressed)
    offset += h.length + name.length + compressed.length
  }
  const cdStart = offset
  const records: CentralOverride[] = central ?? entries.map((_, i) => ({of: i}))
  for (const r of records) {
    const l = locals[r.of]!
    const name = r.name !== undefined ? Buffer.from(r.name, 'utf8') : l.name
    const c = Buffer.alloc(46)
    c.writeUInt32LE(0x02014b50, 0)
    c.writeUInt16LE((3 << 8) | 20, 4)
    c.writeUInt16LE(20, 6)
    c.writeUInt16LE(0x0800, 8)
    c.writeUInt16LE(l.method, 10)
    c.writeUInt16LE(0, 12)
    c.writeUInt16LE(0x5021, 14)
    c.writeUInt32LE(l.crc, 16)
    c.writeUInt32LE(r.compressedSize ?? l.compressed.length, 20)
    c.writeUInt32LE(l.uncompressedSize, 24)
    c.writeUInt16LE(name.length, 28)
    c.writeUInt16LE(0, 30)
    c.writeUInt16LE(0, 32)
    c.writeUInt16LE(0, 34)
    c.writeUInt16LE(0, 36)
    c.writeUInt32LE((l.mode << 16) >>> 0, 38)
    c.writeUInt32LE(l.offset, 42)
    parts.push(c, name)
    offset += c.length + name.length
  }
  const eocd = Buffer.alloc(22)
  eocd.writeUInt32LE(0x06054b50, 0)
  eocd.writeUInt16LE(records.length, 8)
  eocd.writeUInt16LE(records.length, 10)
  eocd.writeUInt32LE(offset - cdStart, 12)
  eocd.writeUInt32LE(cdStart, 16)
  parts.push(eocd)
  return Buffer.concat(parts)
}
