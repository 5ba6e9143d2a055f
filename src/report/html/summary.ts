/** The top of the report: the answer, warnings, facts and the ranked findings. */
import type {AnalysisResult, ConfigSummary, Finding, InternalMetricsSummary, LogsSummary} from '../../analysis/types.js'
import {severityClass} from './palette.js'
import {clip, esc, finite, fmtCount} from './text.js'

/** Evidence is nested data of any shape: bounded so a hostile finding cannot blow up the page. */
const EVIDENCE_MAX_DEPTH = 3
const EVIDENCE_MAX_ENTRIES = 40
const EVIDENCE_MAX_TEXT = 400
const MAX_PROBLEMS = 10
/** Config files and log sources listed in the facts; the rest are counted. */
const MAX_LISTED = 20

export function renderAnswer(result: AnalysisResult): string {
  const primary = result.findings[0]
  if (primary === undefined) {
    return `<section class="answer sev-info" id="answer" aria-labelledby="answer-h">
<h2 id="answer-h">Answer</h2>
<p class="primary">No findings: nothing in this bundle points at a bottleneck.</p>
</section>`
  }
  const sev = severityClass(primary.severity)
  const serious = sev === 'critical' || sev === 'high'
  const lead = serious ? '' : '<p class="where">No high-severity bottleneck found. The top finding:</p>\n'
  return `<section class="answer sev-${sev}" id="answer" aria-labelledby="answer-h">
<h2 id="answer-h">Answer</h2>
${lead}<p class="primary"><span class="badge">${sev}</span>${esc(primary.summary)}</p>
<p class="where">${where(primary)}</p>
</section>`
}

function where(f: Finding): string {
  const parts: string[] = []
  if (f.component !== null && f.component !== undefined) parts.push(`component <code>${esc(f.component)}</code>`)
  if (f.stage !== null && f.stage !== undefined) parts.push(`stage <code>${esc(f.stage)}</code>`)
  parts.push(`<span class="mono">${esc(f.id)}</span>`)
  return parts.join(' · ')
}

export function renderWarnings(result: AnalysisResult): string {
  const items: string[] = []
  const {bundle, spans} = result
  if (!bundle.verified) items.push('Checksums were not verified: the bundle may have been altered.')
  if (!bundle.complete) items.push(`The bundle is incomplete${bundle.incomplete_reason ? `: ${esc(bundle.incomplete_reason)}` : '.'}`)
  if (!spans.tracing_available) {
    items.push(`Tracing was unavailable${spans.tracing_reason ? ` (${esc(spans.tracing_reason)})` : ''}: the findings come from metrics alone.`)
  }
  if (finite(spans.dropped) > 0) items.push(`${fmtCount(spans.dropped)} spans were dropped during the capture.`)
  if (finite(spans.lost) > 0) items.push(`${fmtCount(spans.lost)} spans went missing between the pipeline and the capture.`)
  if (finite(spans.malformed) > 0) items.push(`${fmtCount(spans.malformed)} lines of the span file were not usable spans and were skipped.`)
  for (const problem of (bundle.problems ?? []).slice(0, MAX_PROBLEMS)) items.push(`Not analysed: ${esc(clip(problem, EVIDENCE_MAX_TEXT))}`)
  if ((bundle.problems ?? []).length > MAX_PROBLEMS) items.push(`… and ${bundle.problems.length - MAX_PROBLEMS} more unreadable entries.`)
  if (result.topology.inferred) items.push('The pipeline gave no topology: the upstream → downstream order was inferred from component kinds.')
  if (items.length === 0) return ''
  return `<ul class="warnings" aria-label="Caveats">${items.map((i) => `<li>${i}</li>`).join('')}</ul>`
}

export function renderFacts(result: AnalysisResult): string {
  const {pipeline, window, spans, bundle} = result
  const row = (k: string, v: string): string => `<dt>${k}</dt><dd>${v}</dd>`
  const windowText = window.start ? `${esc(window.start)} → ${esc(window.end ?? '?')} (${esc(finite(window.duration_s).toFixed(1))} s)` : `${esc(finite(window.duration_s).toFixed(1))} s`
  return `<dl class="facts">
${row('Pipeline', `${esc(pipeline.version ?? 'unknown version')} on ${esc(pipeline.hostname ?? 'unknown host')} (API: ${esc(pipeline.api)})`)}
${row('Window', windowText)}
${row('Spans', `${fmtCount(spans.total)} in ${fmtCount(spans.traces)} traces · ${fmtCount(spans.dropped)} dropped${spans.lost === null || spans.lost === undefined ? '' : ` · ${fmtCount(spans.lost)} lost`}${spans.level ? ` · level ${esc(spans.level)}` : ''}${finite(spans.orphans) > 0 ? ` · ${fmtCount(spans.orphans)} outside any iteration` : ''}`)}
${row('Bundle', `<code>${esc(bundle.path)}</code> · format v${esc(finite(bundle.format_version))} · ${bundle.verified ? 'checksums verified' : 'NOT verified'}${bundle.complete ? '' : ' · incomplete'}`)}
${result.internal_metrics ? row('Internal metrics', internalMetricsText(result.internal_metrics)) : ''}
${result.config ? row('Config files', configHtml(result.config, result.topology.edges_source === 'config')) : ''}
${result.logs ? row('Logs', logsHtml(result.logs)) : ''}
</dl>`
}

