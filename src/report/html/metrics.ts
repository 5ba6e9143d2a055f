/** Throughput over the capture: events/s in and out per component, from the metric snapshots. */
import type {AnalysisResult, ComponentMetrics, IntervalRate} from '../../analysis/types.js'
import {SERIES} from './palette.js'
import {clip, esc, finite, fmtCount, fmtMs, fmtPct, fmtRate, niceCeil, px} from './text.js'

/** Points per series; longer captures are averaged down to this many. */
const MAX_POINTS = 400
const W = 480
const H = 190
const L = 70
const R = 14
const T = 12
const B = 32

export function renderMetrics(result: AnalysisResult): string {
  const metrics = result.metrics.filter((m) => m.intervals.length > 0 || m.received_events !== null || m.sent_events !== null)
  if (metrics.length === 0) return '<p>No metric snapshots in this bundle.</p>'
  let domain = finite(result.window.duration_s) * 1000
  for (const m of metrics) for (const iv of m.intervals) domain = Math.max(domain, finite(iv.t_ms) + finite(iv.dt_ms))
  if (!(domain > 0)) domain = 1
  const charts = metrics.filter((m) => m.intervals.length > 0).map((m, i) => chart(m, i, domain))
  const withUtil = metrics.some((m) => typeof m.utilization === 'number')
  const rows = metrics.map((m) => {
    const rIn = m.received_eps ?? mean(m.intervals.map((iv) => iv.received_eps))
    const rOut = m.sent_eps ?? mean(m.intervals.map((iv) => iv.sent_eps))
    const dropped = finite(m.dropped_events, 0)
    const util = withUtil ? `<td>${typeof m.utilization === 'number' ? fmtPct(m.utilization) : '–'}</td>` : ''
    return `<tr><td class="text"><code>${esc(m.id)}</code></td><td>${fmtCount(m.received_events)}</td><td>${fmtCount(m.sent_events)}</td><td>${dropped > 0 ? `<strong>${fmtCount(dropped)}</strong>` : fmtCount(m.dropped_events)}</td><td>${fmtRate(rIn)}</td><td>${fmtRate(rOut)}</td><td>${fmtCount(m.errors)}</td>${util}</tr>`
  })
  return `<div class="legend"><span><span class="swatch" style="background:${SERIES.received}"></span>received events/s (solid)</span><span><span class="swatch" style="background:${SERIES.sent}"></span>sent events/s (dashed)</span></div>
<div class="charts">${charts.join('\n')}</div>
<table><caption class="sr-only">Event totals per component</caption><thead><tr><th scope="col">Component</th><th scope="col">Received</th><th scope="col">Sent</th><th scope="col">Dropped</th><th scope="col">Mean in</th><th scope="col">Mean out</th><th scope="col">Errors</th>${withUtil ? '<th scope="col">Utilization</th>' : ''}</tr></thead>
<tbody>${rows.join('\n')}</tbody></table>`
}

function mean(values: (number | null)[]): number | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x))
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length
}

/** Averages consecutive intervals so at most MAX_POINTS remain. */
function downsample(intervals: IntervalRate[]): IntervalRate[] {
  if (intervals.length <= MAX_POINTS) return intervals
  const per = Math.ceil(intervals.length / MAX_POINTS)
  const out: IntervalRate[] = []
  for (let i = 0; i < intervals.length; i += per) {
    const group = intervals.slice(i, i + per)
    out.push({
      t_ms: group[0].t_ms,
      dt_ms: group.reduce((a, g) => a + finite(g.dt_ms), 0),
      received_eps: mean(group.map((g) => g.received_eps)),
      sent_eps: mean(group.map((g) => g.sent_eps)),
      errors: null,
      utilization: mean(group.map((g) => g.utilization)),
    })
  }
  return out
}

function chart(m: ComponentMetrics, index: number, domain: number): string {
  const points = downsample(m.intervals)
  let max = 0
  for (const p of points) max = Math.max(max, finite(p.received_eps), finite(p.sent_eps))
  const top = niceCeil(max)
  const x = (ms: number): number => L + (Math.min(Math.max(ms, 0), domain) / domain) * (W - L - R)
  const y = (v: number): number => T + (1 - v / top) * (H - T - B)
  // A rate holds over its whole interval: draw steps, so even a single interval is a line.
  const line = (key: 'received_eps' | 'sent_eps'): string[] => {
    const runs: string[] = []
    let cur: string[] = []
    for (const p of points) {
      const v = p[key]
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        if (cur.length > 0) runs.push(cur.join(' '))
        cur = []
        continue
      }
      const t = finite(p.t_ms)
      cur.push(`${px(x(t))},${px(y(v))}`, `${px(x(t + finite(p.dt_ms)))},${px(y(v))}`)
    }
    if (cur.length > 0) runs.push(cur.join(' '))
    return runs
  }
  const parts: string[] = []
  for (const v of [0, top / 2, top]) {
    parts.push(`<line x1="${L}" y1="${px(y(v))}" x2="${W - R}" y2="${px(y(v))}" stroke="#e2e2e6"/>`)
    parts.push(`<text x="${L - 6}" y="${px(y(v) + 4)}" text-anchor="end" font-size="14" fill="#5a5a60">${esc(fmtRate(v))}</text>`)
  }
  parts.push(`<text x="${L}" y="${H - 6}" font-size="14" fill="#5a5a60">0</text>`)
  parts.push(`<text x="${W - R}" y="${H - 6}" text-anchor="end" font-size="14" fill="#5a5a60">${esc(fmtMs(domain))}</text>`)
  for (const run of line('received_eps')) parts.push(drawRun(run, SERIES.received, false))
  for (const run of line('sent_eps')) parts.push(drawRun(run, SERIES.sent, true))
  const inMean = mean(points.map((p) => p.received_eps))
  const outMean = mean(points.map((p) => p.sent_eps))
  const desc = `${m.id}: mean ${fmtRate(inMean)} received, ${fmtRate(outMean)} sent, over ${m.intervals.length} intervals.`
  const note = points.length < m.intervals.length ? ` (${m.intervals.length} intervals averaged into ${points.length} points)` : ''
  return `<figure><figcaption><code>${esc(clip(m.id, 60))}</code>${esc(note)}</figcaption>
<svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="mc-${index}-t mc-${index}-d"><title id="mc-${index}-t">${esc(`Events per second of ${m.id}`)}</title><desc id="mc-${index}-d">${esc(desc)}</desc>${parts.join('')}</svg></figure>`
}

function drawRun(points: string, color: string, dashed: boolean): string {
  return `<polyline points="${points}" fill="none" stroke="${color}" stroke-width="2"${dashed ? ' stroke-dasharray="6 3"' : ''}/>`
}
