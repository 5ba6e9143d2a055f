import type {Finding, Severity} from '../types.js'
import type {AnalysisView} from '../view.js'
import {LOSS_HIGH, LOSS_MEDIUM} from './thresholds.js'
import {pct} from './saturation.js'

/**
 * Spans that never reached the bundle skew every share computed from the
 * rest, so losses are findings: lost in transit (the manifest's spans_lost),
 * dropped by the pipeline or by vdiag, and spans whose tree is incomplete.
 */
export function detectSpanLoss(view: AnalysisView): Finding[] {
  const s = view.result.spans
  const out: Finding[] = []
  const expected = s.total + s.dropped + Math.max(0, s.lost ?? 0)
  const severity = (n: number): Severity => {
    const f = expected > 0 ? n / expected : 1
    return f >= LOSS_HIGH ? 'high' : f >= LOSS_MEDIUM ? 'medium' : 'low'
  }
  const ofAll = (n: number) => (expected > 0 ? ` (${pct(n / expected)} of ${expected.toLocaleString('en-US')})` : '')
  if (s.lost !== null && s.lost > 0) {
    out.push({
      id: 'spans.lost',
      severity: severity(s.lost),
      component: null,
      stage: null,
      summary: `${s.lost.toLocaleString('en-US')} spans the pipeline started never reached the bundle${ofAll(s.lost)}; shares are computed from the rest and may be skewed.`,
      evidence: {lost: s.lost, kept: s.total, dropped: s.dropped},
    })
  }
  if (s.dropped > 0) {
    out.push({
      id: 'spans.dropped',
      severity: severity(s.dropped),
      component: null,
      stage: null,
      summary: `${s.dropped.toLocaleString('en-US')} spans were dropped${ofAll(s.dropped)} (pipeline buffer full or vdiag's --max-spans); shares are computed from the spans kept.`,
      evidence: {dropped: s.dropped, kept: s.total},
    })
  }
  if (s.orphans > 0) {
    out.push({
      id: 'spans.orphans',
      severity: s.total > 0 && s.orphans / s.total >= LOSS_MEDIUM ? 'medium' : 'low',
      component: null,
      stage: null,
      summary: `${s.orphans.toLocaleString('en-US')} spans could not be attached to an iteration (their parent never arrived or they are not component spans); they are left out of the breakdown.`,
      evidence: {orphans: s.orphans, total: s.total},
    })
  }
  if (s.malformed > 0) {
    out.push({
      id: 'spans.malformed',
      severity: 'low',
      component: null,
      stage: null,
      summary: `${s.malformed.toLocaleString('en-US')} lines of the spans file were not usable spans and were skipped.`,
      evidence: {malformed: s.malformed},
    })
  }
  return out
}
