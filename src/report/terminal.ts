/**
 * The default replay output: the answer first (findings), then where each
 * component's time goes. Plain text unless `color`; no line wider than
 * `width` columns (default 100), which the tests check on every scenario.
 */
import type {AnalysisResult, ComponentMetrics, ComponentStats, ConfigSummary, Finding, LatencyStats, LogsSummary, Severity, StageStats} from '../analysis/types.js'
import {IDLE_STAGES, isBlockedOnDownstream} from '../protocol/tracing-control.js'
import {findingGist} from './finding-text.js'
import {clean, padEnd, padStart, truncate, truncateAnsi, truncateStart, visibleWidth, wrap} from './text-width.js'

export const DEFAULT_WIDTH = 100
/** Narrower than this and the table no longer fits; we lay out for this and cut. */
const MIN_WIDTH = 60
/** Findings listed in full; the rest are counted. */
const MAX_FINDINGS = 12
/** Evidence items shown under a finding. */
const MAX_EVIDENCE_ITEMS = 6
/** Config files and log sources named in the header; the rest are counted. */
const MAX_LISTED_FILES = 3

export interface TerminalOptions {
  color: boolean
  width?: number
}

type Style = 'bold' | 'dim' | 'red' | 'yellow' | 'cyan' | 'green' | 'magenta' | 'boldred'
const SGR: Record<Style, string> = {
  bold: '1',
  dim: '2',
  red: '31',
  yellow: '33',
  cyan: '36',
  green: '32',
  magenta: '35',
  boldred: '1;31',
}
const SEVERITY_STYLE: Record<Severity, Style> = {critical: 'boldred', high: 'red', medium: 'yellow', low: 'cyan', info: 'dim'}

const BAR_OWN = '█'
const BAR_BLOCKED = '▒'
const BAR_IDLE = '░'

export function renderTerminal(result: AnalysisResult, opts: TerminalOptions): string {
  const width = Math.max(MIN_WIDTH, Math.floor(opts.width ?? DEFAULT_WIDTH))
  const paint = (style: Style, text: string) => (opts.color && text ? `\x1b[${SGR[style]}m${text}\x1b[0m` : text)
  const lines: string[] = []
  lines.push(...header(result, width, paint))
  lines.push('')
  lines.push(...findings(result.findings, width, paint))
  lines.push('')
  lines.push(...componentTable(result, width, paint))
  return lines.map((l) => truncateAnsi(l.replace(/\s+$/, ''), width)).join('\n') + '\n'
}

type Paint = (style: Style, text: string) => string

// ---------- header ----------

function header(r: AnalysisResult, width: number, paint: Paint): string[] {
  const label = (s: string) => paint('bold', padEnd(s, 10))
  const value = (s: string) => truncate(s, width - 10)
  const p = r.pipeline
  const pipeline = `${p.version ? `Vector ${clean(p.version)}` : 'unknown version'} on ${p.hostname ? clean(p.hostname) : 'unknown host'} (${p.api} API)`
  const b = r.bundle
  const verification = b.verified ? 'checksums verified' : 'checksums NOT verified (--no-verify)'
  const complete = b.complete ? 'complete' : `INCOMPLETE${b.incomplete_reason ? `: ${clean(b.incomplete_reason)}` : ''}`
  const formatPart = ` · format ${b.format_version}`
  const bundle = truncateStart(clean(b.path), width - 10 - formatPart.length) + formatPart
  const w = r.window
  const window = w.start && w.end ? `${shortTime(w.start)} → ${shortTime(w.end)} (${fmtSeconds(w.duration_s)})` : `unknown (${fmtSeconds(w.duration_s)})`
  const s = r.spans
  const spans = s.tracing_available
    ? `${num(s.total)} in ${num(s.traces)} traces · dropped ${num(s.dropped)} · lost ${s.lost === null ? 'unknown' : num(s.lost)} · orphans ${num(s.orphans)}${s.level ? ` · level ${s.level}` : ''}`
    : `none: tracing unavailable${s.tracing_reason ? ` (${clean(s.tracing_reason)})` : ''}`
  const out = [
    paint('bold', truncate(`vdiag replay · ${pipeline}`, width)),
    label('bundle') + value(bundle),
    label('') + (b.verified ? paint('green', verification) : paint('yellow', verification)) + ' · ' + (b.complete ? complete : paint('yellow', complete)),
    label('window') + value(window + (w.source !== 'tracing' && w.source !== 'none' ? ` · from ${w.source}` : '')),
    label('spans') + value(spans),
  ]
  if (r.topology.components.length > 0) {
    const order = r.topology.order.map(clean).join(' → ')
    const how = r.topology.inferred ? ' (order inferred from kinds)' : r.topology.edges_source === 'config' ? ' (edges from the config files)' : ''
    out.push(label('topology') + value(`${order}${how}`))
  }
  const im = r.internal_metrics
  if (im) {
    const util = im.utilization_components > 0 ? `utilization for ${num(im.utilization_components)} components` : 'no utilization yet'
    out.push(label('scrapes') + value(`${num(im.scrapes)} of internal_metrics${im.failed > 0 ? ` (${num(im.failed)} failed)` : ''} · ${util}`))
  }
  if (r.config) out.push(label('config') + value(configText(r.config)))
  if (r.logs) out.push(label('logs') + value(logsText(r.logs)))
  return out
}

