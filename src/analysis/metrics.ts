import type {ComponentCounters, MetricsSnapshot} from '../bundle/format.js'
import type {ComponentMetrics, IntervalRate} from './types.js'
import {round} from './round.js'

/**
 * Per-component rates between consecutive snapshots. Counters are cumulative;
 * a decrease means the pipeline restarted, and that interval's rate is unknown
 * (null) rather than negative.
 */
export function componentMetrics(snapshots: MetricsSnapshot[], windowStartIso: string | null): ComponentMetrics[] {
  const usable = snapshots
    .filter((s) => s && typeof s === 'object' && typeof s.t_ms === 'number' && s.components && typeof s.components === 'object')
    .sort((a, b) => a.t_ms - b.t_ms)
  if (usable.length === 0) return []
  const windowStartMs = windowStartIso ? Date.parse(windowStartIso) : Number.NaN
  const firstAt = Date.parse(usable[0].at)
  // Snapshot t_ms runs on vdiag's monotonic clock from capture start; shift it onto the window.
  const offsetMs = Number.isFinite(windowStartMs) && Number.isFinite(firstAt) ? firstAt - windowStartMs - usable[0].t_ms : -usable[0].t_ms

  const ids = new Set<string>()
  for (const s of usable) for (const id of Object.keys(s.components)) ids.add(id)

  const out: ComponentMetrics[] = []
  for (const id of [...ids].sort()) {
    const intervals: IntervalRate[] = []
    let prev: {t: number; c: ComponentCounters} | null = null
    let first: ComponentCounters | null = null
    let last: ComponentCounters | null = null
    for (const s of usable) {
      const c = s.components[id]
      if (!c) continue
      first ??= c
      last = c
      if (prev) {
        const dt = s.t_ms - prev.t
        if (dt > 0) {
          intervals.push({
            t_ms: round(prev.t + offsetMs, 1),
            dt_ms: round(dt, 1),
            received_eps: rate(prev.c.received_events, c.received_events, dt),
            sent_eps: rate(prev.c.sent_events, c.sent_events, dt),
            errors: delta(prev.c.errors, c.errors),
            dropped_events: notSent(prev.c, c),
            utilization: utilizationOf(c),
          })
        }
      }
      prev = {t: s.t_ms, c}
    }
    const received = first && last ? delta(first.received_events, last.received_events) : null
    const sent = first && last ? delta(first.sent_events, last.sent_events) : null
    const span = intervals.reduce((a, r) => a + r.dt_ms, 0)
    out.push({
      id,
      intervals,
      received_events: received,
      sent_events: sent,
      dropped_events: received !== null && sent !== null ? Math.max(0, received - sent) : null,
      errors: first && last ? delta(first.errors, last.errors) : null,
      received_eps: received !== null && span > 0 ? round((received * 1000) / span, 2) : null,
      sent_eps: sent !== null && span > 0 ? round((sent * 1000) / span, 2) : null,
      utilization: meanUtilization(intervals),
    })
  }
  return out
}

function notSent(a: ComponentCounters, b: ComponentCounters): number | null {
  const received = delta(a.received_events, b.received_events)
  const sent = delta(a.sent_events, b.sent_events)
  return received === null || sent === null ? null : Math.max(0, received - sent)
}

function delta(a: number | undefined, b: number | undefined): number | null {
  if (typeof a !== 'number' || typeof b !== 'number' || b < a) return null
  return b - a
}

function rate(a: number | undefined, b: number | undefined, dtMs: number): number | null {
  const d = delta(a, b)
  return d === null ? null : round((d * 1000) / dtMs, 2)
}

/** Vector's `utilization` gauge (0..1), when the capture scraped it (issue 5 adds it to the counters). */
function utilizationOf(c: ComponentCounters): number | null {
  const u = (c as Record<string, unknown>).utilization
  return typeof u === 'number' && u >= 0 && u <= 1 ? round(u, 4) : null
}

function meanUtilization(intervals: IntervalRate[]): number | null {
  const values = intervals.map((r) => r.utilization).filter((u): u is number => typeof u === 'number')
  if (values.length === 0) return null
  return round(values.reduce((a, b) => a + b, 0) / values.length, 4)
}
