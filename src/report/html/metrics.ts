/**
 * Metrics over the capture: events/s in and out per component (snapshots),
 * utilization and errors per component (internal metrics, error totals) as
 * charts, and what the internal metrics say about latency, buffers and CPU.
 */
import type {AnalysisResult, ComponentMetrics, IntervalRate, LatencyStats} from '../../analysis/types.js'
import {lineColor, SERIES} from './palette.js'
import {stepChart, type ChartSeries} from './series-chart.js'
import {clip, esc, finite, fmtCount, fmtMs, fmtPct, fmtRate, niceCeil, px} from './text.js'

/** Vector's utilization at which a component counts as saturated (as the analysis uses it). */
const SATURATED = 0.9

/** Points per series; longer captures are averaged down to this many. */
const MAX_POINTS = 400
const W = 480
const H = 190
const L = 70
const R = 14
const T = 12
const B = 32

export function renderMetrics(result: AnalysisResult): string {
  const metrics = result.metrics.filter(
    (m) => m.intervals.length > 0 || m.received_events !== null || m.sent_events !== null || typeof m.utilization === 'number' || finite(m.errors) > 0,
  )
  if (metrics.length === 0) return '<p>No metric snapshots in this bundle.</p>'
  let domain = finite(result.window.duration_s) * 1000
  for (const m of metrics) for (const iv of m.intervals) domain = Math.max(domain, finite(iv.t_ms) + finite(iv.dt_ms))
  if (!(domain > 0)) domain = 1
  const charts = metrics.filter((m) => m.intervals.length > 0).map((m, i) => chart(m, i, domain))
  const withUtil = metrics.some((m) => typeof m.utilization === 'number')
  const withRate = metrics.some((m) => typeof m.errors_per_s === 'number')
  const rows = metrics.map((m) => {
    const rIn = m.received_eps ?? mean(m.intervals.map((iv) => iv.received_eps))
    const rOut = m.sent_eps ?? mean(m.intervals.map((iv) => iv.sent_eps))
    const dropped = finite(m.dropped_events, 0)
    const errors = finite(m.errors, 0) > 0 ? `<strong>${fmtCount(m.errors)}</strong>` : fmtCount(m.errors)
    const rate = withRate ? `<td>${typeof m.errors_per_s === 'number' ? esc(fmtPerSecond(m.errors_per_s)) : '–'}</td>` : ''
    const util = withUtil ? `<td>${utilCell(m)}</td>` : ''
    return `<tr><td class="text"><code>${esc(m.id)}</code></td><td>${fmtCount(m.received_events)}</td><td>${fmtCount(m.sent_events)}</td><td>${dropped > 0 ? `<strong>${fmtCount(dropped)}</strong>` : fmtCount(m.dropped_events)}</td><td>${fmtRate(rIn)}</td><td>${fmtRate(rOut)}</td><td>${errors}</td>${rate}${util}</tr>`
  })
  return `<div class="legend"><span><span class="swatch" style="background:${SERIES.received}"></span>received events/s (solid)</span><span><span class="swatch" style="background:${SERIES.sent}"></span>sent events/s (dashed)</span></div>
<div class="charts">${charts.join('\n')}</div>
<table><caption class="sr-only">Event totals per component</caption><thead><tr><th scope="col">Component</th><th scope="col">Received</th><th scope="col">Sent</th><th scope="col">Dropped</th><th scope="col">Mean in</th><th scope="col">Mean out</th><th scope="col">Errors</th>${withRate ? '<th scope="col">Errors/s</th>' : ''}${withUtil ? '<th scope="col">Utilization (max)</th>' : ''}</tr></thead>
<tbody>${rows.join('\n')}</tbody></table>
${utilizationChart(result, metrics, domain)}
${errorsChart(metrics, domain)}
${internalTable(metrics)}`
}

function utilCell(m: ComponentMetrics): string {
  if (typeof m.utilization !== 'number') return '–'
  const max = typeof m.utilization_max === 'number' ? ` (${fmtPct(m.utilization_max)})` : ''
  const text = `${fmtPct(m.utilization)}${max}`
  return m.utilization >= SATURATED ? `<strong>${esc(text)}</strong>` : esc(text)
}

function fmtPerSecond(v: number): string {
  return v >= 10 ? `${Math.round(v)}/s` : `${Number(v.toFixed(v >= 1 ? 1 : 2))}/s`
}

