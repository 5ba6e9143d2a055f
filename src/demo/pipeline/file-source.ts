/**
 * The demo's `file` source, shaped like Vector's: every glob cooldown it lists
 * the directory and fingerprints every matching file (first bytes, checksum),
 * then reads new lines from each known file, hands them downstream as one
 * batch, and sleeps when there was nothing to read. As in Vector, the next
 * scan is due one cooldown after the previous scan *started*: when a scan
 * takes longer than the cooldown (thousands of files to fingerprint), every
 * iteration scans, and reading falls behind the writers. Files last modified
 * before `ignoreOlderMs` are fingerprinted but not read (Vector's
 * `ignore_older_secs`), unless they grow.
 *
 * Fingerprinting uses blocking file calls in slices, yielding to the event
 * loop between slices, the way Vector's file server does blocking I/O on its
 * own thread. With a promise per call, a scan would cost thousands of thread
 * pool round trips, and its time would measure the machine's scheduling
 * latency (from 0.2 s to many seconds under load) more than the work.
 *
 * Stages: `discover` (sub-stages `collect_paths`, `fingerprint`), `read`
 * (sub-stage `read_file`), `send` (blocked on the downstream queue), `sleep`.
 */
import {createHash} from 'node:crypto'
import {closeSync, fstatSync, openSync, readSync} from 'node:fs'
import {open, readdir, type FileHandle} from 'node:fs/promises'
import path from 'node:path'
import {setImmediate as yieldToLoop, setTimeout as sleep} from 'node:timers/promises'
import type {BoundedQueue} from './queue.js'
import type {ComponentRuntime} from './runtime.js'

/**
 * Vector's default fingerprint: a checksum of the file's first bytes. Files
 * shorter than this are not fingerprinted yet (and not read), as in Vector.
 */
export const FINGERPRINT_BYTES = 256
/**
 * Fingerprinting blocks the event loop for at most this long at a time, then
 * yields (like the transform's CPU slices), so the other components and the
 * admin API keep running during a long scan.
 */
const MAX_SYNC_FINGERPRINT_MS = 10
/** Nothing read: sleep this long before the next iteration (Vector backs off similarly). */
const IDLE_SLEEP_MS = 50
/** Most bytes read from one file per read call. */
const READ_CHUNK_BYTES = 64 * 1024
/** Most bytes one iteration reads across all files: bounds the iteration and the batch. */
const READ_BUDGET_BYTES = 256 * 1024
const NEWLINE = 0x0a
/**
 * A file that returned no data this many reads in a row goes cold: its handle
 * is closed and only a directory scan that sees it grow makes it hot again.
 * Without this, thousands of rotated files would turn every `read` into
 * thousands of empty reads (and thousands of open descriptors). A file never
 * seen growing (a rotated file) goes cold at its first empty read.
 */
const COLD_AFTER_EMPTY_READS = 5

interface TrackedFile {
  path: string
  fingerprint: string
  /** Open only while the file is hot. */
  handle: FileHandle | null
  offset: number
  /** Size at the last directory scan. */
  scanSize: number
  /** Seen growing since discovery: an active file, kept hot longer. */
  grown: boolean
  emptyReads: number
  /** Bytes after the last newline, waiting for the rest of their line. */
  partial: Buffer
}

function coldAfter(file: TrackedFile): number {
  return file.grown ? COLD_AFTER_EMPTY_READS : 1
}

function isHot(file: TrackedFile): boolean {
  return file.emptyReads < coldAfter(file) && (file.grown || file.handle !== null || file.offset < file.scanSize)
}

interface Fingerprint {
  fingerprint: string
  size: number
  mtimeMs: number
}

/**
 * Vector's checksum fingerprinter: the first FINGERPRINT_BYTES of the file,
 * hashed (blocking calls; see the module comment). Null when the file is too
 * short to fingerprint, or vanished meanwhile. `head` is scratch space.
 */
