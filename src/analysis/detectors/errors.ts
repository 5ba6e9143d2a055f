import type {ComponentMetrics, ErrorsSource, Finding} from '../types.js'
import type {AnalysisView} from '../view.js'
import {ERROR_RATE_MEDIUM} from './thresholds.js'
import {kindLabel} from './saturation.js'

const SOURCE_WORDS: Record<ErrorsSource, string> = {
  errors_stream: "the admin API's error totals",
  snapshots: "the admin API's counters",
  prometheus: 'component_errors_total',
}

/**
 * Errors per component: from the spans (with stage and messages), merged with
 * the error totals over the window (the admin API's stream, else the
 * counters), which also cover components without spans.
 */
export function detectErrors(view: AnalysisView): Finding[] {
  const r = view.result
  const metrics = new Map(r.metrics.map((m) => [m.id, m]))
  const kinds = new Map(r.topology.components.map((c) => [c.id, c.kind as string]))
  const out: Finding[] = []
  const traced = new Set<string>()
  for (const c of r.components) {
    traced.add(c.id)
    const m = metrics.get(c.id)
    if (c.errors === 0) {
      if (m?.errors) out.push(fromCounter(m, c.kind, true))
      continue
    }
    const stage = [...c.stages].sort((a, b) => b.errors - a.errors)[0]
    const where = stage && stage.errors > 0 ? stage.name : null
    const top = c.top_errors[0]
    const rate = c.iterations > 0 ? c.errors / c.iterations : 1
    const counted = m?.errors ? `; its error count rose by ${m.errors.toLocaleString('en-US')}${perS(m)} over the capture` : ''
    const evidence: Record<string, unknown> = {
      errors: c.errors,
      errors_per_iteration: Math.round(rate * 1e4) / 1e4,
      by_stage: Object.fromEntries(c.stages.filter((s) => s.errors > 0).map((s) => [s.name, s.errors])),
      top_errors: c.top_errors,
    }
    if (m && m.errors !== null) {
      evidence.counted_errors = m.errors
      evidence.errors_per_s = m.errors_per_s ?? null
      evidence.errors_source = m.errors_source ?? null
    }
    out.push({
      id: 'errors.component',
      severity: rate >= ERROR_RATE_MEDIUM ? 'medium' : 'low',
      component: c.id,
      stage: where,
      summary: `${kindLabel(c)} \`${c.id}\` recorded ${c.errors.toLocaleString('en-US')} error span(s)${where ? `, mostly in \`${where}\`` : ''}${top ? `; most common: "${clip(top.message)}" (${top.count}×)` : ''}${counted}.`,
      evidence,
    })
  }
  for (const m of r.metrics) {
    if (traced.has(m.id) || !m.errors) continue
    out.push(fromCounter(m, kinds.get(m.id) ?? null, false))
  }
  return out
}

/** Errors known only from a counter: how many, how fast, and from where; no stage. */
function fromCounter(m: ComponentMetrics, kind: string | null, traced: boolean): Finding {
  const errors = m.errors ?? 0
  const perEvent = m.received_events ? errors / m.received_events : null
  const source = m.errors_source ? `, from ${SOURCE_WORDS[m.errors_source]}` : ''
  const why = traced ? 'none of its spans carried the error flag, so they cannot say where' : 'no spans say where'
  const evidence: Record<string, unknown> = {
    errors,
    errors_per_s: m.errors_per_s ?? null,
    errors_source: m.errors_source ?? null,
  }
  if (perEvent !== null) evidence.errors_per_event = Math.round(perEvent * 1e4) / 1e4
  return {
    id: 'errors.metrics',
    severity: perEvent !== null && perEvent >= ERROR_RATE_MEDIUM ? 'medium' : 'low',
    component: m.id,
    stage: null,
    summary: `${kind ? kindLabel({kind}) : 'Component'} \`${m.id}\` counted ${errors.toLocaleString('en-US')} error(s)${perS(m)} during the capture${source}; ${why}.`,
    evidence,
  }
}

function perS(m: ComponentMetrics): string {
  const r = m.errors_per_s
  return typeof r === 'number' && r > 0 ? ` (${r >= 10 ? Math.round(r) : r.toFixed(r >= 1 ? 1 : 2)}/s)` : ''
}

/** Messages come from the pipeline; one line in a sentence is enough. */
function clip(s: string): string {
  const line = s.split('\n')[0]
  return line.length > 80 ? `${line.slice(0, 79)}…` : line
}
