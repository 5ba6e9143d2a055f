/**
 * The plan shown before anything is switched on: what will be collected, for
 * how long, roughly how big, that secrets are redacted, and where it goes.
 */
import type {CaptureOptions, CapturePlanView} from './options.js'
import {formatBytes} from '../util/format.js'
import {formatDuration} from '../util/duration.js'

/**
 * A rough ceiling, not a promise: RFC 8025-style spans arrive at about ten
 * iterations per component per second at most, each 4 spans at info (8 at
 * debug), ~60 bytes a span once gzipped (measured on demo bundles), plus
 * ~50 KB of facts and metrics.
 */
const ITERATIONS_PER_COMPONENT_S = 10
const GZ_BYTES_PER_SPAN = 60
const BASE_BYTES = 50_000

export function estimateBundleBytes(opts: Pick<CaptureOptions, 'durationMs' | 'level' | 'maxSpans'>, components: number, spans: boolean): number {
  if (!spans) return BASE_BYTES
  const perIteration = opts.level === 'debug' ? 8 : 4
  const n = Math.min(opts.maxSpans, (opts.durationMs / 1000) * Math.max(components, 1) * ITERATIONS_PER_COMPONENT_S * perIteration)
  return Math.round(BASE_BYTES + n * GZ_BYTES_PER_SPAN)
}

export function buildPlan(p: {
  opts: CaptureOptions
  api: string
  output: string
  spans: boolean
  spansReason: string | null
  components: number
  metricsUrl: string | null
  configs: number
}): CapturePlanView {
  const {opts} = p
  const estimated = estimateBundleBytes(opts, p.components, p.spans)
  const lines = [
    p.spans
      ? `internal tracing at level ${opts.level} for ${formatDuration(opts.durationMs)} (the pipeline switches it off by itself at the end, even if vdiag is killed)`
      : `no spans: ${p.spansReason ?? 'tracing is not available on this pipeline'}`,
    `component metrics every ${formatDuration(opts.intervalMs)}${p.metricsUrl ? `, and Vector's internal metrics from ${p.metricsUrl}` : ''}, plus host facts (OS, CPU, memory, load, disks)`,
    ...(p.configs ? [`${p.configs} config path(s), redacted`] : []),
    ...(opts.logs.length ? [`the window's tail of ${opts.logs.length} log source(s), redacted`] : []),
    'secrets are redacted before anything is written (rules and counts in manifest.json)',
    `one file, about ${formatBytes(estimated)} or less: ${p.output}`,
  ]
  return {api: p.api, lines, output: p.output, estimated_bytes: estimated}
}
