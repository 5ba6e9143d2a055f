import type {Finding} from '../types.js'
import type {AnalysisView} from '../view.js'
import {ERROR_RATE_MEDIUM} from './thresholds.js'
import {kindLabel} from './saturation.js'

/** Errors per component: from the spans (with stage and messages), else from the errors counter. */
export function detectErrors(view: AnalysisView): Finding[] {
  const r = view.result
  const out: Finding[] = []
  const traced = new Set<string>()
  for (const c of r.components) {
    traced.add(c.id)
    if (c.errors === 0) continue
    const stage = [...c.stages].sort((a, b) => b.errors - a.errors)[0]
    const where = stage && stage.errors > 0 ? stage.name : null
    const top = c.top_errors[0]
    const rate = c.iterations > 0 ? c.errors / c.iterations : 1
    out.push({
      id: 'errors.component',
      severity: rate >= ERROR_RATE_MEDIUM ? 'medium' : 'low',
      component: c.id,
      stage: where,
      summary: `${kindLabel(c)} \`${c.id}\` recorded ${c.errors.toLocaleString('en-US')} error span(s)${where ? `, mostly in \`${where}\`` : ''}${top ? `; most common: "${clip(top.message)}" (${top.count}×)` : ''}.`,
      evidence: {
        errors: c.errors,
        errors_per_iteration: Math.round(rate * 1e4) / 1e4,
        by_stage: Object.fromEntries(c.stages.filter((s) => s.errors > 0).map((s) => [s.name, s.errors])),
        top_errors: c.top_errors,
      },
    })
  }
  for (const m of r.metrics) {
    if (traced.has(m.id) || !m.errors) continue
    out.push({
      id: 'errors.metrics',
      severity: 'low',
      component: m.id,
      stage: null,
      summary: `Component \`${m.id}\` counted ${m.errors.toLocaleString('en-US')} error(s) during the capture (errors counter; no spans say where).`,
      evidence: {errors: m.errors},
    })
  }
  return out
}

/** Messages come from the pipeline; one line in a sentence is enough. */
function clip(s: string): string {
  const line = s.split('\n')[0]
  return line.length > 80 ? `${line.slice(0, 79)}…` : line
}
