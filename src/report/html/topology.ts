/**
 * The topology as an inline SVG graph: components as boxes in columns
 * (upstream left, downstream right), edges as arrows. Columns come from the
 * edges (longest path from a source) or, without edges, from the kind.
 */
import type {AnalysisResult} from '../../analysis/types.js'
import type {ComponentInfo, Edge} from '../../bundle/format.js'
import {ERROR_COLOR, KIND_FILL} from './palette.js'
import {clip, esc, finite, fmtPct, px} from './text.js'

/** Beyond this the graph stops being readable; the tables below still list every component. */
const MAX_NODES = 200
const BOX_W = 200
const BOX_H = 62
const COL_GAP = 120
const ROW_GAP = 18
const PAD = 24
const HEAD = 50
const LABEL_CHARS = 26
const KIND_RANK: Record<string, number> = {source: 0, transform: 1, sink: 2}

interface Node {
  info: ComponentInfo
  col: number
  row: number
  anchor: number
}

export function renderTopology(result: AnalysisResult, bottleneck: string | null): string {
  const fromComponents: ComponentInfo[] = result.components.map((c) => ({id: c.id, kind: c.kind, type: c.type, outputs: []}))
  const listed = result.topology.components.length > 0 ? result.topology.components : fromComponents
  // Upstream first, as the analysis ordered them.
  const rank = new Map((result.topology.order ?? []).map((id, i) => [id, i]))
  const all = [...listed].sort((a, b) => (rank.get(a.id) ?? Infinity) - (rank.get(b.id) ?? Infinity))
  const infos = all.slice(0, MAX_NODES)
  const omitted = all.length - infos.length
  const anchors = new Map<string, number>()
  result.components.forEach((c, i) => anchors.set(c.id, i))
  const busy = new Map(result.components.map((c) => [c.id, c.busy_share]))
  // Without spans, Vector's utilization gauge is the busy share there is.
  const utilization = new Map(result.metrics.filter((m) => typeof m.utilization === 'number').map((m) => [m.id, m.utilization as number]))
  const ids = new Set(infos.map((c) => c.id))
  const edges = result.topology.edges.filter((e) => ids.has(e.from) && ids.has(e.to))
  const skippedEdges = result.topology.edges.length - edges.length
  if (infos.length === 0) return '<p>The bundle lists no components.</p>'

  const cols = edges.length > 0 ? columnsFromEdges(infos, edges) : new Map(infos.map((c) => [c.id, Object.hasOwn(KIND_RANK, c.kind) ? KIND_RANK[c.kind] : 1]))
  // Compact away empty columns.
  const used = [...new Set(cols.values())].sort((a, b) => a - b)
  const nodes: Node[] = []
  const perCol = new Map<number, number>()
  for (const info of infos) {
    const col = used.indexOf(cols.get(info.id) ?? 0)
    const row = perCol.get(col) ?? 0
    perCol.set(col, row + 1)
    nodes.push({info, col, row, anchor: anchors.get(info.id) ?? -1})
  }
  const byId = new Map(nodes.map((n) => [n.info.id, n]))
  const rows = Math.max(...perCol.values())
  const width = PAD * 2 + used.length * BOX_W + (used.length - 1) * COL_GAP
  const height = HEAD + PAD + rows * (BOX_H + ROW_GAP)
  const x = (n: Node): number => PAD + n.col * (BOX_W + COL_GAP)
  const y = (n: Node): number => HEAD + n.row * (BOX_H + ROW_GAP)

  const parts: string[] = []
  parts.push(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>`)
  // Column headings: what kind of components each column holds.
  used.forEach((_, col) => {
    const kinds = [...new Set(nodes.filter((n) => n.col === col).map((n) => n.info.kind))].map((k) => `${k}s`).join(' / ')
    parts.push(`<text x="${px(PAD + col * (BOX_W + COL_GAP) + BOX_W / 2)}" y="18" text-anchor="middle" font-size="13" fill="#5a5a60">${esc(kinds)}</text>`)
  })
  if (result.topology.inferred || edges.length === 0) {
    for (let col = 0; col + 1 < used.length; col++) {
      const x1 = PAD + col * (BOX_W + COL_GAP) + BOX_W + 8
      const x2 = x1 + COL_GAP - 16
      const yMid = HEAD + (rows * (BOX_H + ROW_GAP)) / 2
      parts.push(`<line x1="${px(x1)}" y1="${px(yMid)}" x2="${px(x2)}" y2="${px(yMid)}" stroke="#555" stroke-width="2" stroke-dasharray="6 4" marker-end="url(#arrow)"/>`)
      parts.push(`<text x="${px((x1 + x2) / 2)}" y="${px(yMid - 8)}" text-anchor="middle" font-size="11" fill="#5a5a60">inferred order</text>`)
    }
  }
  for (const e of edges) {
    const a = byId.get(e.from)!
    const b = byId.get(e.to)!
    const x1 = x(a) + BOX_W
    const y1 = y(a) + BOX_H / 2
    const x2 = x(b)
    const y2 = y(b) + BOX_H / 2
    const bend = Math.max(40, Math.abs(x2 - x1) / 2)
    parts.push(`<path d="M${px(x1)},${px(y1)} C${px(x1 + bend)},${px(y1)} ${px(x2 - bend)},${px(y2)} ${px(x2 - 2)},${px(y2)}" fill="none" stroke="#555" stroke-width="1.6" marker-end="url(#arrow)"><title>${esc(e.from)} → ${esc(e.to)}</title></path>`)
  }
  for (const n of nodes) {
    const isBottleneck = bottleneck !== null && n.info.id === bottleneck
    const fromSpans = busy.get(n.info.id)
    const share = fromSpans ?? utilization.get(n.info.id)
    const measure = fromSpans === undefined ? 'utilization' : 'busy'
    const bx = x(n)
    const by = y(n)
    const fill = Object.hasOwn(KIND_FILL, n.info.kind) ? KIND_FILL[n.info.kind] : '#F2F2F2'
    const label = `${n.info.id} (${n.info.kind}, ${n.info.type})${share === undefined ? '' : `, ${measure} ${fmtPct(share)}`}${isBottleneck ? ', the bottleneck' : ''}`
    const box = [
      `<title>${esc(label)}</title>`,
      `<rect x="${px(bx)}" y="${px(by)}" width="${BOX_W}" height="${BOX_H}" rx="6" fill="${fill}" stroke="${isBottleneck ? ERROR_COLOR : '#666'}" stroke-width="${isBottleneck ? 3.5 : 1.2}"/>`,
      `<text x="${px(bx + 10)}" y="${px(by + 20)}" font-size="14" font-weight="600" fill="#1d1d1f">${esc(clip(n.info.id, LABEL_CHARS))}</text>`,
      `<text x="${px(bx + 10)}" y="${px(by + 37)}" font-size="12" fill="#5a5a60">${esc(clip(`${n.info.kind} · ${n.info.type}`, LABEL_CHARS + 6))}</text>`,
    ]
    if (share !== undefined) {
      const w = (BOX_W - 20) * Math.min(1, Math.max(0, finite(share)))
      box.push(`<rect x="${px(bx + 10)}" y="${px(by + 45)}" width="${BOX_W - 20}" height="8" fill="#fff" stroke="#999" stroke-width=".6"/>`)
      box.push(`<rect x="${px(bx + 10)}" y="${px(by + 45)}" width="${px(w)}" height="8" fill="${isBottleneck ? ERROR_COLOR : '#555'}"/>`)
    }
    if (isBottleneck) {
      box.push(`<text x="${px(bx + BOX_W / 2)}" y="${px(by - 6)}" text-anchor="middle" font-size="11" font-weight="700" fill="${ERROR_COLOR}">BOTTLENECK</text>`)
    }
    parts.push(n.anchor >= 0 ? `<a href="#comp-${n.anchor}">${box.join('')}</a>` : `<g>${box.join('')}</g>`)
  }
  const notes: string[] = []
  if (result.topology.inferred) notes.push('The bundle has no topology edges: columns follow component kinds (sources → transforms → sinks), an <strong>inferred order</strong>.')
  else if (result.topology.edges_source === 'config' && edges.length > 0) notes.push("Edges come from the pipeline's config files (each component's <code>inputs</code>).")
  else if (result.topology.edges_source === 'graphql' && edges.length > 0) notes.push("Edges come from the admin API (GraphQL relations).")
  if (omitted > 0) notes.push(`${omitted} more components are not drawn; the tables below list them all.`)
  if (skippedEdges > 0) notes.push(`${skippedEdges} edges name components that are not drawn and are left out.`)
  notes.push(
    busy.size > 0
      ? 'The bar in each box is its busy share of the window. Select a box to jump to its breakdown.'
      : utilization.size > 0
        ? "The bar in each box is its mean utilization (Vector's gauge): there are no spans."
        : 'Select a box to jump to its breakdown.',
  )
  const desc = `Pipeline topology with ${infos.length} components and ${edges.length} edges${result.topology.inferred ? ', order inferred from component kinds' : ''}.`
  return `<svg viewBox="0 0 ${px(width)} ${px(height)}" width="${px(width)}" role="img" aria-labelledby="topo-title topo-desc"><title id="topo-title">Topology</title><desc id="topo-desc">${esc(desc)}</desc>${parts.join('\n')}</svg>
${notes.map((n) => `<p class="note">${n}</p>`).join('\n')}`
}

/** Longest path from the roots, bounded so a cycle cannot loop forever. */
function columnsFromEdges(infos: ComponentInfo[], edges: Edge[]): Map<string, number> {
  const col = new Map(infos.map((c) => [c.id, 0]))
  for (let pass = 0; pass < infos.length; pass++) {
    let changed = false
    for (const e of edges) {
      const next = col.get(e.from)! + 1
      if (next > col.get(e.to)! && next < infos.length) {
        col.set(e.to, next)
        changed = true
      }
    }
    if (!changed) break
  }
  // Sinks with no outgoing edges line up in the last column.
  const max = Math.max(...col.values())
  for (const c of infos) if (c.kind === 'sink' && !edges.some((e) => e.from === c.id)) col.set(c.id, max)
  return col
}
