import type {ComponentStats, StageStats} from '../types.js'
import {IDLE_STAGES, isBlockedOnDownstream} from '../../protocol/tracing-control.js'
import type {AnalysisView} from '../view.js'
import {MIN_ITERATIONS, MIN_SPANS, MIN_WINDOW_S, OWN_WORK_MIN, SATURATED_BUSY} from './thresholds.js'

/**
 * The backpressure reasoning shared by the bottleneck detectors: which
 * components have enough data, which are saturated by their own work, and
 * which one of those is the cause.
 */

/** Share of busy time that is the component's own work (not blocked handing off downstream), 0..1. */
export function ownWorkShare(c: ComponentStats): number {
  return c.busy_ms > 0 ? Math.max(0, c.busy_ms - c.blocked_ms) / c.busy_ms : 0
}

export function blockedShare(c: ComponentStats): number {
  return c.busy_ms > 0 ? c.blocked_ms / c.busy_ms : 0
}

/** Enough spans, a long enough window and traced iterations: shares mean something. */
export function hasEnoughSpans(view: AnalysisView): boolean {
  const r = view.result
  return r.spans.total >= MIN_SPANS && r.window.duration_s >= MIN_WINDOW_S && judgeable(view).length > 0
}

export function judgeable(view: AnalysisView): ComponentStats[] {
  return view.result.components.filter((c) => c.iterations >= MIN_ITERATIONS)
}

export function saturatedByOwnWork(view: AnalysisView): ComponentStats[] {
  return judgeable(view).filter((c) => c.busy_share >= SATURATED_BUSY && ownWorkShare(c) >= OWN_WORK_MIN)
}

/** The cause: the most downstream component saturated by its own work; ties go to the busier one. */
export function primaryBottleneck(view: AnalysisView): ComponentStats | null {
  if (!hasEnoughSpans(view)) return null
  const candidates = saturatedByOwnWork(view)
  if (candidates.length === 0) return null
  return [...candidates].sort(
    (a, b) => (view.depth[b.id] ?? 0) - (view.depth[a.id] ?? 0) || b.busy_share - a.busy_share || ownWorkShare(b) - ownWorkShare(a),
  )[0]
}

/** The busy stage where a component's own work goes: not idle, and not blocked on downstream. */
export function dominantOwnStage(c: ComponentStats): StageStats | null {
  let best: StageStats | null = null
  for (const s of c.stages) {
    if (IDLE_STAGES.has(s.name) || isBlockedOnDownstream(c.kind, s.name)) continue
    if (!best || s.total_ms > best.total_ms) best = s
  }
  return best && best.total_ms > c.untracked_ms ? best : null
}

/** Components downstream of `id` (by depth), for wording and evidence. */
export function downstreamOf(view: AnalysisView, id: string): string[] {
  const d = view.depth[id] ?? 0
  return view.result.topology.order.filter((x) => (view.depth[x] ?? 0) > d)
}

export function topologyNote(view: AnalysisView): string {
  const t = view.result.topology
  if (t.inferred) return 'component order inferred from kinds (sources → transforms → sinks): the bundle has no topology edges'
  if (t.edges_source === 'none') return 'no topology: a single component or no edges'
  return `topology edges from ${t.edges_source}`
}

export const pct = (x: number) => `${Math.round(x * 100)}%`

export function kindLabel(c: {kind: string}): string {
  return c.kind.charAt(0).toUpperCase() + c.kind.slice(1)
}

export function fmtMs(x: number): string {
  if (x >= 1000) return `${(x / 1000).toFixed(x >= 10_000 ? 0 : 1)} s`
  if (x >= 10) return `${Math.round(x)} ms`
  if (x >= 1) return `${x.toFixed(1)} ms`
  return `${Math.round(x * 1000)} µs`
}

