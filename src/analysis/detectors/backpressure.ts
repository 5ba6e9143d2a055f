import type {Finding} from '../types.js'
import type {AnalysisView} from '../view.js'
import {BLOCKED_MIN, NEAR_SATURATION_BUSY} from './thresholds.js'
import {blockedShare, downstreamOf, judgeable, kindLabel, pct, primaryBottleneck, topologyNote} from './saturation.js'

/**
 * Sources and transforms that spend most of their busy time in `send` are
 * waiting on downstream. With a saturated cause downstream that is expected
 * (low); without one, the cause is outside what the spans show (medium).
 */
export function detectBackpressure(view: AnalysisView): Finding[] {
  const cause = primaryBottleneck(view)
  const out: Finding[] = []
  for (const c of judgeable(view)) {
    if (c.kind === 'sink' || c.id === cause?.id) continue
    const blocked = blockedShare(c)
    if (blocked < BLOCKED_MIN || c.busy_share < NEAR_SATURATION_BUSY) continue
    const blockedOfWindow = Math.round(c.busy_share * blocked * 1e4) / 1e4
    const evidence = {
      busy_share: c.busy_share,
      blocked_share_of_busy: Math.round(blocked * 1e4) / 1e4,
      blocked_share_of_window: blockedOfWindow,
      send_ms: c.blocked_ms,
      downstream: downstreamOf(view, c.id),
      topology: topologyNote(view),
    }
    const downstreamOfCause = cause && (view.depth[cause.id] ?? 0) > (view.depth[c.id] ?? 0)
    if (downstreamOfCause) {
      out.push({
        id: 'backpressure.blocked',
        severity: 'low',
        component: c.id,
        stage: 'send',
        summary: `${kindLabel(c)} \`${c.id}\` spends ${pct(blocked)} of its busy time blocked in \`send\`: backpressure from \`${cause.id}\`, not a problem of its own.`,
        evidence: {...evidence, caused_by: cause.id},
      })
    } else {
      out.push({
        id: 'backpressure.unexplained',
        severity: 'medium',
        component: c.id,
        stage: 'send',
        summary: `${kindLabel(c)} \`${c.id}\` spends ${pct(blocked)} of its busy time blocked handing events downstream, but no traced downstream component is saturated: the cause is further downstream or outside the traced components.`,
        evidence,
      })
    }
  }
  return out
}
