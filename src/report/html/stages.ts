/** Per component: where its iteration time goes, as a stacked bar and a table. */
import type {ComponentStats, StageStats} from '../../analysis/types.js'
import {IDLE_STAGES} from '../../protocol/tracing-control.js'
import {stageColor} from './palette.js'
import {clip, esc, finite, fmtCount, fmtMs, fmtPct} from './text.js'

const MAX_ERROR_TEXT = 300
/** Sub-stage nesting shown; deeper levels are summed into their parent's row. */
const MAX_DEPTH = 3

interface Segment {
  label: string
  color: string
  share: number
  idle: boolean
  depth: number
}

export function renderStages(components: ComponentStats[], bottleneck: string | null): string {
  if (components.length === 0) return '<p>No component spans in this bundle, so there is no stage breakdown.</p>'
  const names = new Set<string>()
  for (const c of components) for (const stage of c.stages) names.add(stage.name)
  const legend = [...names, 'untracked']
    .map((n) => `<span><span class="swatch" style="background:${stageColor(n)}"></span>${esc(n)}${IDLE_STAGES.has(n) ? ' (idle)' : ''}</span>`)
    .join('')
  const articles = components.map((c, i) => renderComponent(c, i, c.id === bottleneck))
  return `<div class="legend" aria-label="Stage colours">${legend}</div>
<p class="note">Bars show self time of each stage (and hatched, of its sub-stages) as a share of the component's iteration time. Idle stages are hatched grey.</p>
${articles.join('\n')}`
}

function renderComponent(c: ComponentStats, index: number, isBottleneck: boolean): string {
  const segments: Segment[] = []
  const walk = (stages: StageStats[], depth: number, parent: string | null, top: string | null): void => {
    for (const s of stages) {
      const label = parent === null ? s.name : `${parent} › ${s.name}`
      const stage = top ?? s.name
      const subs = depth + 1 < MAX_DEPTH ? s.substages ?? [] : []
      // Without shown sub-stages the stage's whole (inclusive) time is its bar segment.
      const share = subs.length > 0 ? finite(s.share) : finite(s.total_share, finite(s.share))
      segments.push({label, color: stageColor(stage), share, idle: IDLE_STAGES.has(stage), depth})
      if (subs.length > 0) walk(subs, depth + 1, label, stage)
    }
  }
  walk(c.stages, 0, null, null)
  const wall = finite(c.wall_ms)
  const untrackedShare = finite(c.untracked_share, wall > 0 ? finite(c.untracked_ms) / wall : 0)
  segments.push({label: 'untracked', color: stageColor('untracked'), share: untrackedShare, idle: false, depth: 0})
  const sum = segments.reduce((a, s) => a + Math.max(0, s.share), 0)
  const scale = sum > 1 ? 1 / sum : 1
  const bar = segments
    .filter((s) => s.share > 0)
    .map((s) => {
      const cls = [s.idle ? 'idle' : '', s.depth > 0 ? 'sub' : ''].filter(Boolean).join(' ')
      return `<span${cls ? ` class="${cls}"` : ''} style="width:${(Math.max(0, s.share) * scale * 100).toFixed(3)}%;background-color:${s.color}" title="${esc(`${s.label}: ${fmtPct(s.share)}`)}"></span>`
    })
    .join('')
  const aria = segments.filter((s) => s.share > 0).map((s) => `${s.label} ${fmtPct(s.share)}`).join(', ')

  const rows: string[] = []
  const addRows = (stages: StageStats[], depth: number): void => {
    for (const s of stages) {
      const name = `${depth === 0 ? `<span class="swatch" style="background:${stageColor(s.name)}"></span>` : '↳ '}${esc(s.name)}`
      rows.push(`<tr${depth > 0 ? ' class="sub"' : ''}><td${depth > 1 ? ` style="padding-left:${10 + depth * 16}px"` : ''}>${name}</td><td>${fmtCount(s.count)}</td><td>${fmtMs(s.self_ms)}</td><td>${fmtMs(s.total_ms)}</td><td>${fmtPct(s.share)}</td><td>${fmtMs(s.p50_ms)}</td><td>${fmtMs(s.p95_ms)}</td><td>${fmtMs(s.p99_ms)}</td><td>${s.cpu_ms === undefined ? '–' : fmtMs(s.cpu_ms)}</td><td>${s.off_cpu_ms === undefined ? '–' : fmtMs(s.off_cpu_ms)}</td><td>${finite(s.errors) > 0 ? `<strong>${fmtCount(s.errors)}</strong>` : '0'}</td></tr>`)
      if (depth + 1 < MAX_DEPTH) addRows(s.substages ?? [], depth + 1)
    }
  }
  addRows(c.stages, 0)
  rows.push(`<tr><td><span class="swatch" style="background:${stageColor('untracked')}"></span>untracked</td><td></td><td>${fmtMs(c.untracked_ms)}</td><td></td><td>${fmtPct(untrackedShare)}</td><td colspan="6"></td></tr>`)

  const errors = (c.top_errors ?? []).length > 0
    ? `<details><summary>Most common errors (${fmtCount(c.errors)} in all)</summary><table><thead><tr><th>Message</th><th>Count</th></tr></thead><tbody>${c.top_errors
        .map((e) => `<tr><td class="text"><code>${esc(clip(e.message, MAX_ERROR_TEXT))}</code></td><td>${fmtCount(e.count)}</td></tr>`)
        .join('')}</tbody></table></details>`
    : ''
  return `<article class="component" id="comp-${index}" aria-labelledby="comp-${index}-h">
<h3 id="comp-${index}-h">${esc(c.id)} <span class="kind">${esc(c.kind)} · ${esc(c.type)}${isBottleneck ? ' · <strong style="color:#B3261E">bottleneck</strong>' : ''}</span></h3>
<p class="stats">${stats(c)}</p>
<div class="bar" role="img" aria-label="${esc(`Stage shares of ${c.id}: ${aria}`)}">${bar}</div>
<table class="stages"><caption class="sr-only">${esc(`Stages of ${c.id}`)}</caption>
<thead><tr><th scope="col">Stage</th><th scope="col">Count</th><th scope="col">Self</th><th scope="col">Total</th><th scope="col">Share</th><th scope="col">p50</th><th scope="col">p95</th><th scope="col">p99</th><th scope="col">On-CPU</th><th scope="col">Off-CPU</th><th scope="col">Errors</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>
${errors}
</article>`
}

function stats(c: ComponentStats): string {
  const parts = [
    `${fmtCount(c.iterations)} iterations`,
    `busy ${fmtPct(c.busy_share)} of the window`,
    `iterations cover ${fmtPct(c.coverage)}`,
    `${fmtMs(c.wall_ms)} in iterations`,
  ]
  if (finite(c.idle_ms) > 0) parts.push(`${fmtMs(c.idle_ms)} idle`)
  if (finite(c.blocked_ms) > 0) parts.push(`${fmtMs(c.blocked_ms)} blocked handing off downstream`)
  parts.push(`${fmtCount(c.errors)} errors`)
  return parts.join(' · ')
}
