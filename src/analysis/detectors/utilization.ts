import type {ComponentMetrics, Finding} from '../types.js'
import type {AnalysisView} from '../view.js'
import {UTILIZATION_SATURATED} from './thresholds.js'
import {hasEnoughSpans, pct, topologyNote} from './saturation.js'

/** The Vector release from which task transforms count time blocked on downstream as idle (vectordotdev/vector#24731). */
const BLOCKED_IS_IDLE_FROM: [number, number] = [0, 55]

export const FROM_METRICS_ONLY = 'from metrics alone: tracing was unavailable'
export const FROM_THIN_SPANS = 'from utilization: too few spans to judge from tracing'

/**
 * Vector's `utilization` gauge names the bottleneck when spans cannot: when
 * tracing was unavailable, or the spans are too few to judge. A component at
 * ≥ 0.9 is saturated; components blocked on a slow downstream can read busy
 * too, so the cause is the most downstream saturated one.
 */
export function detectSaturatedUtilization(view: AnalysisView): Finding[] {
  const r = view.result
  const thin = r.spans.tracing_available && !hasEnoughSpans(view)
  if (r.spans.tracing_available && !thin) return []
  const saturated = saturatedByUtilization(view)
  if (saturated.length === 0) return []
  const c = saturated[0]
  const kind = kindOf(view, c.id)
  const basis = thin ? FROM_THIN_SPANS : FROM_METRICS_ONLY
  const others = saturated.slice(1)
  const depth = (id: string) => view.depth[id] ?? 0
  const upstream = others.filter((m) => depth(m.id) < depth(c.id))
  // Same depth: the topology cannot say which feeds which (no edges between them, or the order is inferred).
  const peers = others.filter((m) => depth(m.id) >= depth(c.id))
  const note = versionNote(view, c, others)
  const list = (ms: ComponentMetrics[]) => ms.map((m) => `\`${m.id}\``).join(', ')
  const tail = [
    upstream.length > 0 ? `; ${list(upstream)} upstream ${upstream.length > 1 ? 'also read' : 'also reads'} saturated` : '',
    peers.length > 0 ? `; ${list(peers)} ${peers.length > 1 ? 'also read' : 'also reads'} saturated at the same depth, less busy` : '',
  ].join('')
  const evidence: Record<string, unknown> = {
    source: basis,
    utilization: c.utilization,
    utilization_max: c.utilization_max ?? null,
    utilization_samples: c.utilization_samples ?? null,
    saturated: saturated.map((m) => ({component: m.id, utilization: m.utilization})),
    threshold: UTILIZATION_SATURATED,
    rates: Object.fromEntries(
      r.metrics
        .filter((m) => m.intervals.length > 0 || m.utilization !== null)
        .map((m) => [m.id, {received_eps: m.received_eps, sent_eps: m.sent_eps, utilization: m.utilization}]),
    ),
    topology: topologyNote(view),
    pipeline_version: r.pipeline.version,
  }
  if (thin) evidence.spans = r.spans.total
  if (c.send_latency?.mean_ms !== null && c.send_latency?.mean_ms !== undefined) evidence.send_latency_mean_ms = c.send_latency.mean_ms
  if (c.http_rtt?.p95_ms !== null && c.http_rtt?.p95_ms !== undefined) evidence.http_rtt_p95_ms = c.http_rtt.p95_ms
  if (note) evidence.utilization_semantics = note
  return [
    {
      id: 'metrics.saturated',
      severity: 'high',
      component: c.id,
      stage: null,
      summary: `${cap(kind)} \`${c.id}\` is the likely bottleneck (${basis}): its utilization is ${pct(c.utilization!)}, the most downstream saturated component${tail}.`,
      evidence,
    },
  ]
}

/** Components whose mean utilization is at or above the threshold, most downstream first (ties: the busier). */
export function saturatedByUtilization(view: AnalysisView): ComponentMetrics[] {
  return view.result.metrics
    .filter((m) => typeof m.utilization === 'number' && m.utilization >= UTILIZATION_SATURATED)
    .sort((a, b) => (view.depth[b.id] ?? 0) - (view.depth[a.id] ?? 0) || b.utilization! - a.utilization! || a.id.localeCompare(b.id))
}

/**
 * What utilization means depends on the version, and it matters when more
 * than one component reads saturated, or when the one named is not a sink (it
 * may read busy only because it waits on its downstream).
 */
function versionNote(view: AnalysisView, cause: ComponentMetrics, others: ComponentMetrics[]): string | null {
  const version = view.result.pipeline.version
  const before = isBefore(version, BLOCKED_IS_IDLE_FROM)
  const causeKind = kindOf(view, cause.id)
  if (others.length === 0 && causeKind === 'sink') return null
  const old =
    'before Vector 0.55 a component blocked on its downstream also reads busy, so components upstream of the bottleneck read saturated too and the most downstream saturated one is the cause'
  if (before === null) return `the pipeline's version is unknown: ${old}`
  if (before) return `Vector ${version}: ${old}`
  const transforms = others.filter((m) => kindOf(view, m.id) === 'transform').map((m) => `\`${m.id}\``)
  const transformNote = transforms.length > 0 ? `, so ${transforms.join(', ')} ${transforms.length > 1 ? 'are' : 'is'} busy with ${transforms.length > 1 ? 'their' : 'its'} own work as well` : ''
  return `Vector ${version}: from 0.55 task transforms count time blocked on their downstream as idle (vectordotdev/vector#24731)${transformNote}; sources and sinks still read busy while blocked`
}

/** true/false when `version` (semver) is before `[major, minor]`; null when it cannot be read. */
export function isBefore(version: string | null, [major, minor]: [number, number]): boolean | null {
  const m = /^v?(\d+)\.(\d+)/.exec(version ?? '')
  if (!m) return null
  const a = Number(m[1])
  const b = Number(m[2])
  return a < major || (a === major && b < minor)
}

function kindOf(view: AnalysisView, id: string): string {
  return view.result.topology.components.find((c) => c.id === id)?.kind ?? 'component'
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)
