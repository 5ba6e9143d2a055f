/**
 * Iterations over the window, one lane per component, coloured by the stage
 * that dominated each iteration. Past MAX_MARKS_PER_LANE iterations a lane is
 * drawn as TIME_BUCKETS columns instead (colour = the stage with the most
 * time in the column, opacity = how much of the column iterations cover), so
 * the page stays fast and the caption says so.
 */
import type {AnalysisResult, TimelineIteration} from '../../analysis/types.js'
import {ERROR_COLOR, stageColor} from './palette.js'
import {clip, esc, finite, fmtCount, fmtMs, px} from './text.js'

/** About one mark per pixel column of the plot: beyond that, marks blur into each other. */
export const MAX_MARKS_PER_LANE = 800
export const TIME_BUCKETS = 400
/** Lanes drawn; more components than this are listed as omitted. */
const MAX_LANES = 60
const WIDTH = 1000
const LABEL_W = 170
const PLOT_W = WIDTH - LABEL_W - 14
const LANE_H = 22
const LANE_GAP = 8
const TOP = 8
const AXIS_H = 30
const LABEL_CHARS = 22

export function renderTimeline(result: AnalysisResult): string {
  const order = [...(result.topology.order ?? [])]
  for (const c of result.components) if (!order.includes(c.id)) order.push(c.id)
  for (const id of Object.keys(result.timeline)) if (!order.includes(id)) order.push(id)
  const lanes = order.filter((id) => Array.isArray(result.timeline[id]) && result.timeline[id].length > 0)
  if (lanes.length === 0) return '<p>No iterations to draw: the bundle has no component spans.</p>'
  const drawn = lanes.slice(0, MAX_LANES)
  let domain = finite(result.window.duration_s) * 1000
  if (!(domain > 0)) {
    for (const id of drawn) for (const it of result.timeline[id]) domain = Math.max(domain, finite(it.t_ms) + finite(it.dur_ms))
  }
  if (!(domain > 0)) domain = 1
  const xOf = (ms: number): number => LABEL_W + (Math.min(Math.max(ms, 0), domain) / domain) * PLOT_W
  const height = TOP + drawn.length * (LANE_H + LANE_GAP) + AXIS_H
  const parts: string[] = []
  const notes: string[] = []
  const stagesSeen = new Set<string>()
  let anyError = false

  drawn.forEach((id, laneIndex) => {
    const y = TOP + laneIndex * (LANE_H + LANE_GAP)
    const its = result.timeline[id]
    parts.push(`<rect x="${LABEL_W}" y="${px(y)}" width="${PLOT_W}" height="${LANE_H}" fill="#f6f6f8"/>`)
    parts.push(`<text x="${LABEL_W - 8}" y="${px(y + LANE_H / 2 + 4)}" text-anchor="end" font-size="12" fill="#1d1d1f"><title>${esc(id)}</title>${esc(clip(id, LABEL_CHARS))}</text>`)
    if (its.length <= MAX_MARKS_PER_LANE) {
      for (const it of its) {
        const t = finite(it.t_ms)
        const x1 = xOf(t)
        const w = Math.max(0.6, xOf(t + finite(it.dur_ms)) - x1)
        const stage = String(it.dominant ?? '')
        stagesSeen.add(stage)
        parts.push(`<rect x="${px(x1)}" y="${px(y)}" width="${px(w)}" height="${LANE_H}" fill="${stageColor(stage)}"><title>${esc(`${id}: ${fmtMs(it.dur_ms)} at ${fmtMs(t)}, mostly ${stage}${it.error ? ', failed' : ''}`)}</title></rect>`)
        if (it.error) {
          anyError = true
          parts.push(`<rect x="${px(x1)}" y="${px(y - 3)}" width="${px(Math.max(2, w))}" height="4" fill="${ERROR_COLOR}"/>`)
        }
      }
    } else {
      parts.push(...bucketed(id, its, y, domain, stagesSeen, () => (anyError = true)))
      notes.push(`${esc(clip(id, 60))}: ${fmtCount(its.length)} iterations drawn as ${TIME_BUCKETS} time columns.`)
    }
  })
  // Axis: about eight ticks on round values.
  const axisY = TOP + drawn.length * (LANE_H + LANE_GAP) + 2
  parts.push(`<line x1="${LABEL_W}" y1="${px(axisY)}" x2="${LABEL_W + PLOT_W}" y2="${px(axisY)}" stroke="#888"/>`)
  const step = niceStep(domain / 8)
  for (let t = 0; t <= domain + 1e-9; t += step) {
    const x = xOf(t)
    parts.push(`<line x1="${px(x)}" y1="${px(axisY)}" x2="${px(x)}" y2="${px(axisY + 5)}" stroke="#888"/>`)
    parts.push(`<text x="${px(x)}" y="${px(axisY + 18)}" text-anchor="middle" font-size="11" fill="#5a5a60">${esc(fmtMs(t))}</text>`)
  }
  if (lanes.length > drawn.length) notes.push(`${lanes.length - drawn.length} more components are not drawn.`)
  const totals = drawn.reduce((a, id) => a + result.timeline[id].length, 0)
  const legend = [...stagesSeen]
    .map((s) => `<span><span class="swatch" style="background:${stageColor(s)}"></span>${esc(s)}</span>`)
    .concat(anyError ? [`<span><span class="swatch" style="background:${ERROR_COLOR}"></span>failed iteration</span>`] : [])
    .join('')
  return `<svg viewBox="0 0 ${WIDTH} ${px(height)}" role="img" aria-labelledby="tl-title tl-desc"><title id="tl-title">Iterations over the window</title><desc id="tl-desc">${esc(`${fmtCount(totals)} iterations of ${drawn.length} components over ${fmtMs(domain)}, coloured by their dominant stage.`)}</desc>
${parts.join('\n')}
</svg>
<div class="legend" aria-label="Timeline colours">${legend}</div>
${notes.map((n) => `<p class="note">${n}</p>`).join('\n')}`
}