function internalMetricsText(im: InternalMetricsSummary): string {
  const failed = finite(im.failed) > 0 ? ` (${fmtCount(im.failed)} failed${im.first_error ? `: ${esc(clip(im.first_error, EVIDENCE_MAX_TEXT))}` : ''})` : ''
  const util = finite(im.utilization_components) > 0 ? `utilization for ${fmtCount(im.utilization_components)} components` : 'no utilization in any scrape'
  return `${fmtCount(im.scrapes)} Prometheus scrapes${failed}${im.prefix ? ` · prefix <code>${esc(im.prefix)}</code>` : ''} · ${util}`
}

/** The config files included (paths and how they fared), never their content. */
function configHtml(c: ConfigSummary, edgesFromConfig: boolean): string {
  const files = (c.files ?? []).slice(0, MAX_LISTED).map((f) => {
    const what = f.ok
      ? `${esc(f.format ?? 'config')}${f.components.length > 0 ? `, defines ${f.components.slice(0, MAX_LISTED).map((id) => `<code>${esc(id)}</code>`).join(', ')}` : ''}${f.entry ? ` · in the bundle as <code>${esc(f.entry)}</code>` : ''}`
      : `<strong>not included</strong>: ${esc(clip(f.error ?? 'unreadable', EVIDENCE_MAX_TEXT))}`
    return `<li><code>${esc(f.source)}</code> (${what})</li>`
  })
  if ((c.files ?? []).length > MAX_LISTED) files.push(`<li>… and ${fmtCount(c.files.length - MAX_LISTED)} more</li>`)
  const summary = `${fmtCount(c.files.filter((f) => f.ok).length)} of ${fmtCount(c.files.length)} files · ${fmtCount(c.component_count)} components · ${fmtCount(c.edge_count)} edges${edgesFromConfig ? ' (the topology below uses them)' : ''}${finite(c.unresolved_inputs) > 0 ? ` · ${fmtCount(c.unresolved_inputs)} inputs match nothing` : ''}`
  const warnings = (c.warnings ?? []).slice(0, MAX_LISTED).map((w) => `<li>${esc(clip(w, EVIDENCE_MAX_TEXT))}</li>`)
  return `${summary}<ul class="files">${files.join('')}${warnings.join('')}</ul>`
}

/** The log sources included: spec, lines, whether the start was cut; never their content. */
function logsHtml(l: LogsSummary): string {
  const sources = (l.sources ?? []).slice(0, MAX_LISTED).map((s) => {
    const detail = s.entry
      ? `${fmtCount(s.lines)} lines${s.selection ? `, ${esc(s.selection)}` : ''}${s.truncated ? ', <strong>truncated</strong> (older lines left out)' : ''} · in the bundle as <code>${esc(s.entry)}</code>`
      : `${esc(s.status)}${s.error ? `: ${esc(clip(s.error, EVIDENCE_MAX_TEXT))}` : ''}`
    return `<li><code>${esc(s.spec)}</code> (${detail})</li>`
  })
  if ((l.sources ?? []).length > MAX_LISTED) sources.push(`<li>… and ${fmtCount(l.sources.length - MAX_LISTED)} more</li>`)
  const cap = l.max_bytes !== null && l.max_bytes !== undefined ? ` · at most ${fmtCount(l.max_bytes)} bytes each, the end kept` : ''
  return `${fmtCount(l.sources?.length ?? 0)} sources${cap}<ul class="files">${sources.join('')}</ul>`
}

export function renderFindings(findings: Finding[]): string {
  const head = `<h2 id="findings-h">Findings</h2>
<p><button type="button" id="copy-findings" hidden>Copy findings as text</button> <span id="copy-status" role="status"></span></p>`
  if (findings.length === 0) return `<section id="findings" aria-labelledby="findings-h">${head}<p>None.</p></section>`
  const items = findings.map((f) => {
    const sev = severityClass(f.severity)
    const evidence = f.evidence && typeof f.evidence === 'object' && Object.keys(f.evidence).length > 0
      ? `<details><summary>Evidence</summary>${renderValue(f.evidence, 0)}</details>`
      : ''
    return `<li class="finding sev-${sev}"><span class="badge">${sev}</span><span class="summary">${esc(f.summary)}</span>
<div class="where">${where(f)}</div>${evidence}</li>`
  })
  return `<section id="findings" aria-labelledby="findings-h">${head}<ol class="findings">${items.join('\n')}</ol></section>`
}

function renderValue(value: unknown, depth: number): string {
  if (value === null || value === undefined) return '<span class="mono">null</span>'
  if (typeof value === 'number') return `<span class="mono">${esc(Number.isInteger(value) ? value : Number(value.toPrecision(6)))}</span>`
  if (typeof value !== 'object') return esc(clip(value, EVIDENCE_MAX_TEXT))
  if (depth >= EVIDENCE_MAX_DEPTH) return `<code>${esc(clip(safeJson(value), EVIDENCE_MAX_TEXT))}</code>`
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value)
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== 'object')) {
    const shown = value.slice(0, EVIDENCE_MAX_ENTRIES).map((v) => renderValue(v, depth + 1)).join(', ')
    return value.length > EVIDENCE_MAX_ENTRIES ? `${shown}, … (${value.length - EVIDENCE_MAX_ENTRIES} more)` : shown || '[]'
  }
  const rows = entries
    .slice(0, EVIDENCE_MAX_ENTRIES)
    .map(([k, v]) => `<tr><th scope="row">${esc(clip(k, 80))}</th><td class="text">${renderValue(v, depth + 1)}</td></tr>`)
  if (entries.length > EVIDENCE_MAX_ENTRIES) rows.push(`<tr><td colspan="2" class="text">… ${entries.length - EVIDENCE_MAX_ENTRIES} more</td></tr>`)
  return `<table class="evidence"><tbody>${rows.join('')}</tbody></table>`
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? ''
  } catch {
    return String(value)
  }
}
