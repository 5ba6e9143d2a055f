/** The shape every benchmark reports in bench/results.json (see bench/README.md). */
export interface BenchResult {
  /** The measured figure (null when the benchmark could not run). */
  value: number | null
  /** The same-run baseline it is compared with. */
  baseline: number | null
  /** value / baseline. */
  ratio: number | null
  unit: string
  p99?: number | null
  target: {text: string; pass: boolean | null}
  available?: boolean
  reason?: string
  [extra: string]: unknown
}

export function notAvailable(unit: string, target: string, reason: string): BenchResult {
  return {value: null, baseline: null, ratio: null, unit, available: false, reason, target: {text: target, pass: null}}
}