/** The config files included, by path, with how many failed: never their content. */
function configText(c: ConfigSummary): string {
  const ok = c.files.filter((f) => f.ok)
  const failed = c.files.length - ok.length
  const names = ok.slice(0, MAX_LISTED_FILES).map((f) => clean(f.source)).join(', ')
  const more = ok.length > MAX_LISTED_FILES ? ` +${ok.length - MAX_LISTED_FILES} more` : ''
  const counts = `${num(c.component_count)} components, ${num(c.edge_count)} edges`
  return `${num(ok.length)} file${ok.length === 1 ? '' : 's'}${names ? `: ${names}${more}` : ''} · ${counts}${failed > 0 ? ` · ${num(failed)} not readable` : ''}`
}

/** The log sources included: spec, lines, truncated; failures with their reason. */
function logsText(l: LogsSummary): string {
  if (l.sources.length === 0) return 'none'
  return l.sources
    .slice(0, MAX_LISTED_FILES)
    .map((s) =>
      s.entry
        ? `${clean(s.spec)} (${num(s.lines)} lines${s.truncated ? ', truncated' : ''})`
        : `${clean(s.spec)} (${clean(s.status)}${s.error ? `: ${clean(s.error)}` : ''})`,
    )
    .join(' · ')
}

// ---------- findings ----------

