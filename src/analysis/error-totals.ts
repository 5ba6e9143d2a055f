/**
 * metrics/errors.ndjson: cumulative error totals per component, streamed from
 * the admin API about once a second. Analysis wants increases: over the
 * capture, and between two instants (a metric interval).
 */
import {ENTRY, type ErrorsRecord} from '../bundle/format.js'
import {forEachNdjsonRecord} from './bundle-files.js'

/** Lines read; the stream ticks about once a second (86,400 for a day). */
export const MAX_ERROR_RECORDS = 200_000

export interface CounterPoint {
  /** ms on vdiag's capture clock */
  t: number
  v: number
}

export interface ErrorTotals {
  /** Per component id, cumulative totals in time order. */
  series: Map<string, CounterPoint[]>
  /** The first record's clocks, to place the series on the window. */
  first: {at: string; t_ms: number} | null
  records: number
}

export class ErrorTotalsAccumulator {
  private readonly series = new Map<string, CounterPoint[]>()
  private first: {at: string; t_ms: number} | null = null
  private records = 0

  add(r: ErrorsRecord): void {
    if (!r || typeof r !== 'object' || typeof r.t_ms !== 'number' || !Number.isFinite(r.t_ms) || !r.components || typeof r.components !== 'object') return
    this.records++
    if (this.first === null || r.t_ms < this.first.t_ms) this.first = {at: typeof r.at === 'string' ? r.at : '', t_ms: r.t_ms}
    for (const [id, v] of Object.entries(r.components)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) continue
      let list = this.series.get(id)
      if (!list) this.series.set(id, (list = []))
      list.push({t: r.t_ms, v})
    }
  }

  finish(): ErrorTotals {
    for (const list of this.series.values()) list.sort((a, b) => a.t - b.t)
    return {series: this.series, first: this.first, records: this.records}
  }
}

export async function readErrorTotals(root: string, problems: string[], maxLines = MAX_ERROR_RECORDS): Promise<ErrorTotals | null> {
  const acc = new ErrorTotalsAccumulator()
  if (!(await forEachNdjsonRecord<ErrorsRecord>(root, ENTRY.errors, problems, maxLines, (r) => acc.add(r)))) return null
  return acc.finish()
}

/**
 * Increase of a cumulative counter over points [from, to] (indices), counting
 * a decrease as a restart from zero, as Prometheus' `increase` does.
 */
export function counterIncrease(points: CounterPoint[], from = 0, to = points.length - 1): number | null {
  if (from < 0 || to >= points.length || to <= from) return null
  let sum = 0
  for (let i = from + 1; i <= to; i++) {
    const d = points[i].v - points[i - 1].v
    sum += d >= 0 ? d : points[i].v
  }
  return sum
}

/** Index of the last point at or before `t` (the counter's value at `t`), -1 when none. */
export function valueIndexAt(points: CounterPoint[], t: number): number {
  let lo = 0
  let hi = points.length - 1
  let found = -1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (points[mid].t <= t) {
      found = mid
      lo = mid + 1
    } else hi = mid - 1
  }
  return found
}

/**
 * The stream ticks about once a second; a last record older than this before
 * an instant means the stream had stopped, and the value then is unknown.
 */
const STALE_AFTER_MS = 2_500

/** Increase between two instants of the capture clock; null when the series does not cover both. */
export function increaseBetween(points: CounterPoint[], fromT: number, toT: number): number | null {
  const a = valueIndexAt(points, fromT)
  const b = valueIndexAt(points, toT)
  if (a < 0 || b < 0) return null
  if (b === points.length - 1 && toT - points[b].t > STALE_AFTER_MS) return null
  return a === b ? 0 : counterIncrease(points, a, b)
}
