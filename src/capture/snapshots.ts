/**
 * Metrics on one clock: a snapshot at the start, one every interval, one at
 * the end, each stamped with wall time and with ms on vdiag's monotonic clock,
 * written as NDJSON as they come so nothing is lost if the capture is cut short.
 */
import {createWriteStream, type WriteStream} from 'node:fs'
import type {ComponentCounters, MetricsSnapshot} from '../bundle/format.js'
import {errorMessage} from '../errors.js'

export interface Clock {
  /** ms, monotonic */
  now(): number
  /** wall clock */
  wall(): Date
}

export const systemClock: Clock = {now: () => performance.now(), wall: () => new Date()}

export type SnapshotSource = () => Promise<Record<string, ComponentCounters>>

export class SnapshotRecorder {
  private seq = 0
  private failures = 0
  private readonly out: WriteStream
  private pending: Promise<void> = Promise.resolve()

  constructor(file: string, private readonly source: SnapshotSource, private readonly clock: Clock, private readonly t0: number) {
    this.out = createWriteStream(file, {flags: 'w', mode: 0o600})
  }

  get taken(): number {
    return this.seq
  }

  get failed(): number {
    return this.failures
  }

  /** Never throws: a failed snapshot is recorded with its error. */
  take(phase: MetricsSnapshot['phase']): Promise<MetricsSnapshot> {
    const run = async (): Promise<MetricsSnapshot> => {
      const at = this.clock.wall().toISOString()
      const t_ms = Math.round(this.clock.now() - this.t0)
      let snap: MetricsSnapshot
      try {
        snap = {seq: this.seq, at, t_ms, phase, components: await this.source()}
      } catch (e) {
        this.failures++
        snap = {seq: this.seq, at, t_ms, phase, components: {}, error: errorMessage(e)}
      }
      this.seq++
      this.out.write(JSON.stringify(snap) + '\n')
      return snap
    }
    // Serialise so lines are written in seq order even if one call is slow.
    const p = this.pending.then(run)
    this.pending = p.then(() => undefined, () => undefined)
    return p
  }

  async close(): Promise<void> {
    await this.pending
    await new Promise<void>((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())))
  }
}