function findings(list: Finding[], width: number, paint: Paint): string[] {
  const out = [paint('bold', 'FINDINGS')]
  if (list.length === 0) {
    out.push('  none')
    return out
  }
  const indent = '    '
  const textWidth = width - indent.length
  list.slice(0, MAX_FINDINGS).forEach((f, i) => {
    const sev = paint(SEVERITY_STYLE[f.severity], padEnd(f.severity.toUpperCase(), 8))
    const where = [f.component ? clean(f.component) : null, f.stage ? clean(f.stage) : null].filter(Boolean).join(' · ')
    out.push(truncate(`${padStart(String(i + 1), 2)}  `, 4) + sev + ' ' + (where ? paint('bold', truncate(where, width - 14)) : ''))
    for (const l of wrap(clean(f.summary).replace(/`/g, ''), textWidth)) out.push(indent + l)
    const ev = evidenceText(f.evidence)
    if (ev) for (const l of wrap(ev, textWidth - 2)) out.push(indent + paint('dim', l))
    const note = f.evidence?.utilization_semantics
    if (typeof note === 'string') for (const l of wrap(`note: ${clean(note)}`, textWidth - 2)) out.push(indent + paint('dim', l))
    if (i === 0) {
      const gist = findingGist(f.id)
      if (gist) {
        out.push('')
        for (const l of wrap(gist, textWidth)) out.push(indent + paint('dim', l))
      }
    }
  })
  if (list.length > MAX_FINDINGS) out.push(`    … and ${list.length - MAX_FINDINGS} more (see --json)`)
  return out
}

/** Evidence keys worth a glance in the terminal, in this order, with their labels (the rest is in --json). */
const EVIDENCE_LABELS: [key: string, label: string][] = [
  ['busy_share', 'busy'],
  ['own_work_share_of_busy', 'own work of busy'],
  ['blocked_share_of_busy', 'blocked of busy'],
  ['stage_share_of_iteration_time', 'stage share'],
  ['stage_p95_ms', 'p95'],
  ['stage_p99_ms', 'p99'],
  ['dominant_substage', 'sub-stage'],
  ['utilization', 'utilization'],
  ['utilization_max', 'max'],
  ['sent_over_received', 'sent/received'],
  ['iterations', 'iterations'],
  ['errors', 'errors'],
  ['counted_errors', 'counted'],
  ['errors_per_s', 'rate'],
  ['errors_per_iteration', 'errors per iteration'],
  ['spans', 'spans'],
  ['lost', 'lost'],
  ['dropped', 'dropped'],
  ['orphans', 'orphans'],
  ['untracked_share', 'untracked'],
  ['window_s', 'window'],
]

/** A short digest of the evidence: known keys with labels, a few lists summarised, and how the order was known. */
function evidenceText(evidence: Record<string, unknown>): string {
  const parts: string[] = []
  for (const [key, label] of EVIDENCE_LABELS) {
    if (parts.length >= MAX_EVIDENCE_ITEMS) break
    const v = evidence[key]
    if (typeof v === 'number') parts.push(`${label} ${fmtValue(key, v)}`)
    else if (typeof v === 'string' && v.length <= 40) parts.push(`${label} ${clean(v)}`)
  }
  const subs = evidence.substages
  if (Array.isArray(subs) && subs.length > 0) {
    const list = (subs as {name: string; share_of_stage: number}[])
      .slice(0, 3)
      .map((x) => `${clean(String(x.name))} ${pct(Number(x.share_of_stage))}`)
    parts.push(`sub-stages ${list.join(', ')}`)
  }
  const blocked = evidence.blocked_upstream
  if (Array.isArray(blocked) && blocked.length > 0) parts.push(`blocked upstream ${(blocked as {component: string}[]).map((x) => clean(String(x.component))).join(', ')}`)
  const note = evidence.topology ?? evidence.source
  if (typeof note === 'string' && /inferred/.test(note)) parts.push('order inferred from kinds (no topology edges)')
  if (typeof note === 'string' && /metrics alone/.test(note)) parts.push('from metrics alone')
  return parts.join(' · ')
}

function fmtValue(key: string, v: number): string {
  if (/(^|_)(share|utilization)($|_)|^sent_over_received$|_per_iteration$|_of_busy$|_of_window$/.test(key)) return pct(v)
  if (/_ms$/.test(key)) return fmtMs(v)
  if (/_per_s$/.test(key)) return rateText(v)
  if (/_s$/.test(key)) return fmtSeconds(v)
  return num(v)
}

// ---------- components ----------

interface Row {
  indent: number
  name: string
  share: number
  kind: 'own' | 'blocked' | 'idle'
  stage: StageStats | null
}

function componentTable(r: AnalysisResult, width: number, paint: Paint): string[] {
  const out = [paint('bold', 'COMPONENTS') + paint('dim', '  share of iteration time per stage')]
  if (r.components.length === 0) {
    out.push(r.spans.tracing_available ? '  no component iterations in the spans' : '  no spans (tracing unavailable)')
    out.push(...metricsOnlyTable(r.metrics, r.topology.order, width))
    return out
  }
  out.push(paint('dim', `  ${BAR_OWN} own work   ${BAR_BLOCKED} blocked on downstream   ${BAR_IDLE} idle (sleep, wait)`))
  // name | bar | share | total | p50 | p95 | p99 | cpu
  const nameW = 16
  const fixed = 2 + nameW + 1 + 1 + 6 + 2 + 7 + 2 + 7 + 1 + 7 + 1 + 7 + 2 + 4
  const barW = Math.max(8, Math.min(30, width - fixed))
  out.push(
    paint(
      'dim',
      `  ${padEnd('stage', nameW)} ${' '.repeat(barW)} ${padStart('share', 6)}  ${padStart('total', 7)}  ${padStart('p50', 7)} ${padStart('p95', 7)} ${padStart('p99', 7)}  cpu`,
    ),
  )
  const metrics = new Map(r.metrics.map((m) => [m.id, m]))
  for (const c of r.components) {
    out.push('')
    out.push(componentLine(c, metrics.get(c.id), width, paint))
    const detail = metricsDetail(metrics.get(c.id), c.errors)
    if (detail) out.push(paint('dim', truncate(`  ${detail}`, width)))
    for (const row of rows(c)) {
      const name = padEnd(truncate(' '.repeat(row.indent) + clean(row.name), nameW), nameW)
      const filled = Math.round(row.share * barW)
      const ch = row.kind === 'own' ? BAR_OWN : row.kind === 'blocked' ? BAR_BLOCKED : BAR_IDLE
      const barStyle: Style = row.kind === 'own' ? 'cyan' : row.kind === 'blocked' ? 'yellow' : 'dim'
      const bar = paint(barStyle, ch.repeat(filled)) + ' '.repeat(barW - filled)
      const s = row.stage
      const stats = s
        ? `${padStart(fmtMs(s.total_ms), 7)}  ${padStart(fmtMs(s.p50_ms), 7)} ${padStart(fmtMs(s.p95_ms), 7)} ${padStart(fmtMs(s.p99_ms), 7)}` +
          (s.cpu_ms !== undefined && s.total_ms > 0 ? `  ${padStart(pct(s.cpu_ms / s.total_ms), 4)}` : '')
        : `${padStart(fmtMs(c.untracked_ms), 7)}`
      out.push(`  ${name} ${bar} ${padStart(pct1(row.share), 6)}  ${stats}`)
    }
    if (c.errors > 0) {
      const top = c.top_errors[0]
      out.push(paint('yellow', truncate(`    errors ${num(c.errors)}${top ? `: "${clean(top.message)}" (${top.count}×)` : ''}`, width)))
    }
  }
  return out
}

function componentLine(c: ComponentStats, m: ComponentMetrics | undefined, width: number, paint: Paint): string {
  const parts = [`${num(c.iterations)} iterations`, `busy ${pct(c.busy_share)}`, `coverage ${pct(c.coverage)}`]
  if (m && (m.received_eps !== null || m.sent_eps !== null)) parts.push(`${eps(m.received_eps)} in / ${eps(m.sent_eps)} out ev/s`)
  const title = `${c.kind} ${clean(c.id)} (${clean(c.type)})`
  const rest = ' · ' + parts.join(' · ')
  const room = width - visibleWidth(rest)
  return paint('bold', truncate(title, Math.max(20, room))) + truncate(rest, width - Math.min(visibleWidth(title), Math.max(20, room)))
}

/** Stages in protocol order with their sub-stages under them, then untracked time. */
function rows(c: ComponentStats): Row[] {
  const out: Row[] = []
  const kindOf = (name: string): Row['kind'] => (IDLE_STAGES.has(name) ? 'idle' : isBlockedOnDownstream(c.kind, name) ? 'blocked' : 'own')
  for (const s of c.stages) {
    const k = kindOf(s.name)
    out.push({indent: 0, name: s.name, share: s.total_share, kind: k, stage: s})
    for (const sub of s.substages) out.push({indent: 2, name: sub.name, share: sub.total_share, kind: k, stage: sub})
  }
  if (c.untracked_ms > 0) out.push({indent: 0, name: 'untracked', share: c.untracked_share, kind: 'own', stage: null})
  return out
}

function metricsOnlyTable(metrics: ComponentMetrics[], order: string[], width: number): string[] {
  if (metrics.length === 0) return []
  const rank = (id: string) => (order.includes(id) ? order.indexOf(id) : order.length)
  const out = ['', '  metrics (events/s over the capture)']
  for (const m of [...metrics].sort((a, b) => rank(a.id) - rank(b.id) || a.id.localeCompare(b.id))) {
    const u = m.utilization !== null ? ` · utilization ${pct(m.utilization)}` : ''
    const e = m.errors ? ` · errors ${num(m.errors)}${m.errors_per_s ? ` (${rateText(m.errors_per_s)})` : ''}` : ''
    const d = m.dropped_events ? ` · not sent ${num(m.dropped_events)}` : ''
    out.push(truncate(`  ${padEnd(clean(m.id), 18)} in ${padStart(eps(m.received_eps), 8)}  out ${padStart(eps(m.sent_eps), 8)}${u}${e}${d}`, width))
    const detail = metricsDetail(m, 0, false)
    if (detail) out.push(truncate(`  ${' '.repeat(18)} ${detail}`, width))
  }
  return out
}

/**
 * One line of what the internal metrics and error totals say about a
 * component: utilization, errors (counted, and error spans), latencies,
 * buffer fill, CPU, discarded events. Empty when they say nothing.
 */
function metricsDetail(m: ComponentMetrics | undefined, spanErrors: number, withHead = true): string {
  if (!m) return ''
  const parts: string[] = []
  if (withHead && m.utilization !== null) {
    parts.push(`utilization ${pct(m.utilization)}${typeof m.utilization_max === 'number' && m.utilization_max - m.utilization >= 0.05 ? ` (max ${pct(m.utilization_max)})` : ''}`)
  }
  if (withHead && (m.errors || spanErrors > 0)) {
    const rate = m.errors_per_s ? ` (${rateText(m.errors_per_s)})` : ''
    parts.push(m.errors ? `errors ${num(m.errors)}${rate}` : `errors ${num(spanErrors)} in spans`)
  }
  const lat = (label: string, l: LatencyStats | null | undefined) => {
    if (!l || l.mean_ms === null) return
    parts.push(`${label} ${fmtMs(l.mean_ms)}${l.p95_ms !== null ? ` p95 ${fmtMs(l.p95_ms)}` : ''}`)
  }
  lat('latency', m.latency)
  lat('send wait', m.send_latency)
  lat('rtt', m.http_rtt)
  if (typeof m.buffer_utilization_max === 'number') parts.push(`buffer peak ${pct(m.buffer_utilization_max)}`)
  if (typeof m.cpu_usage === 'number') parts.push(`cpu ${m.cpu_usage.toFixed(2)} cores`)
  if (m.discarded_events) parts.push(`discarded ${num(m.discarded_events)}`)
  return parts.join(' · ')
}

// ---------- number formats ----------

const num = (x: number) => Math.round(x).toLocaleString('en-US')
const pct = (x: number) => `${Math.round(x * 100)}%`
const pct1 = (x: number) => `${(x * 100).toFixed(1)}%`
const rateText = (x: number) => `${x >= 10 ? Math.round(x).toLocaleString('en-US') : x.toFixed(x >= 1 ? 1 : 2)}/s`
const eps = (x: number | null) => (x === null ? '?' : x >= 10_000 ? `${(x / 1000).toFixed(0)}k` : x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0))

function fmtMs(x: number): string {
  if (x >= 60_000) return `${(x / 60_000).toFixed(1)}m`
  if (x >= 1000) return `${(x / 1000).toFixed(x >= 10_000 ? 0 : 1)}s`
  if (x >= 10) return `${Math.round(x)}ms`
  if (x >= 1) return `${x.toFixed(1)}ms`
  return `${Math.round(x * 1000)}µs`
}

function fmtSeconds(s: number): string {
  return s >= 120 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`
}

/** `2025-01-15T10:00:00.000Z` → `2025-01-15 10:00:00Z` */
function shortTime(iso: string): string {
  return clean(iso).replace('T', ' ').replace(/\.\d+Z$/, 'Z')
}
