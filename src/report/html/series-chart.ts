/**
 * One inline SVG with a step line per component over the capture: a value
 * holds over its whole interval, so even a single interval draws a line.
 * Used for utilization and errors per second.
 */
import {esc, finite, fmtMs, px} from './text.js'

/** Points per series; longer captures are averaged down to this many. */
export const MAX_SERIES_POINTS = 400
/** Lines in one chart; beyond this the chart stops being readable and the table lists the rest. */
export const MAX_SERIES = 12
const W = 720
const H = 220
const L = 70
const R = 14
const T = 14
const B = 32

export interface SeriesPoint {
  /** ms since the window start, and the interval length */
  t: number
  dt: number
  v: number | null
}

export interface ChartSeries {
  label: string
  color: string
  points: SeriesPoint[]
}

export interface StepChartOptions {
  /** Unique within the page (element ids). */
  id: string
  title: string
  desc: string
  series: ChartSeries[]
  /** x axis length, ms */
  domain: number
  /** y axis top; values above it are drawn at the top */
  max: number
  format: (v: number) => string
  /** A dashed horizontal line, e.g. the saturation threshold. */
  threshold?: {value: number; label: string}
}

export function stepChart(o: StepChartOptions): string {
  const shown = o.series.slice(0, MAX_SERIES)
  const domain = o.domain > 0 ? o.domain : 1
  const top = o.max > 0 ? o.max : 1
  const x = (ms: number): number => L + (Math.min(Math.max(ms, 0), domain) / domain) * (W - L - R)
  const y = (v: number): number => T + (1 - Math.min(Math.max(v, 0), top) / top) * (H - T - B)
  const parts: string[] = []
  for (const v of [0, top / 2, top]) {
    parts.push(`<line x1="${L}" y1="${px(y(v))}" x2="${W - R}" y2="${px(y(v))}" stroke="#e2e2e6"/>`)
    parts.push(`<text x="${L - 6}" y="${px(y(v) + 4)}" text-anchor="end" font-size="13" fill="#5a5a60">${esc(o.format(v))}</text>`)
  }
  parts.push(`<text x="${L}" y="${H - 6}" font-size="13" fill="#5a5a60">0</text>`)
  parts.push(`<text x="${W - R}" y="${H - 6}" text-anchor="end" font-size="13" fill="#5a5a60">${esc(fmtMs(domain))}</text>`)
  if (o.threshold && o.threshold.value <= top) {
    const ty = px(y(o.threshold.value))
    parts.push(`<line x1="${L}" y1="${ty}" x2="${W - R}" y2="${ty}" stroke="#B3261E" stroke-width="1.2" stroke-dasharray="5 4"/>`)
    parts.push(`<text x="${W - R - 4}" y="${px(y(o.threshold.value) - 4)}" text-anchor="end" font-size="12" fill="#B3261E">${esc(o.threshold.label)}</text>`)
  }
  let averaged = false
  for (const s of shown) {
    const points = downsample(s.points)
    if (points.length < s.points.length) averaged = true
    for (const run of runs(points, x, y)) {
      parts.push(`<polyline points="${run}" fill="none" stroke="${s.color}" stroke-width="2"><title>${esc(s.label)}</title></polyline>`)
    }
  }
  const legend = shown.map((s) => `<span><span class="swatch" style="background:${s.color}"></span>${esc(s.label)}</span>`).join('')
  const notes: string[] = []
  if (o.series.length > shown.length) notes.push(`${o.series.length - shown.length} more components are not drawn; the table lists them all.`)
  if (averaged) notes.push(`Long series are averaged down to at most ${MAX_SERIES_POINTS} points.`)
  return `<figure class="series"><figcaption>${esc(o.title)}</figcaption>
<div class="legend">${legend}</div>
<svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${o.id}-t ${o.id}-d"><title id="${o.id}-t">${esc(o.title)}</title><desc id="${o.id}-d">${esc(o.desc)}</desc>${parts.join('')}</svg>
${notes.map((n) => `<p class="note">${esc(n)}</p>`).join('')}</figure>`
}

/** Continuous runs of known values as polyline point lists (an unknown value breaks the line). */
function runs(points: SeriesPoint[], x: (ms: number) => number, y: (v: number) => number): string[] {
  const out: string[] = []
  let cur: string[] = []
  for (const p of points) {
    const v = p.v
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      if (cur.length > 0) out.push(cur.join(' '))
      cur = []
      continue
    }
    const t = finite(p.t)
    cur.push(`${px(x(t))},${px(y(v))}`, `${px(x(t + finite(p.dt)))},${px(y(v))}`)
  }
  if (cur.length > 0) out.push(cur.join(' '))
  return out
}

function downsample(points: SeriesPoint[]): SeriesPoint[] {
  if (points.length <= MAX_SERIES_POINTS) return points
  const per = Math.ceil(points.length / MAX_SERIES_POINTS)
  const out: SeriesPoint[] = []
  for (let i = 0; i < points.length; i += per) {
    const group = points.slice(i, i + per)
    const known = group.map((g) => g.v).filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
    out.push({
      t: group[0].t,
      dt: group.reduce((a, g) => a + finite(g.dt), 0),
      v: known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : null,
    })
  }
  return out
}
