/**
 * The little statistics the benchmarks share: medians and percentiles of
 * samples, ratios rounded for the table, and the machine description every
 * result carries.
 */
import os from 'node:os'

/** The middle sample; the mean of the two middle ones for an even count. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Nearest-rank percentile (p in 0..100); NaN for no samples. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * s.length)
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))]
}

/** Rounds to `digits` significant decimals after the point, keeping numbers JSON-friendly. */
export function round(x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x
  const f = 10 ** digits
  return Math.round(x * f) / f
}

export interface Machine {
  cpu: string
  cores: number
  node: string
  loadavg_at_start: number[]
  memory_gb: number
}

export function machine(): Machine {
  return {
    cpu: os.cpus()[0]?.model?.trim() ?? 'unknown',
    cores: os.cpus().length,
    node: process.version,
    loadavg_at_start: os.loadavg().map((l) => round(l)),
    memory_gb: round(os.totalmem() / 2 ** 30, 1),
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
