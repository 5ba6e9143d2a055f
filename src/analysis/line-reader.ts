import {createReadStream} from 'node:fs'
import {createGunzip} from 'node:zlib'
import type {Readable} from 'node:stream'
import {VdiagError} from '../errors.js'

/**
 * One NDJSON line may not exceed this. A span line is well under 100 KB even
 * with Datadog's 25,000-char meta values; the cap keeps a hostile file made
 * of one endless line from growing a buffer until V8 gives up (strings stop
 * at ~512 MB).
 */
export const MAX_LINE_BYTES = 16 * 1024 * 1024

const NEWLINE = 0x0a
/** Larger chunks than the 16/64 KiB defaults: fewer stream callbacks per million lines. */
const STREAM_CHUNK_BYTES = 256 * 1024

/**
 * Calls `onLine` for every non-empty line of `stream`, splitting on bytes
 * (0x0a never occurs inside a UTF-8 sequence) so no chunk is ever joined
 * into one big string. Resolves with the number of lines seen.
 */
export async function forEachLine(stream: Readable, onLine: (line: string) => void, what: string, maxLineBytes = MAX_LINE_BYTES): Promise<number> {
  let pending: Buffer[] = []
  let pendingBytes = 0
  let lines = 0
  const tooLong = () =>
    new VdiagError('bundle_corrupt', `${what}: a line is longer than ${maxLineBytes} bytes`, {
      hint: 'the file is not the NDJSON a vdiag capture writes; re-capture or check the bundle',
    })
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0
    let nl = chunk.indexOf(NEWLINE, start)
    while (nl !== -1) {
      let line: string
      if (pendingBytes > 0) {
        pending.push(chunk.subarray(start, nl))
        pendingBytes += nl - start
        if (pendingBytes > maxLineBytes) throw tooLong()
        line = Buffer.concat(pending, pendingBytes).toString('utf8')
        pending = []
        pendingBytes = 0
      } else {
        if (nl - start > maxLineBytes) throw tooLong()
        line = chunk.toString('utf8', start, nl)
      }
      if (line.length > 0 && line !== '\r') {
        lines++
        onLine(line)
      }
      start = nl + 1
      nl = chunk.indexOf(NEWLINE, start)
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start))
      pendingBytes += chunk.length - start
      if (pendingBytes > maxLineBytes) throw tooLong()
    }
  }
  if (pendingBytes > 0) {
    const line = Buffer.concat(pending, pendingBytes).toString('utf8')
    if (line.trim().length > 0) {
      lines++
      onLine(line)
    }
  }
  return lines
}

/** Streams the lines of a gzip file; a truncated or corrupt gzip is a `bundle_corrupt` error naming the file. */
export async function forEachGzipLine(file: string, onLine: (line: string) => void, what: string, maxLineBytes = MAX_LINE_BYTES): Promise<number> {
  const gunzip = createGunzip({chunkSize: STREAM_CHUNK_BYTES})
  const source = createReadStream(file, {highWaterMark: STREAM_CHUNK_BYTES})
  source.on('error', (e) => gunzip.destroy(e))
  source.pipe(gunzip)
  try {
    return await forEachLine(gunzip, onLine, what, maxLineBytes)
  } catch (e) {
    if (e instanceof VdiagError) throw e
    const code = (e as NodeJS.ErrnoException).code
    const detail = code === 'Z_BUF_ERROR' ? 'the gzip stream is truncated' : (e as Error).message
    throw new VdiagError('bundle_corrupt', `${what}: cannot decompress (${detail})`, {
      hint: 'the bundle is damaged; ask for it again',
      cause: e,
    })
  } finally {
    source.destroy()
    gunzip.destroy()
  }
}

/** Streams the lines of a plain text file. */
export async function forEachFileLine(file: string, onLine: (line: string) => void, what: string): Promise<number> {
  const source = createReadStream(file)
  try {
    return await forEachLine(source, onLine, what)
  } finally {
    source.destroy()
  }
}
