/**
 * The demo's `remap`-style transform: parses each JSON line, enriches it
 * (derived fields, normalised level, a stable hash), optionally burns a fixed
 * CPU cost per event (heavy-transform's planted VRL), and re-serialises.
 *
 * Stages: `wait` (idle, for input), `process` (sub-stages `parse`, `enrich`,
 * `serialize`), `send` (blocked on the downstream queue).
 */
import {createHash} from 'node:crypto'
import {setImmediate as yieldToLoop} from 'node:timers/promises'
import type {BoundedQueue} from './queue.js'
import type {ComponentRuntime} from './runtime.js'

/** How long one `wait` may last before the iteration ends empty-handed (Vector's batch timeout is of this order). */
const WAIT_TIMEOUT_MS = 1000
/**
 * With a per-event CPU cost, yield to the event loop after this much work so
 * the admin API and the other components stay responsive (a long synchronous
 * run would also stall timers, and with them the tracing window's deadlines).
 */
const MAX_SYNC_WORK_MS = 10

export interface RemapOptions {
  batchSize: number
  transformCostUs: number
  hostname: string
  log(message: string): void
}

type Record_ = Record<string, unknown>

export class RemapTransform {
  private running = false
  private loop: Promise<void> | null = null

  constructor(
    private readonly rt: ComponentRuntime,
    private readonly input: BoundedQueue,
    private readonly out: BoundedQueue,
    private readonly opts: RemapOptions,
  ) {}

  start(): void {
    this.running = true
    this.loop = this.run()
  }

  async stop(): Promise<void> {
    this.running = false
    this.input.close()
    await this.loop
  }

  private async run(): Promise<void> {
    const rt = this.rt
    while (this.running) {
      rt.beginIteration()
      try {
        rt.stage('wait')
        const batch = await this.input.pop(this.opts.batchSize, WAIT_TIMEOUT_MS)
        if (batch === null) continue
        rt.stats.counters.received_events += batch.lines.length
        rt.stats.counters.received_bytes += batch.bytes
        rt.stage('process')
        const lines = await this.process(batch.lines)
        const bytes = lines.reduce((sum, l) => sum + l.length, 0)
        rt.count(batch.lines.length, batch.bytes)
        rt.stage('send')
        await this.out.push({lines, bytes, enqueuedAt: 0})
        rt.count(lines.length, bytes)
        rt.stats.componentLatency.observe((performance.now() - batch.enqueuedAt) / 1000)
        rt.stats.counters.sent_events += lines.length
        rt.stats.counters.sent_bytes += bytes
      } catch (err) {
        rt.stats.counters.errors++
        this.opts.log(`${rt.identity.id}: ${(err as Error).message}`)
      } finally {
        rt.endIteration()
      }
    }
  }

  /**
   * Each synchronous chunk of work goes through `rt.cpu`, so `process` and its
   * sub-stages report the CPU of this transform's own code even though
   * `enrich` yields to the event loop between chunks.
   */
  private async process(input: string[]): Promise<string[]> {
    const rt = this.rt
    let span = rt.sub('parse')
    const records = rt.cpu(() => this.parse(input))
    span?.end(records.length)

    span = rt.sub('enrich')
    for (let next = 0; next < records.length; ) {
      next = rt.cpu(() => this.enrichSlice(records, next))
      if (next < records.length) await yieldToLoop()
    }
    span?.end(records.length)

    span = rt.sub('serialize')
    const out = rt.cpu(() => records.map((r) => JSON.stringify(r)))
    span?.end(out.length)
    return out
  }

  private parse(input: string[]): Record_[] {
    const records: Record_[] = []
    for (const line of input) {
      try {
        records.push(JSON.parse(line) as Record_)
      } catch {
        // Vector's remap with drop_on_error: the event is dropped and counted.
        this.rt.stats.counters.errors++
      }
    }
    return records
  }

  /** Enriches records from `from` on, for at most MAX_SYNC_WORK_MS when there is a CPU cost; returns where it stopped. */
  private enrichSlice(records: Record_[], from: number): number {
    const cost = this.opts.transformCostUs
    const sliceStart = performance.now()
    let i = from
    while (i < records.length) {
      const record = records[i++]
      this.enrich(record)
      if (cost > 0) {
        burnCpu(cost, String(record.message))
        if (performance.now() - sliceStart >= MAX_SYNC_WORK_MS) break
      }
    }
    return i
  }

  private enrich(record: Record_): void {
    const level = typeof record.level === 'string' ? record.level.toUpperCase() : 'UNKNOWN'
    record.severity = level === 'ERROR' ? 3 : level === 'WARN' ? 2 : 1
    record.level = level
    record.is_error = record.status === 500
    record.pipeline = 'vdiag-demo'
    record.collector_host = this.opts.hostname
    record.ingested_at = Date.now()
    delete record.host
  }
}

/** Real work (hashing), not a sleep, so the cost shows as CPU inside `process`. */
function burnCpu(microseconds: number, seed: string): void {
  const until = performance.now() + microseconds / 1000
  let digest = seed
  do {
    digest = createHash('sha256').update(digest).digest('hex')
  } while (performance.now() < until)
}
