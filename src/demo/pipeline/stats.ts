/**
 * Per-component counters, histograms and the utilization gauge: what the
 * admin API and the Prometheus exposition report. Updated on every batch,
 * never per event, so they cost nothing measurable.
 */
import type {DemoCounters} from '../types.js'

/** Upper bounds (seconds) of the latency histograms; the same for all of them so they compare. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]

export class Histogram {
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  readonly counts: number[] = new Array<number>(LATENCY_BUCKETS_SECONDS.length + 1).fill(0)
  sum = 0
  count = 0

  observe(seconds: number): void {
    let i = 0
    while (i < LATENCY_BUCKETS_SECONDS.length && seconds > LATENCY_BUCKETS_SECONDS[i]) i++
    this.counts[i]++
    this.sum += seconds
    this.count++
  }
}

/**
 * Vector updates `utilization` every 5 s as an EWMA of the busy share
 * (time not spent waiting for input); we do the same so the gauge moves
 * like Vector's.
 */
export const UTILIZATION_PERIOD_MS = 5000
const UTILIZATION_EWMA_ALPHA = 0.9

export class ComponentStats {
  readonly counters: DemoCounters = {received_events: 0, sent_events: 0, received_bytes: 0, sent_bytes: 0, errors: 0}
  /** Sources: time blocked handing a batch downstream (vector_source_send_latency_seconds). */
  readonly sendLatency = new Histogram()
  /** Transforms: queueing + processing time of a batch (vector_component_latency_seconds). */
  readonly componentLatency = new Histogram()
  utilization = 0
  private idleMs = 0
  private busyMs = 0
  private hasUtilization = false

  addStageTime(idle: boolean, ms: number): void {
    if (idle) this.idleMs += ms
    else this.busyMs += ms
  }

  /** Closes one utilization period: folds its busy share into the EWMA. */
  rollUtilization(): void {
    const total = this.idleMs + this.busyMs
    if (total > 0) {
      const busy = this.busyMs / total
      this.utilization = this.hasUtilization ? UTILIZATION_EWMA_ALPHA * busy + (1 - UTILIZATION_EWMA_ALPHA) * this.utilization : busy
      this.hasUtilization = true
    }
    this.idleMs = 0
    this.busyMs = 0
  }
}