function fingerprint(filePath: string, head: Buffer): Fingerprint | null {
  let fd: number
  try {
    fd = openSync(filePath, 'r')
  } catch {
    return null
  }
  try {
    const {size, mtimeMs} = fstatSync(fd)
    if (size < FINGERPRINT_BYTES) return null
    if (readSync(fd, head, 0, FINGERPRINT_BYTES, 0) < FINGERPRINT_BYTES) return null
    return {fingerprint: createHash('sha1').update(head).digest('hex'), size, mtimeMs}
  } catch {
    return null
  } finally {
    closeSync(fd)
  }
}

export interface FileSourceOptions {
  dir: string
  globCooldownMs: number
  /** A file discovered with an older modification time starts at its end (Vector's `ignore_older_secs`). */
  ignoreOlderMs: number
  batchSize: number
  log(message: string): void
}

export class FileSource {
  /** Bytes consumed from files (for the generator's backlog bound). */
  consumedBytes = 0
  private readonly files = new Map<string, TrackedFile>()
  private lastScan = -Infinity
  private cursor = 0
  private running = false
  private loop: Promise<void> | null = null
  private readonly readBuffer = Buffer.allocUnsafe(READ_CHUNK_BYTES)

  constructor(
    private readonly rt: ComponentRuntime,
    private readonly out: BoundedQueue,
    private readonly opts: FileSourceOptions,
  ) {}

  start(): void {
    this.running = true
    this.loop = this.run()
  }

  async stop(): Promise<void> {
    this.running = false
    await this.loop
    await Promise.all([...this.files.values()].map((f) => this.cool(f)))
    this.files.clear()
  }

  private async run(): Promise<void> {
    const rt = this.rt
    while (this.running) {
      rt.beginIteration()
      try {
        if (performance.now() - this.lastScan >= this.opts.globCooldownMs) {
          this.lastScan = performance.now()
          rt.stage('discover')
          await this.discover()
        }
        rt.stage('read')
        const batch = await this.read()
        if (batch.lines.length > 0) {
          rt.stage('send')
          const started = performance.now()
          await this.out.push({lines: batch.lines, bytes: batch.bytes, enqueuedAt: 0})
          rt.stats.sendLatency.observe((performance.now() - started) / 1000)
          rt.stats.counters.sent_events += batch.lines.length
          rt.stats.counters.sent_bytes += batch.bytes
          rt.count(batch.lines.length, batch.bytes)
        } else {
          rt.stage('sleep')
          await sleep(IDLE_SLEEP_MS)
        }
      } catch (err) {
        rt.stats.counters.errors++
        this.opts.log(`${rt.identity.id}: ${(err as Error).message}`)
        rt.stage('sleep')
        await sleep(IDLE_SLEEP_MS)
      } finally {
        rt.endIteration()
      }
    }
  }

  private async discover(): Promise<void> {
    const rt = this.rt
    const collect = rt.sub('collect_paths', {glob: path.join(this.opts.dir, '*.log')})
    const listed = await readdir(this.opts.dir)
    const paths = rt.cpu(() => listed.filter((n) => n.endsWith('.log')).sort().map((n) => path.join(this.opts.dir, n)))
    collect?.end(paths.length)
    const seen = new Set<string>()
    const replaced: TrackedFile[] = []
    const head = Buffer.allocUnsafe(FINGERPRINT_BYTES)
    // One span for the whole pass: one per file would be thousands per scan in slow-discovery,
    // far beyond the per-iteration span cap, and costlier than the work measured.
    const span = paths.length > 0 ? rt.sub('fingerprint', {'file.first_path': paths[0], 'file.last_path': paths[paths.length - 1]}) : null
    let bytes = 0
    for (let next = 0; next < paths.length; ) {
      if (next > 0) await yieldToLoop()
      next = rt.cpu(() => {
        const sliceStart = performance.now()
        let i = next
        while (i < paths.length && performance.now() - sliceStart < MAX_SYNC_FINGERPRINT_MS) {
          const filePath = paths[i++]
          const found = fingerprint(filePath, head)
          if (found === null) continue
          bytes += FINGERPRINT_BYTES
          seen.add(filePath)
          const old = this.track(filePath, found)
          if (old !== null) replaced.push(old)
        }
        return i
      })
    }
    span?.end(undefined, bytes, {files: paths.length})
    for (const file of replaced) await this.cool(file)
    for (const [filePath, file] of this.files) {
      // Gone from the directory: an open handle still sees the data, so finish reading it first.
      if (!seen.has(filePath) && (file.handle === null || file.emptyReads > 0)) {
        await this.cool(file)
        this.files.delete(filePath)
      }
    }
  }

