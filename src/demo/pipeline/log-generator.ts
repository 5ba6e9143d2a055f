/**
 * Writes the log files the demo's `file` source tails: JSON lines appended to
 * a few active files at a steady rate, rotated like logrotate would, plus (for
 * slow-discovery) many already-rotated files that only cost fingerprinting.
 *
 * It is not a pipeline component and is never traced: it plays the
 * application whose logs the pipeline ships.
 */
import {open, unlink, utimes, writeFile, type FileHandle} from 'node:fs/promises'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {FINGERPRINT_BYTES} from './file-source.js'

/** How often the generator wakes up; small enough that the source sees a steady trickle. */
const TICK_MS = 50
/** After a stall (event loop blocked), catch up at most this much time, not everything. */
const MAX_CATCH_UP_MS = 500
/**
 * Unread bytes the source may lag behind before the generator pauses. Keeps the
 * disk bounded when the pipeline is slower than --rate (every planted
 * scenario), like an application blocked on a full pipe.
 */
export const MAX_BACKLOG_BYTES = 8 * 1024 * 1024
/** With --rate 0, the most bytes written per tick. */
const UNLIMITED_BYTES_PER_TICK = 1024 * 1024
/** An active file is rotated at this size; the generation before the previous one is deleted. */
const ROTATE_BYTES = 32 * 1024 * 1024
/** How old the rotated files look: well past the source's ignore_older (pipeline.ts IGNORE_OLDER_MS). */
const ROTATED_AGE_MS = 24 * 60 * 60 * 1000
/** Parallel file creations when preparing discovery files (bounded to stay below fd limits). */
const CREATE_CONCURRENCY = 32

export interface LogGeneratorOptions {
  dir: string
  rate: number
  eventSize: number
  files: number
  discoveryFiles: number
  /** Bytes the source has consumed so far (to compute the backlog). */
  consumedBytes(): number
  log(message: string): void
}

interface ActiveFile {
  index: number
  generation: number
  handle: FileHandle
  size: number
}

const LEVELS = ['info', 'info', 'info', 'warn', 'error', 'debug']
const ROUTES = ['/api/orders', '/api/users', '/healthz', '/api/cart', '/login', '/static/app.js']

export class LogGenerator {
  writtenBytes = 0
  writtenEvents = 0
  private readonly active: ActiveFile[] = []
  private running = false
  private loop: Promise<void> | null = null
  private seq = 0

  constructor(private readonly opts: LogGeneratorOptions) {}

  /**
   * Creates the rotated files (slow-discovery) and opens the active files.
   * Rotated files are dated ROTATED_AGE_MS back: the source fingerprints them
   * on every scan but does not ship them (ignore_older), so they cost
   * discovery only, and do not count as written.
   */
  async prepare(): Promise<void> {
    const {dir, discoveryFiles, files} = this.opts
    const past = new Date(Date.now() - ROTATED_AGE_MS)
    for (let start = 0; start < discoveryFiles; start += CREATE_CONCURRENCY) {
      const batch: Promise<void>[] = []
      for (let i = start; i < Math.min(discoveryFiles, start + CREATE_CONCURRENCY); i++) {
        // At least a fingerprint's worth, whatever --event-size: a shorter file would cost the source no fingerprinting.
        let content = ''
        while (content.length < FINGERPRINT_BYTES) content += this.line() + '\n'
        const file = path.join(dir, `rotated-${String(i).padStart(5, '0')}.log`)
        batch.push(writeFile(file, content).then(() => utimes(file, past, past)))
      }
      await Promise.all(batch)
    }
    for (let i = 0; i < Math.max(1, files); i++) this.active.push(await this.openActive(i, 0))
  }

  start(): void {
    this.running = true
    this.loop = this.run()
  }

  async stop(): Promise<void> {
    this.running = false
    await this.loop
    await Promise.all(this.active.map((f) => f.handle.close().catch(() => undefined)))
    this.active.length = 0
  }

  private async run(): Promise<void> {
    let last = performance.now()
    let carry = 0
    while (this.running) {
      await sleep(TICK_MS)
      const now = performance.now()
      const elapsed = Math.min(now - last, MAX_CATCH_UP_MS)
      last = now
      const room = MAX_BACKLOG_BYTES - (this.writtenBytes - this.opts.consumedBytes())
      if (room <= 0) {
        carry = 0
        continue
      }
      let events: number
      if (this.opts.rate > 0) {
        const exact = (this.opts.rate * elapsed) / 1000 + carry
        events = Math.floor(exact)
        carry = exact - events
      } else {
        events = Math.ceil(UNLIMITED_BYTES_PER_TICK / (this.opts.eventSize + 1))
      }
      events = Math.min(events, Math.ceil(room / (this.opts.eventSize + 1)))
      if (events > 0) await this.write(events).catch((err: Error) => this.opts.log(`log generator: ${err.message}`))
    }
  }

  private async write(events: number): Promise<void> {
    const perFile = this.active.map(() => [] as string[])
    for (let i = 0; i < events; i++) perFile[i % perFile.length].push(this.line())
    for (let i = 0; i < this.active.length; i++) {
      if (perFile[i].length === 0) continue
      const chunk = perFile[i].join('\n') + '\n'
      const bytes = Buffer.byteLength(chunk)
      await this.active[i].handle.write(chunk)
      this.active[i].size += bytes
      this.writtenBytes += bytes
      this.writtenEvents += perFile[i].length
      if (this.active[i].size >= ROTATE_BYTES) await this.rotate(i)
    }
  }

  private async rotate(i: number): Promise<void> {
    const old = this.active[i]
    await old.handle.close()
    this.active[i] = await this.openActive(old.index, old.generation + 1)
    // The source keeps an open handle on the previous generation until it has
    // read it; the one before that is long done (the backlog is bounded).
    if (old.generation >= 1) await unlink(this.activePath(old.index, old.generation - 1)).catch(() => undefined)
  }

  private async openActive(index: number, generation: number): Promise<ActiveFile> {
    const handle = await open(this.activePath(index, generation), 'a')
    return {index, generation, handle, size: 0}
  }

  private activePath(index: number, generation: number): string {
    return path.join(this.opts.dir, `app-${index}.${generation}.log`)
  }

  /** One JSON log line of about eventSize bytes; the sequence number makes every first line unique (fingerprints). */
  private line(): string {
    const n = this.seq++
    const record = {
      timestamp: new Date().toISOString(),
      level: LEVELS[n % LEVELS.length],
      service: `svc-${n % 7}`,
      host: `demo-host-${n % 3}`,
      seq: n,
      status: n % 17 === 0 ? 500 : 200,
      route: ROUTES[n % ROUTES.length],
      duration_ms: (n * 7919) % 1000 / 10,
      user_id: (n * 104729) % 100_000,
      message: '',
    }
    const base = JSON.stringify(record).length
    record.message = 'request handled '.padEnd(Math.max(16, this.opts.eventSize - base), 'abcdefghij')
    return JSON.stringify(record)
  }
}
