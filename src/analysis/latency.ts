/**
 * Latency from Prometheus distributions: what was observed between two scrapes
 * (the difference of two cumulative histograms), its mean, and quantiles
 * estimated from the buckets the way Prometheus' `histogram_quantile` does.
 */
import type {Distribution} from './prometheus-series.js'
import {round} from './round.js'
import type {LatencyStats} from './types.js'

/**
 * `later − earlier`, bucket by bucket. A count that went down means the
 * pipeline restarted in between: the later histogram is all that is known
 * since then.
 */
export function distributionDelta(earlier: Distribution | null | undefined, later: Distribution): Distribution {
  if (!earlier || earlier.kind !== later.kind) return later
  const reset = (later.count ?? 0) < (earlier.count ?? 0) || (later.sum ?? 0) < (earlier.sum ?? 0)
  if (reset) return later
  const before = new Map(earlier.buckets)
  const buckets: [number, number][] = later.buckets.map(([le, n]) => [le, Math.max(0, n - (before.get(le) ?? 0))])
  return {
    kind: later.kind,
    sum: later.sum !== null && earlier.sum !== null ? later.sum - earlier.sum : null,
    count: later.count !== null && earlier.count !== null ? later.count - earlier.count : null,
    buckets,
    // A summary's quantiles are its own sliding window: the later ones stand.
    quantiles: later.quantiles,
  }
}

/** Mean in seconds of what a (delta) distribution observed; null when it observed nothing. */
export function meanSeconds(d: Distribution): number | null {
  if (d.sum === null || d.count === null || !(d.count > 0)) return null
  return d.sum / d.count
}

/**
 * The q-quantile of a cumulative histogram: linear interpolation inside the
 * bucket holding rank q·count (from 0 for the first bucket). A rank in the
 * +Inf bucket gives the highest finite bound, as Prometheus does.
 */
export function histogramQuantile(q: number, buckets: [number, number][], count: number | null): number | null {
  const n = count ?? (buckets.length > 0 ? buckets[buckets.length - 1][1] : 0)
  if (!(n > 0) || buckets.length === 0) return null
  const rank = q * n
  let prevLe = 0
  let prevCum = 0
  for (const [le, cum] of buckets) {
    if (cum >= rank) {
      if (cum === prevCum) return le
      const lower = le > 0 && prevLe <= le ? prevLe : le
      return lower + (le - lower) * ((rank - prevCum) / (cum - prevCum))
    }
    prevLe = le
    prevCum = cum
  }
  return buckets[buckets.length - 1][0]
}

function summaryQuantile(q: number, quantiles: [number, number | null][]): number | null {
  const hit = quantiles.find(([x]) => Math.abs(x - q) < 1e-9)
  return hit && typeof hit[1] === 'number' && Number.isFinite(hit[1]) ? hit[1] : null
}

const toMs = (s: number | null): number | null => (s === null || !Number.isFinite(s) ? null : round(s * 1000, 3))

/** LatencyStats (ms) from the first and last scrape holding the family. */
export function latencyStats(first: Distribution | null | undefined, last: Distribution, scope: LatencyStats['scope']): LatencyStats {
  const d = scope === 'window' ? distributionDelta(first, last) : last
  const q = (x: number) => (d.kind === 'summary' ? summaryQuantile(x, d.quantiles) : histogramQuantile(x, d.buckets, d.count))
  return {
    count: d.count,
    mean_ms: toMs(meanSeconds(d)),
    p50_ms: toMs(q(0.5)),
    p95_ms: toMs(q(0.95)),
    p99_ms: toMs(q(0.99)),
    scope,
  }
}