function bucketed(id: string, its: TimelineIteration[], y: number, domain: number, seen: Set<string>, onError: () => void): string[] {
  const span = domain / TIME_BUCKETS
  const time: Map<string, number>[] = Array.from({length: TIME_BUCKETS}, () => new Map())
  const covered = new Float64Array(TIME_BUCKETS)
  const failed = new Uint8Array(TIME_BUCKETS)
  for (const it of its) {
    const t = finite(it.t_ms)
    const b = Math.min(TIME_BUCKETS - 1, Math.max(0, Math.floor(t / span)))
    const stage = String(it.dominant ?? '')
    const d = Math.max(0, finite(it.dur_ms))
    time[b].set(stage, (time[b].get(stage) ?? 0) + d)
    covered[b] += d
    if (it.error) failed[b] = 1
  }
  const out: string[] = []
  const w = PLOT_W
  for (let b = 0; b < TIME_BUCKETS; b++) {
    if (time[b].size === 0) continue
    const [stage] = [...time[b]].sort((a, c) => c[1] - a[1])[0]
    seen.add(stage)
    const x = LABEL_W + (b / TIME_BUCKETS) * w
    const opacity = Math.min(1, Math.max(0.25, covered[b] / span))
    out.push(`<rect x="${px(x)}" y="${px(y)}" width="${px(w / TIME_BUCKETS + 0.3)}" height="${LANE_H}" fill="${stageColor(stage)}" fill-opacity="${opacity.toFixed(2)}"><title>${esc(`${id}: mostly ${stage} from ${fmtMs(b * span)}`)}</title></rect>`)
    if (failed[b]) {
      onError()
      out.push(`<rect x="${px(x)}" y="${px(y - 3)}" width="${px(Math.max(2, w / TIME_BUCKETS))}" height="4" fill="${ERROR_COLOR}"/>`)
    }
  }
  return out
}

function niceStep(raw: number): number {
  if (!(raw > 0)) return 1
  const exp = Math.pow(10, Math.floor(Math.log10(raw)))
  for (const m of [1, 2, 5, 10]) if (m * exp >= raw) return m * exp
  return 10 * exp
}
