/**
 * Reads a .zip with yauzl into an EntryCollector. The whole central directory
 * is read and judged first (entry count, declared sizes, ratios, overlapping
 * or duplicated local entries, types from the Unix mode bits), then each entry
 * is inflated as a stream with a byte cap.
 */
import type {Entry, ZipFile} from 'yauzl'
import {isVdiagError} from '../errors.js'
import {bundleCorrupt, bundleUnsafe, showName} from './bundle-errors.js'
import type {EntryCollector} from './entry-collector.js'
import type {ReaderLimits} from './limits.js'

/** Fixed part of a zip local file header, before the name and extra field. */
const LOCAL_HEADER_FIXED_BYTES = 30
const S_IFMT = 0o170000
const S_IFREG = 0o100000
const S_IFDIR = 0o040000
const S_IFLNK = 0o120000
/** Zip "version made by" host systems whose external attributes carry Unix mode bits. */
const HOST_UNIX = 3
const HOST_OSX = 19

interface Judged {
  entry: Entry
  name: string
  dir: boolean
}

function entryName(entry: Entry, getFileNameLowLevel: (flag: number, raw: Buffer, extra: Entry['extraFields'], strict: boolean) => string): string {
  const raw = (entry as unknown as {fileNameRaw?: Buffer}).fileNameRaw ?? (entry.fileName as unknown as Buffer)
  return getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, false)
}

function judge(entry: Entry, name: string): Judged {
  const host = entry.versionMadeBy >> 8
  const mode = (entry.externalFileAttributes >>> 16) & 0xffff
  const type = host === HOST_UNIX || host === HOST_OSX ? mode & S_IFMT : 0
  if (type === S_IFLNK) throw bundleUnsafe(`symbolic link ${showName(name)}`)
  if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) throw bundleUnsafe(`special file ${showName(name)} (mode ${mode.toString(8)})`)
  const dir = name.endsWith('/') || type === S_IFDIR
  if (entry.isEncrypted()) throw bundleCorrupt(`entry ${showName(name)} is encrypted`)
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    throw bundleCorrupt(`entry ${showName(name)} uses unsupported compression method ${entry.compressionMethod}`)
  }
  return {entry, name, dir}
}

/** Each entry's local header and data must lie before the next one and before the central directory. */
function checkLayout(entries: Entry[], names: string[], centralDirectoryOffset: number): void {
  const order = entries.map((e, i) => i).sort((a, b) => entries[a]!.relativeOffsetOfLocalHeader - entries[b]!.relativeOffsetOfLocalHeader)
  for (let k = 0; k < order.length; k++) {
    const e = entries[order[k]!]!
    const end = e.relativeOffsetOfLocalHeader + LOCAL_HEADER_FIXED_BYTES + e.fileNameLength + e.compressedSize
    const next = k + 1 < order.length ? entries[order[k + 1]!]! : null
    if (next && next.relativeOffsetOfLocalHeader < end) {
      throw bundleUnsafe(`zip entries ${showName(names[order[k]!]!)} and ${showName(names[order[k + 1]!]!)} overlap`)
    }
    if (end > centralDirectoryOffset) throw bundleUnsafe(`zip entry ${showName(names[order[k]!]!)} overlaps the central directory`)
  }
}

export async function walkZip(file: string, limits: ReaderLimits, collector: EntryCollector): Promise<void> {
  const yauzl = await import('yauzl')
  const lib = (yauzl as unknown as {default?: typeof yauzl}).default ?? yauzl
  let zip: ZipFile
  try {
    zip = await lib.openPromise(file, {lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true})
  } catch (e) {
    throw bundleCorrupt(`not a valid zip archive (${(e as Error).message})`)
  }
  try {
    const centralDirectoryOffset = Number((zip as unknown as {readEntryCursor: number}).readEntryCursor)
    collector.declareTotals(zip.entryCount, 0)
    const entries: Entry[] = []
    const names: string[] = []
    let declared = 0
    try {
      for await (const entry of zip.eachEntry()) {
        entries.push(entry)
        names.push(entryName(entry, lib.getFileNameLowLevel))
        declared += entry.uncompressedSize
        collector.declareTotals(entries.length, declared)
      }
    } catch (e) {
      if (isVdiagError(e)) throw e
      throw bundleCorrupt(`the zip central directory is damaged (${(e as Error).message})`)
    }
    checkLayout(entries, names, centralDirectoryOffset)
    const judged = entries.map((e, i) => judge(e, names[i]!))
    for (const {entry, name} of judged) {
      if (entry.uncompressedSize > limits.ratioGraceBytes && entry.uncompressedSize > Math.max(entry.compressedSize, 1) * limits.maxCompressionRatio) {
        throw bundleUnsafe(
          `entry ${showName(name)} declares a compression ratio over ${limits.maxCompressionRatio}:1 (${entry.uncompressedSize} bytes from ${entry.compressedSize}); this looks like a zip bomb`,
        )
      }
    }
    for (const {entry, name, dir} of judged) {
      if (dir) {
        collector.dir(name)
        continue
      }
      const sink = collector.openFile(name, entry.uncompressedSize)
      let stream: NodeJS.ReadableStream
      try {
        stream = await zip.openReadStreamPromise(entry)
      } catch (e) {
        throw bundleCorrupt(`cannot read zip entry ${showName(name)} (${(e as Error).message})`)
      }
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) sink.write(chunk)
      } catch (e) {
        ;(stream as unknown as {destroy?: () => void}).destroy?.()
        if (isVdiagError(e)) throw e
        const msg = (e as Error).message
        if (/too many bytes/.test(msg)) throw bundleUnsafe(`zip entry ${showName(name)} holds more data than it declares`)
        throw bundleCorrupt(`zip entry ${showName(name)} is damaged (${msg})`)
      }
      sink.close()
    }
  } catch (e) {
    collector.abort()
    throw e
  } finally {
    zip.close()
  }
}
