import {usageError} from '../errors.js'

const UNIT_MS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000}

/**
 * Parses `500ms`, `30s`, `1.5s`, `5m`, `1h` into milliseconds. A bare number is
 * rejected on purpose: "60" could mean seconds or milliseconds, and guessing
 * wrong in production either captures nothing or leaves tracing on for an hour.
 */
export function parseDuration(text: string, flag = 'duration'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/i.exec(text)
  if (!m) {
    throw usageError(`--${flag}: "${text}" is not a duration`, `use a number with a unit, e.g. --${flag} 30s (units: ms, s, m, h)`)
  }
  const ms = Number(m[1]) * UNIT_MS[m[2].toLowerCase()]
  if (!Number.isFinite(ms) || ms <= 0) {
    throw usageError(`--${flag}: "${text}" must be greater than zero`, `e.g. --${flag} 30s`)
  }
  return Math.round(ms)
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${+(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)}s`
  const m = Math.floor(ms / 60_000)
  const s = Math.round((ms % 60_000) / 1000)
  return s ? `${m}m${s}s` : `${m}m`
}
