import type {Finding} from '../types.js'
import type {AnalysisView} from '../view.js'
import {MIN_ITERATIONS, MIN_SPANS, MIN_WINDOW_S} from './thresholds.js'
import {hasEnoughSpans} from './saturation.js'

/**
 * "Not enough data" is a verdict of its own (clinic's `data`): a window with
 * a handful of spans must not produce a confident bottleneck.
 */
export function detectInsufficientData(view: AnalysisView): Finding[] {
  const r = view.result
  if (!r.spans.tracing_available) {
    const hasMetrics = r.metrics.some((m) => m.intervals.length > 0)
    if (hasMetrics) return []
    return [
      {
        id: 'data.insufficient',
        severity: 'medium',
        component: null,
        stage: null,
        summary: 'The bundle has neither spans nor metric intervals: there is nothing to analyse; capture again for longer and check the admin API address.',
        evidence: {spans: r.spans.total, metric_components: r.metrics.length, window_s: r.window.duration_s},
      },
    ]
  }
  if (hasEnoughSpans(view)) return []
  const iterations = r.components.reduce((a, c) => a + c.iterations, 0)
  const reasons: string[] = []
  if (r.spans.total < MIN_SPANS) reasons.push(`${r.spans.total} spans (at least ${MIN_SPANS} needed)`)
  if (r.window.duration_s < MIN_WINDOW_S) reasons.push(`a ${r.window.duration_s} s window (at least ${MIN_WINDOW_S} s needed)`)
  if (!r.components.some((c) => c.iterations >= MIN_ITERATIONS)) reasons.push(`no component with ${MIN_ITERATIONS} or more iterations`)
  return [
    {
      id: 'data.insufficient',
      severity: 'medium',
      component: null,
      stage: null,
      summary: `Not enough data to name a bottleneck: ${reasons.join(', ')}; capture again with a longer --duration while the pipeline is under its usual load.`,
      evidence: {
        spans: r.spans.total,
        iterations,
        window_s: r.window.duration_s,
        iterations_per_component: Object.fromEntries(r.components.map((c) => [c.id, c.iterations])),
        min_spans: MIN_SPANS,
        min_iterations: MIN_ITERATIONS,
      },
    },
  ]
}
