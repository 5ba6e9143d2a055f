import type {Finding} from '../types.js'
import type {AnalysisView} from '../view.js'
import {UNTRACKED_WARN} from './thresholds.js'
import {judgeable, kindLabel, pct} from './saturation.js'

/** Iteration time no stage span covers: the breakdown cannot say where it goes. */
export function detectUntrackedTime(view: AnalysisView): Finding[] {
  return judgeable(view)
    .filter((c) => c.untracked_share >= UNTRACKED_WARN)
    .map((c) => ({
      id: 'instrumentation.untracked',
      severity: 'low' as const,
      component: c.id,
      stage: null,
      summary: `${pct(c.untracked_share)} of ${kindLabel(c).toLowerCase()} \`${c.id}\`'s iteration time is not covered by any stage span, so the breakdown cannot say where it goes.`,
      evidence: {untracked_ms: c.untracked_ms, wall_ms: c.wall_ms, untracked_share: c.untracked_share},
    }))
}
