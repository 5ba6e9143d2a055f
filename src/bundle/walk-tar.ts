/**
 * Streams a .tar.gz through node-tar's parser into an EntryCollector. We
 * gunzip ourselves so the decompression ratio and the byte counts are ours to
 * bound; node-tar only parses headers. Only regular files and directories are
 * accepted: links, devices, FIFOs and unknown types refuse the whole bundle.
 */
import {createReadStream} from 'node:fs'
import {createGunzip} from 'node:zlib'
import type {ReadEntry} from 'tar'
import {isVdiagError} from '../errors.js'
import {bundleCorrupt, bundleUnsafe, showName} from './bundle-errors.js'
import type {EntryCollector} from './entry-collector.js'
import type {ReaderLimits} from './limits.js'

/** pax/long-name headers are held in memory by the parser; real ones are a few hundred bytes. */
const MAX_TAR_META_BYTES = 64 * 1024
/** How long to wait for the parser's end after the last byte (it ends synchronously in practice). */
const PARSER_END_GRACE_MS = 10_000

async function* gunzipped(file: string, limits: ReaderLimits): AsyncGenerator<Buffer> {
  const src = createReadStream(file, {highWaterMark: 64 * 1024})
  const gunzip = createGunzip()
  let compressed = 0
  let decompressed = 0
  src.on('data', (c) => {
    compressed += c.length
  })
  src.on('error', (e) => gunzip.destroy(e))
  src.pipe(gunzip)
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      decompressed += chunk.length
      if (decompressed > limits.ratioGraceBytes && decompressed > compressed * limits.maxCompressionRatio) {
        throw bundleUnsafe(
          `decompression ratio over ${limits.maxCompressionRatio}:1 (${decompressed} bytes from ${compressed}); this looks like a gzip bomb`,
        )
      }
      if (decompressed > limits.maxTotalBytes + 1024 * 1024) {
        throw bundleUnsafe(`archive expands to more than the limit of ${limits.maxTotalBytes} bytes`)
      }
      yield chunk
    }
  } catch (e) {
    if (isVdiagError(e)) throw e
    const err = e as NodeJS.ErrnoException
    if (err.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(err.message)) throw bundleCorrupt('the gzip stream is truncated (the file was cut short)')
    if (typeof err.code === 'string' && err.code.startsWith('Z_')) throw bundleCorrupt(`the gzip stream is damaged (${err.message})`)
    throw e
  } finally {
    src.destroy()
    gunzip.destroy()
  }
}

function describeType(entry: ReadEntry): string {
  switch (entry.type) {
    case 'SymbolicLink':
      return `symbolic link ${showName(entry.path)} -> ${showName(entry.linkpath ?? '')}`
    case 'Link':
      return `hard link ${showName(entry.path)} -> ${showName(entry.linkpath ?? '')}`
    case 'CharacterDevice':
    case 'BlockDevice':
      return `device file ${showName(entry.path)}`
    case 'FIFO':
      return `FIFO ${showName(entry.path)}`
    default:
      return `entry ${showName(entry.path)} of unsupported type ${entry.type}`
  }
}

export async function walkTarGz(file: string, limits: ReaderLimits, collector: EntryCollector): Promise<void> {
  const {Parser} = await import('tar')
  let failure: unknown = null
  const fail = (e: unknown) => {
    failure ??= e
  }
  let ended = false
  const parser = new Parser({strict: true, maxMetaEntrySize: MAX_TAR_META_BYTES})
  parser.on('error', (e: Error) => fail(bundleCorrupt(`not a valid tar archive (${e.message.replace(/^TAR_\w+: /, '')})`)))
  parser.on('ignoredEntry', (entry: ReadEntry) =>
    fail(entry.meta ? bundleUnsafe(`oversized tar metadata header (${entry.size} bytes)`) : bundleUnsafe(describeType(entry))),
  )
  parser.on('end', () => {
    ended = true
  })
  parser.on('entry', (entry: ReadEntry) => {
    if (failure) {
      entry.resume()
      return
    }
    try {
      switch (entry.type) {
        case 'Directory':
          collector.dir(entry.path)
          entry.resume()
          return
        case 'File':
        case 'OldFile':
        case 'ContiguousFile': {
          const sink = collector.openFile(entry.path, entry.size)
          entry.on('end', () => {
            if (failure) return
            try {
              sink.close()
            } catch (e) {
              fail(e)
            }
          })
          entry.on('data', (chunk: Buffer) => {
            if (failure) return
            try {
              sink.write(chunk)
            } catch (e) {
              fail(e)
            }
          })
          return
        }
        default:
          throw bundleUnsafe(describeType(entry))
      }
    } catch (e) {
      fail(e)
      entry.resume()
    }
  })

  try {
    for await (const chunk of gunzipped(file, limits)) {
      parser.write(chunk)
      if (failure) throw failure
    }
    parser.end()
    if (!ended && !failure) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, PARSER_END_GRACE_MS)
        parser.once('end', () => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
    if (failure) throw failure
    if (!ended) throw bundleCorrupt('the tar archive did not end properly')
  } catch (e) {
    collector.abort()
    throw e
  }
}
