import type {Finding} from '../types.js'
import type {AnalysisView} from '../view.js'
import {BLOCKED_MIN, NEAR_SATURATION_BUSY} from './thresholds.js'
import {blockedShare, dominantOwnStage, hasEnoughSpans, judgeable, kindLabel, pct, primaryBottleneck} from './saturation.js'

/**
 * With enough spans and no saturated cause, say so: "nothing is saturated" is
 * an answer, and the busiest component is named (medium when it is close).
 */
export function detectNoBottleneck(view: AnalysisView): Finding[] {
  if (!hasEnoughSpans(view) || primaryBottleneck(view)) return []
  const comps = judgeable(view)
  // A component blocked on downstream with no cause in sight is the backpressure detector's finding, not "headroom".
  if (comps.some((c) => c.kind !== 'sink' && c.busy_share >= NEAR_SATURATION_BUSY && blockedShare(c) >= BLOCKED_MIN)) return []
  const busiest = [...comps].sort((a, b) => b.busy_share - a.busy_share)[0]
  if (!busiest) return []
  const stage = dominantOwnStage(busiest)
  const evidence = {
    busy_share: Object.fromEntries(comps.map((c) => [c.id, c.busy_share])),
    busiest: busiest.id,
    busiest_stage: stage?.name ?? null,
  }
  if (busiest.busy_share >= NEAR_SATURATION_BUSY) {
    return [
      {
        id: 'bottleneck.near_saturation',
        severity: 'medium',
        component: busiest.id,
        stage: stage?.name ?? null,
        summary: `No component is saturated, but ${kindLabel(busiest).toLowerCase()} \`${busiest.id}\` is busy ${pct(busiest.busy_share)} of the window${stage ? `, mostly in \`${stage.name}\`` : ''}: it will be the bottleneck first if load grows.`,
        evidence,
      },
    ]
  }
  return [
    {
      id: 'bottleneck.none',
      severity: 'info',
      component: null,
      stage: null,
      summary: `No bottleneck: no component is saturated (the busiest, \`${busiest.id}\`, is busy ${pct(busiest.busy_share)} of the window); the pipeline has headroom.`,
      evidence,
    },
  ]
}
