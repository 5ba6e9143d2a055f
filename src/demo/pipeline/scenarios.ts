/**
 * The demo's scenarios: each plants one known bottleneck so that a capture
 * has a right answer. A scenario is only a set of defaults; every knob is
 * also a flag, and an explicit flag wins over the scenario.
 */

export const SCENARIOS = ['balanced', 'slow-sink', 'heavy-transform', 'slow-discovery'] as const
export type Scenario = (typeof SCENARIOS)[number]

export interface PipelineTuning {
  /** Events per second the log generator writes; 0 = as fast as the pipeline drains (backlog-bounded). */
  rate: number
  /** Approximate size of one generated log line in bytes (JSON, newline excluded). */
  eventSize: number
  /** Log files the generator appends to at the same time. */
  files: number
  /** Most events one batch carries between components (and per sink request). */
  batchSize: number
  /** Capacity of each queue between components, in events. */
  queueCapacity: number
  /** Receiver latency per sink request, ms. */
  sinkLatencyMs: number
  /** CPU time the transform burns per event, µs (a stand-in for heavy VRL). */
  transformCostUs: number
  /** Extra, already-rotated log files in the directory that the source must fingerprint on every scan. */
  discoveryFiles: number
  /** Minimum time from the start of one directory scan to the next (Vector's glob_minimum_cooldown_ms). */
  globCooldownMs: number
}

/** Values that keep every component well below saturation on a small, loaded machine. */
const BALANCED: PipelineTuning = {
  rate: 2000,
  eventSize: 256,
  files: 4,
  batchSize: 200,
  queueCapacity: 1000,
  sinkLatencyMs: 2,
  transformCostUs: 0,
  discoveryFiles: 0,
  globCooldownMs: 1000,
}

/**
 * Each planted value is chosen so that the planted component cannot keep up
 * with the default rate by a wide margin (2x or more), so the planted stage
 * dominates its busy time even when the machine is slow or shared:
 * - slow-sink: 200 events per request / 0.3 s = ~670 events/s < 2000.
 * - heavy-transform: 1 ms per event = 1000 events/s < 2000, and the CPU cost
 *   is pure compute, so it lands in `process`.
 * - slow-discovery: each scan fingerprints 3000 rotated files (open, stat,
 *   read the first bytes, hash, close), which takes longer than the 50 ms
 *   cooldown, so (as in Vector, whose cooldown runs from the start of a scan)
 *   every iteration scans again and then reads one batch: 200 events per
 *   scan of well over 0.1 s is under 2000 events/s, so the source falls behind
 *   the default rate, always has more to read, rarely sleeps, and its time
 *   goes to `discover`, mostly `fingerprint`. (Writing as fast as the
 *   pipeline drains would saturate every component and make the sink, the
 *   most downstream one, look like the cause.)
 */
const PLANTED: Record<Scenario, Partial<PipelineTuning>> = {
  balanced: {},
  'slow-sink': {sinkLatencyMs: 300},
  'heavy-transform': {transformCostUs: 1000},
  'slow-discovery': {discoveryFiles: 3000, globCooldownMs: 50},
}

/** Which component and stage each scenario makes the bottleneck (tests and docs use it). */
export const PLANTED_BOTTLENECK: Record<Exclude<Scenario, 'balanced'>, {component: string; stage: string}> = {
  'slow-sink': {component: 'http_out', stage: 'send'},
  'heavy-transform': {component: 'parse_logs', stage: 'process'},
  'slow-discovery': {component: 'app_logs', stage: 'discover'},
}

export function isScenario(name: string): name is Scenario {
  return (SCENARIOS as readonly string[]).includes(name)
}

export function tuningFor(scenario: Scenario, overrides: Partial<PipelineTuning> = {}): PipelineTuning {
  const tuning: PipelineTuning = {...BALANCED, ...PLANTED[scenario]}
  for (const [key, value] of Object.entries(overrides) as [keyof PipelineTuning, number | undefined][]) {
    if (value !== undefined) tuning[key] = value
  }
  return tuning
}
