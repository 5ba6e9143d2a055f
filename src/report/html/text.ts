/**
 * Escaping and number formatting for the HTML report. Every string that came
 * from a bundle (component ids, error messages, summaries) is hostile input
 * and goes through `esc` before it reaches the page.
 */

const ESCAPES: Record<string, string> = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}

/** Text or attribute-value context: escapes & < > " '. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c])
}

/**
 * JSON for a `<script type="application/json">` element: `<`, `>` and `&`
 * become \u escapes, so neither `</script` nor `<!--` can occur, and the text
 * still parses to the same value. U+2028/9 are escaped for old JS parsers.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
}

export function finite(value: unknown, fallback = 0): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback
}

/** Shortens long hostile strings for display; the full text stays in the embedded JSON. */
export function clip(value: unknown, max: number): string {
  const s = String(value ?? '')
  return s.length > max ? `${s.slice(0, max - 1)}…` : s
}

export function fmtMs(ms: unknown): string {
  const v = finite(ms, NaN)
  if (!Number.isFinite(v)) return '–'
  const abs = Math.abs(v)
  if (abs === 0) return '0'
  if (abs < 1) return `${round(v * 1000)} µs`
  if (abs < 1000) return `${round(v)} ms`
  if (abs < 60_000) return `${round(v / 1000)} s`
  return `${round(v / 60_000)} min`
}

/** 0..1 → "12.3 %". */
export function fmtPct(share: unknown): string {
  const v = finite(share, NaN)
  if (!Number.isFinite(v)) return '–'
  const pct = v * 100
  return `${Math.abs(pct) < 10 && pct !== 0 ? pct.toFixed(1) : Math.round(pct)} %`
}

export function fmtCount(n: unknown): string {
  const v = finite(n, NaN)
  if (!Number.isFinite(v)) return '–'
  return Math.round(v).toLocaleString('en-US')
}

export function fmtRate(eps: unknown): string {
  const v = finite(eps, NaN)
  if (!Number.isFinite(v)) return '–'
  if (Math.abs(v) >= 10_000) return `${round(v / 1000)}k/s`
  return `${round(v)}/s`
}

/** Three significant digits, trailing zeros dropped. */
function round(v: number): string {
  const abs = Math.abs(v)
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2
  return String(Number(v.toFixed(digits)))
}

/** SVG coordinates: short, and never NaN. */
export function px(v: number): string {
  return Number.isFinite(v) ? String(Math.round(v * 10) / 10) : '0'
}

/** A "nice" axis maximum ≥ v: 1, 2, 2.5 or 5 × 10^k. */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1
  const exp = Math.pow(10, Math.floor(Math.log10(v)))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * exp >= v) return m * exp
  return 10 * exp
}
