/**
 * Turns successive reads of the demo's counters into the messages of Vector's
 * `StreamComponentMetrics` RPC (src/api/grpc/service.rs, Vector >= 0.55): one
 * message per component per tick, totals as `TotalMetric`, throughputs as a
 * per-second `ThroughputMetric` that needs a previous reading (so the first
 * tick of a throughput stream emits nothing). Transport-free so the arithmetic
 * can be tested without timers.
 */
import type {DemoComponentView, DemoCounters} from '../types.js'

/** Vector's name for the output a metric without an `output` tag belongs to. */
export const DEFAULT_OUTPUT = '_default'

type CounterName = keyof DemoCounters

interface MetricSpec {
  counter: CounterName
  throughput: boolean
}

/** `MetricName` enum names (as proto-loader hands them over with `enums: String`). */
const METRICS: Record<string, MetricSpec> = {
  METRIC_NAME_RECEIVED_EVENTS_THROUGHPUT: {counter: 'received_events', throughput: true},
  METRIC_NAME_SENT_EVENTS_THROUGHPUT: {counter: 'sent_events', throughput: true},
  METRIC_NAME_RECEIVED_BYTES_THROUGHPUT: {counter: 'received_bytes', throughput: true},
  METRIC_NAME_SENT_BYTES_THROUGHPUT: {counter: 'sent_bytes', throughput: true},
  METRIC_NAME_RECEIVED_EVENTS_TOTAL: {counter: 'received_events', throughput: false},
  METRIC_NAME_SENT_EVENTS_TOTAL: {counter: 'sent_events', throughput: false},
  METRIC_NAME_RECEIVED_BYTES_TOTAL: {counter: 'received_bytes', throughput: false},
  METRIC_NAME_SENT_BYTES_TOTAL: {counter: 'sent_bytes', throughput: false},
  METRIC_NAME_ERRORS_TOTAL: {counter: 'errors', throughput: false},
}

export const UNSPECIFIED_METRIC = 'METRIC_NAME_UNSPECIFIED'

/** `StreamComponentMetricsResponse` as proto-loader serialises it (keepCase, int64 as decimal strings). */
export type ComponentMetricMessage =
  | {component_id: string; total: {value: string; output_totals: Record<string, string>}}
  | {component_id: string; throughput: {value: number; output_throughputs: Record<string, number>}}

export interface MetricSampler {
  /** One reading of all components at `nowMs` (a monotonic clock, in ms). */
  sample(components: readonly DemoComponentView[], nowMs: number): ComponentMetricMessage[]
}

/** Counters are JS numbers; int64 on the wire is a decimal string without fraction or sign. */
export function toInt64(value: number): string {
  if (!Number.isFinite(value) || value <= 0) return '0'
  return BigInt(Math.trunc(value)).toString()
}

export function isKnownMetric(metric: unknown): metric is string {
  return typeof metric === 'string' && Object.hasOwn(METRICS, metric)
}

/** Undefined for UNSPECIFIED or an unknown enum value; the caller answers INVALID_ARGUMENT. */
export function createMetricSampler(metric: unknown): MetricSampler | undefined {
  if (!isKnownMetric(metric)) return undefined
  const spec = METRICS[metric]!
  // Vector breaks down per output only for sent events; the demo's counters carry no
  // `output` tag, which Vector files under the default output.
  const perOutput = spec.counter === 'sent_events'
  if (!spec.throughput) {
    return {
      sample(components) {
        return components.map((c): ComponentMetricMessage => {
          const value = toInt64(c.counters[spec.counter])
          const output_totals: Record<string, string> = perOutput ? {[DEFAULT_OUTPUT]: value} : {}
          return {component_id: c.id, total: {value, output_totals}}
        })
      },
    }
  }
  let previous: Map<string, number> | undefined
  let previousAt = 0
  return {
    sample(components, nowMs) {
      const current = new Map(components.map((c) => [c.id, c.counters[spec.counter]] as const))
      const out: ComponentMetricMessage[] = []
      // Vector divides by the nominal interval because tokio's interval catches up on
      // missed ticks; Node timers drift late instead, so the measured gap is the honest divisor.
      const seconds = (nowMs - previousAt) / 1000
      if (previous !== undefined && seconds > 0) {
        for (const c of components) {
          const before = previous.get(c.id)
          if (before === undefined) continue // appeared since the last tick: no delta yet
          const value = Math.max(0, (current.get(c.id)! - before) / seconds)
          const output_throughputs: Record<string, number> = perOutput ? {[DEFAULT_OUTPUT]: value} : {}
          out.push({component_id: c.id, throughput: {value, output_throughputs}})
        }
      }
      previous = current
      previousAt = nowMs
      return out
    },
  }
}