  /** Records a scanned file; returns the entry it replaces (to be closed), if any. */
  private track(filePath: string, found: Fingerprint): TrackedFile | null {
    const known = this.files.get(filePath)
    if (known !== undefined && known.fingerprint === found.fingerprint) {
      if (found.size > known.scanSize) known.grown = true
      if (found.size > known.offset) known.emptyReads = 0
      known.scanSize = found.size
      return null
    }
    // New file, or a path whose content was replaced (rotation by copy): start from the beginning,
    // unless it is too old to ship.
    const offset = Date.now() - found.mtimeMs > this.opts.ignoreOlderMs ? found.size : 0
    this.files.set(filePath, {path: filePath, fingerprint: found.fingerprint, handle: null, offset, scanSize: found.size, grown: false, emptyReads: 0, partial: Buffer.alloc(0)})
    return known ?? null
  }

  private async cool(file: TrackedFile): Promise<void> {
    const handle = file.handle
    file.handle = null
    await handle?.close().catch(() => undefined)
  }

  /** Reads complete new lines, round-robin over hot files, within the iteration's byte budget. */
  private async read(): Promise<{lines: string[]; bytes: number}> {
    const rt = this.rt
    const files = [...this.files.values()].filter(isHot)
    const lines: string[] = []
    let bytes = 0
    let budget = READ_BUDGET_BYTES
    let visited = 0
    while (visited < files.length && budget > 0 && lines.length < this.opts.batchSize) {
      const file = files[(this.cursor + visited) % files.length]
      visited++
      const span = rt.sub('read_file', {'file.path': file.path})
      const before = lines.length
      const read = await this.readFile(file, Math.min(budget, READ_CHUNK_BYTES), lines)
      budget -= read
      bytes += read
      span?.end(lines.length - before, read)
    }
    // Next iteration starts where this one stopped, so no file starves.
    this.cursor = files.length === 0 ? 0 : (this.cursor + visited) % files.length
    if (bytes > 0) {
      this.rt.stats.counters.received_events += lines.length
      this.rt.stats.counters.received_bytes += bytes
      rt.count(lines.length, bytes)
    }
    // Lines are ASCII JSON, so their string length is their byte length.
    return {lines, bytes: lines.reduce((sum, l) => sum + l.length, 0)}
  }

  private async readFile(file: TrackedFile, max: number, lines: string[]): Promise<number> {
    if (file.handle === null) {
      try {
        file.handle = await open(file.path, 'r')
      } catch {
        // Deleted between the scan and this read while cold: nothing left to read.
        this.files.delete(file.path)
        return 0
      }
    }
    const {bytesRead} = await file.handle.read(this.readBuffer, 0, max, file.offset)
    if (bytesRead === 0) {
      if (++file.emptyReads >= coldAfter(file)) await this.cool(file)
      return 0
    }
    file.emptyReads = 0
    file.offset += bytesRead
    if (file.offset > file.scanSize) file.grown = true
    // A rotated file read to the end: no need for an empty read to learn it is done.
    else if (!file.grown && file.offset === file.scanSize) await this.cool(file)
    this.consumedBytes += bytesRead
    this.rt.cpu(() => this.splitLines(file, bytesRead, lines))
    return bytesRead
  }

  /** Appends the complete lines of what was just read to `lines`; keeps the rest for the next read. */
  private splitLines(file: TrackedFile, bytesRead: number, lines: string[]): void {
    const chunk = file.partial.length > 0 ? Buffer.concat([file.partial, this.readBuffer.subarray(0, bytesRead)]) : this.readBuffer.subarray(0, bytesRead)
    const lastNewline = chunk.lastIndexOf(NEWLINE)
    if (lastNewline < 0) {
      file.partial = Buffer.from(chunk)
      return
    }
    const text = chunk.toString('utf8', 0, lastNewline)
    file.partial = Buffer.from(chunk.subarray(lastNewline + 1))
    for (const line of text.split('\n')) if (line.length > 0) lines.push(line)
  }
}
