/**
 * Samples on one clock: one at the start, one every interval, one at the end,
 * each stamped with wall time and with ms on vdiag's monotonic clock since the
 * capture began, and written as an NDJSON line at once, so a capture cut short
 * keeps everything it had. Admin-API counters and Prometheus scrapes use it.
 */
import {createWriteStream, type WriteStream} from 'node:fs'
import {errorMessage} from '../errors.js'

export interface Clock {
  /** ms, monotonic */
  now(): number
  /** wall clock */
  wall(): Date
}

export const systemClock: Clock = {now: () => performance.now(), wall: () => new Date()}

export type Phase = 'start' | 'interval' | 'end'

export type PhaseRecord<F extends string, V> = {seq: number; at: string; t_ms: number; phase: Phase; error?: string} & {[K in F]: V}

export interface PhaseRecorderOptions<F extends string, V> {
  file: string
  /** The record's field holding the sample, e.g. `components`. */
  field: F
  source: () => Promise<V>
  /** What the field holds when a sample failed (the error is recorded beside it). */
  failed: V
  clock: Clock
  /** Monotonic ms the capture started at. */
  t0: number
}

export class PhaseRecorder<F extends string, V> {
  private seq = 0
  private failures = 0
  private readonly out: WriteStream
  private pending: Promise<void> = Promise.resolve()

  constructor(private readonly opts: PhaseRecorderOptions<F, V>) {
    this.out = createWriteStream(opts.file, {flags: 'w', mode: 0o600})
  }

  get taken(): number {
    return this.seq
  }

  get failed(): number {
    return this.failures
  }

  /** Never throws: a failed sample is recorded with its error. */
  take(phase: Phase): Promise<PhaseRecord<F, V>> {
    const run = async (): Promise<PhaseRecord<F, V>> => {
      const {clock, field} = this.opts
      const base = {seq: this.seq, at: clock.wall().toISOString(), t_ms: Math.round(clock.now() - this.opts.t0), phase}
      let record: PhaseRecord<F, V>
      try {
        record = {...base, [field]: await this.opts.source()} as PhaseRecord<F, V>
      } catch (e) {
        this.failures++
        record = {...base, [field]: this.opts.failed, error: errorMessage(e)} as PhaseRecord<F, V>
      }
      this.seq++
      this.out.write(JSON.stringify(record) + '\n')
      return record
    }
    // Serialised so lines are written in seq order even if one sample is slow.
    const p = this.pending.then(run)
    this.pending = p.then(
      () => undefined,
      () => undefined,
    )
    return p
  }

  async close(): Promise<void> {
    await this.pending
    await new Promise<void>((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())))
  }
}
