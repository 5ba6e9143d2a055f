import type {Finding, Severity} from '../types.js'
import type {AnalysisView, Detector} from '../view.js'
import {detectBackpressure} from './backpressure.js'
import {detectBottleneck} from './bottleneck.js'
import {detectBundleState} from './bundle-state.js'
import {detectErrors} from './errors.js'
import {detectInsufficientData} from './insufficient-data.js'
import {detectFromMetrics} from './metrics-only.js'
import {detectNoBottleneck} from './no-bottleneck.js'
import {detectSpanLoss} from './span-loss.js'
import {detectUntrackedTime} from './untracked-time.js'
import {detectSaturatedUtilization} from './utilization.js'

/** In order of precedence among findings of equal severity. */
export const DETECTORS: readonly Detector[] = [
  detectBottleneck,
  detectFromMetrics,
  detectSaturatedUtilization,
  detectInsufficientData,
  detectNoBottleneck,
  detectBackpressure,
  detectSpanLoss,
  detectBundleState,
  detectErrors,
  detectUntrackedTime,
]

/** Findings that answer "what is the bottleneck"; the first one found leads the list. */
export const PRIMARY_FINDINGS: ReadonlySet<string> = new Set([
  'bottleneck.sink_destination',
  'bottleneck.component',
  'metrics.saturated',
  'metrics.accumulating',
])

const SEVERITY_RANK: Record<Severity, number> = {critical: 0, high: 1, medium: 2, low: 3, info: 4}

/**
 * Runs every detector and ranks: the primary bottleneck first, then by
 * severity, then by detector precedence (the sort is stable).
 */
export function runDetectors(view: AnalysisView, detectors: readonly Detector[] = DETECTORS): Finding[] {
  const found = detectors.flatMap((d, order) => d(view).map((f) => ({f, order})))
  const primary = found.findIndex(({f}) => PRIMARY_FINDINGS.has(f.id))
  return found
    .map((x, i) => ({...x, lead: i === primary ? 0 : 1}))
    .sort((a, b) => a.lead - b.lead || SEVERITY_RANK[a.f.severity] - SEVERITY_RANK[b.f.severity] || a.order - b.order)
    .map(({f}) => f)
}
