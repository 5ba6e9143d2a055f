/**
 * Exact handling of the bundle's 64-bit decimal strings (span ids, epoch ns)
 * without BigInt: a BigInt per field costs more than the JSON.parse before it.
 * A uint64 has at most 20 digits; split after the last 9, the low part is
 * < 1e9 (fits a uint32) and the high part < 1.9e10 (exact in a double).
 */

const LOW_DIGITS = 9
const LOW_SCALE = 1e9
const DECIMAL = /^\d{1,20}$/

/** A decimal uint64 as two exact doubles. */
export interface SplitU64 {
  hi: number
  lo: number
}

/**
 * Splits a decimal uint64 string into `out`; false (and `out` untouched) when
 * `s` is not one. Writes into a caller-owned object so the per-span path
 * allocates nothing.
 */
export function splitU64(s: unknown, out: SplitU64): boolean {
  if (typeof s !== 'string' || !DECIMAL.test(s)) return false
  if (s.length > LOW_DIGITS) {
    const cut = s.length - LOW_DIGITS
    out.hi = Number(s.slice(0, cut))
    out.lo = Number(s.slice(cut))
  } else {
    out.hi = 0
    out.lo = Number(s)
  }
  return true
}

/** ns relative to `baseSec` (epoch seconds) of a split epoch-ns value; exact below 2^53 ns (104 days). */
export function relativeNs(v: SplitU64, baseSec: number): number {
  return (v.hi - baseSec) * LOW_SCALE + v.lo
}

/** ns relative to `baseSec` → RFC 3339 with ms precision. */
export function relativeNsToIso(ns: number, baseSec: number): string {
  return new Date(baseSec * 1000 + ns / 1e6).toISOString()
}

/** RFC 3339 → ns relative to `baseSec`, NaN when absent or unparsable. */
export function isoToRelativeNs(iso: string | null | undefined, baseSec: number): number {
  if (!iso) return Number.NaN
  const ms = Date.parse(iso)
  if (!Number.isFinite(ms)) return Number.NaN
  return (ms - baseSec * 1000) * 1e6
}
