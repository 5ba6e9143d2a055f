import type {AnalysisResult} from '../analysis/types.js'

/**
 * `vdiag replay --json`: one JSON document (docs/replay-json.md). Non-finite
 * numbers become null so the output always parses; keys keep the order of
 * AnalysisResult so a human reading it sees the bundle first, findings last.
 */
export function toJson(result: AnalysisResult): string {
  return JSON.stringify(result, (_key, value) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2) + '\n'
}
