/**
 * Exact percentiles by sorting: a Float64Array per (component, stage) costs
 * 8 bytes a span, cheaper and simpler than a sketch at a few million spans.
 */

/** Nearest-rank percentile (q in 0..1) of an ascending array; NaN when empty. */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length
  if (n === 0) return Number.NaN
  const rank = Math.ceil(q * n)
  return sorted[Math.min(n - 1, Math.max(0, rank - 1))]
}

/** Sorts in place and returns p50/p95/p99. */
export function percentiles(values: Float64Array): {p50: number; p95: number; p99: number} {
  values.sort()
  return {p50: percentileSorted(values, 0.5), p95: percentileSorted(values, 0.95), p99: percentileSorted(values, 0.99)}
}
