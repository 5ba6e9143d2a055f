import type {ComponentMetrics, Finding} from '../types.js'
import type {AnalysisView} from '../view.js'
import {THROUGHPUT_RATIO_MIN, UTILIZATION_SATURATED} from './thresholds.js'
import {pct, topologyNote} from './saturation.js'
import {FROM_METRICS_ONLY as METRICS_ONLY, saturatedByUtilization} from './utilization.js'

/**
 * When the pipeline could not trace, the metrics still say something: a
 * saturated `utilization` (detectSaturatedUtilization names it), or events
 * piling up in front of a component (it sends less than it receives). Every
 * finding says it comes from metrics alone.
 */
export function detectFromMetrics(view: AnalysisView): Finding[] {
  const r = view.result
  if (r.spans.tracing_available) return []
  const out: Finding[] = [
    {
      id: 'tracing.unavailable',
      severity: 'medium',
      component: null,
      stage: null,
      summary: `Tracing was unavailable${r.spans.tracing_reason ? ` (${r.spans.tracing_reason.replace(/\.$/, '')})` : ''}: the findings come from metrics alone and cannot say in which stage time goes.`,
      evidence: {reason: r.spans.tracing_reason, metric_components: r.metrics.length},
    },
  ]
  const withData = r.metrics.filter((m) => m.intervals.length > 0)
  if (withData.length === 0) return out
  const kind = (id: string) => r.topology.components.find((c) => c.id === id)?.kind ?? 'transform'
  const byDownstream = (a: ComponentMetrics, b: ComponentMetrics) => (view.depth[b.id] ?? 0) - (view.depth[a.id] ?? 0)
  const rates = Object.fromEntries(withData.map((m) => [m.id, {received_eps: m.received_eps, sent_eps: m.sent_eps, utilization: m.utilization}]))

  // A saturated utilization names the bottleneck: that is detectSaturatedUtilization's finding.
  if (saturatedByUtilization(view).length > 0) return out

  const piling = withData
    .filter((m) => kind(m.id) !== 'source' && m.received_eps !== null && m.sent_eps !== null && m.received_eps > 0)
    .filter((m) => m.sent_eps! / m.received_eps! < THROUGHPUT_RATIO_MIN)
    .sort(byDownstream)
  if (piling.length > 0) {
    const c = piling[0]
    const ratio = c.sent_eps! / c.received_eps!
    out.push({
      id: 'metrics.accumulating',
      severity: 'medium',
      component: c.id,
      stage: null,
      summary: `${cap(kind(c.id))} \`${c.id}\` is the likely bottleneck (${METRICS_ONLY}): it sends ${pct(ratio)} of what it receives (${fmt(c.sent_eps!)} of ${fmt(c.received_eps!)} events/s), so events pile up in front of it.`,
      evidence: {source: METRICS_ONLY, sent_over_received: Math.round(ratio * 1e4) / 1e4, rates, topology: topologyNote(view)},
    })
    return out
  }
  const sinks = withData.filter((m) => kind(m.id) === 'sink')
  const through = sinks.reduce((a, m) => a + (m.sent_eps ?? 0), 0)
  const scraped = r.metrics.some((m) => m.utilization !== null)
  const utilization = scraped ? `no component's utilization reached ${pct(UTILIZATION_SATURATED)}` : 'no utilization was scraped'
  out.push({
    id: 'metrics.throughput',
    severity: 'info',
    component: null,
    stage: null,
    summary: `Throughput is even along the pipeline (${fmt(through)} events/s out of the sinks) and ${utilization}: metrics alone cannot say which component limits it; capture with tracing to find out.`,
    evidence: {source: METRICS_ONLY, rates},
  })
  return out
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)
const fmt = (x: number) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1))
