import type {Finding} from '../types.js'
import type {AnalysisView} from '../view.js'

/** What the bundle itself says about its trustworthiness: incomplete, unverified, unreadable parts. */
export function detectBundleState(view: AnalysisView): Finding[] {
  const b = view.result.bundle
  const out: Finding[] = []
  if (!b.complete) {
    out.push({
      id: 'bundle.incomplete',
      severity: 'medium',
      component: null,
      stage: null,
      summary: `The bundle is incomplete${b.incomplete_reason ? ` (${b.incomplete_reason.replace(/\.$/, '')})` : ''}: findings cover only what was captured before it stopped.`,
      evidence: {complete: false, reason: b.incomplete_reason},
    })
  }
  if (b.problems.length > 0) {
    out.push({
      id: 'bundle.unreadable',
      severity: 'low',
      component: null,
      stage: null,
      summary: `${b.problems.length} part(s) of the bundle could not be read and were left out: ${b.problems[0]}${b.problems.length > 1 ? ', …' : ''}.`,
      evidence: {problems: b.problems},
    })
  }
  if (!b.verified) {
    out.push({
      id: 'bundle.unverified',
      severity: 'info',
      component: null,
      stage: null,
      summary: 'Checksums were not verified (--no-verify): the bundle may have been altered after capture.',
      evidence: {verified: false},
    })
  }
  return out
}