/** Utilization of every component over the capture, against the saturation threshold. */
function utilizationChart(result: AnalysisResult, metrics: ComponentMetrics[], domain: number): string {
  const series: ChartSeries[] = metrics
    .filter((m) => m.intervals.some((iv) => typeof iv.utilization === 'number'))
    .map((m, i) => ({label: m.id, color: lineColor(i), points: m.intervals.map((iv) => ({t: finite(iv.t_ms), dt: finite(iv.dt_ms), v: iv.utilization}))}))
  if (series.length === 0) {
    return metrics.some((m) => typeof m.utilization === 'number')
      ? '<h3>Utilization</h3><p class="note">Vector\'s utilization gauge was scraped only once, so there is no series to draw; the table above has its value.</p>'
      : ''
  }
  const version = result.pipeline.version ?? 'unknown'
  const chart = stepChart({
    id: 'util',
    title: 'Utilization per component (Vector internal_metrics)',
    desc: `Utilization over ${series[0].points.length} intervals for ${series.map((s) => s.label).join(', ')}; 90 % and above is saturated.`,
    series,
    domain,
    max: 1,
    format: (v) => fmtPct(v),
    threshold: {value: SATURATED, label: 'saturated (90 %)'},
  })
  return `<h3>Utilization</h3>
${chart}
<p class="note">${esc(`Share of time each component was busy, from Vector's utilization gauge at the end of each interval (published every 5 s, so the first scrape may hold none). Before Vector 0.55 a component blocked on its downstream also reads busy; from 0.55 task transforms count that time as idle. This pipeline: ${version}.`)}</p>`
}

/** Errors per second per component, when any interval had errors. */
function errorsChart(metrics: ComponentMetrics[], domain: number): string {
  const rate = (iv: IntervalRate): number | null => (typeof iv.errors === 'number' && finite(iv.dt_ms) > 0 ? (iv.errors * 1000) / iv.dt_ms : null)
  const withErrors = metrics.filter((m) => m.intervals.some((iv) => finite(iv.errors) > 0))
  if (withErrors.length === 0) return ''
  const series: ChartSeries[] = withErrors.map((m) => ({
    label: m.id,
    color: lineColor(metrics.indexOf(m)),
    points: m.intervals.map((iv) => ({t: finite(iv.t_ms), dt: finite(iv.dt_ms), v: rate(iv)})),
  }))
  let max = 0
  for (const s of series) for (const p of s.points) max = Math.max(max, finite(p.v))
  const total = withErrors.reduce((a, m) => a + finite(m.errors), 0)
  return `<h3>Errors</h3>
${stepChart({
  id: 'errs',
  title: 'Errors per second per component',
  desc: `${fmtCount(total)} errors over the capture in ${withErrors.map((m) => m.id).join(', ')}.`,
  series,
  domain,
  max: niceCeil(max),
  format: (v) => fmtPerSecond(v),
})}`
}

/** Latency, buffer, CPU and discarded events per component, when the internal metrics had any. */
function internalTable(metrics: ComponentMetrics[]): string {
  const has = (m: ComponentMetrics) =>
    Boolean(m.latency || m.send_latency || m.send_batch_latency || m.http_rtt) ||
    typeof m.buffer_utilization_max === 'number' ||
    typeof m.cpu_usage === 'number' ||
    typeof m.discarded_events === 'number'
  const rows = metrics.filter(has)
  if (rows.length === 0) return ''
  const lat = (l: LatencyStats | null | undefined): string =>
    l && l.mean_ms !== null ? `${esc(fmtMs(l.mean_ms))}${l.p95_ms !== null ? ` / ${esc(fmtMs(l.p95_ms))}` : ''}${l.scope === 'lifetime' ? ' *' : ''}` : '–'
  const lifetime = rows.some((m) => [m.latency, m.send_latency, m.send_batch_latency, m.http_rtt].some((l) => l?.scope === 'lifetime'))
  const body = rows.map(
    (m) =>
      `<tr><td class="text"><code>${esc(m.id)}</code></td><td>${lat(m.latency)}</td><td>${lat(m.send_latency)}</td><td>${lat(m.send_batch_latency)}</td><td>${lat(m.http_rtt)}</td><td>${typeof m.buffer_utilization_max === 'number' ? fmtPct(m.buffer_utilization_max) : '–'}</td><td>${fmtCount(m.buffer_events_max)}</td><td>${typeof m.cpu_usage === 'number' ? esc(m.cpu_usage.toFixed(2)) : '–'}</td><td>${fmtCount(m.discarded_events)}</td></tr>`,
  )
  return `<h3>Internal metrics</h3>
<table><caption class="sr-only">Latency, buffers and CPU per component from the internal metrics</caption><thead><tr><th scope="col">Component</th><th scope="col">Latency mean / p95</th><th scope="col">Send wait mean / p95</th><th scope="col">Send batch mean / p95</th><th scope="col">HTTP RTT mean / p95</th><th scope="col">Buffer peak</th><th scope="col">Buffer events peak</th><th scope="col">CPU cores</th><th scope="col">Discarded</th></tr></thead>
<tbody>${body.join('\n')}</tbody></table>
<p class="note">Latency is time in a transform including its input queue (component_latency_seconds); send wait is a source blocked handing events downstream (source_send_latency_seconds); p95 is estimated from histogram buckets.${lifetime ? ' * from a single scrape: since the pipeline started, not over the capture.' : ''}</p>`
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
