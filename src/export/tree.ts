/**
 * Span trees of one trace group: parent links, the component each span
 * belongs to, self time, and lanes in which slices strictly nest.
 */
import type {SpanRecord} from '../bundle/format.js'
import {SPAN} from '../protocol/tracing-control.js'
import {unionWithin} from '../analysis/self-time.js'

export interface SpanNode {
  span: SpanRecord
  /** ns relative to the export's t0 */
  start: number
  end: number
  parent: SpanNode | null
  children: SpanNode[]
  depth: number
  component: string
}

/**
 * Builds the forest of a trace group. A span whose parent is absent from the
 * group becomes a root; cycles (hostile input) are broken the same way.
 * Nodes come back in depth-first order, parents before children.
 */
export function buildForest(spans: SpanRecord[], t0: bigint): SpanNode[] {
  const nodes = spans.map((span): SpanNode => {
    const start = Number(BigInt(span.start) - t0)
    return {span, start, end: start + Number(span.duration), parent: null, children: [], depth: 0, component: ''}
  })
  const byId = new Map<string, SpanNode>()
  for (const node of nodes) if (!byId.has(node.span.span_id)) byId.set(node.span.span_id, node)
  for (const node of nodes) {
    const parent = node.span.parent_id === '0' ? undefined : byId.get(node.span.parent_id)
    if (parent !== undefined && parent !== node) {
      node.parent = parent
      parent.children.push(node)
    }
  }
  const ordered: SpanNode[] = []
  const visited = new Set<SpanNode>()
  const walk = (root: SpanNode): void => {
    root.parent = null
    const stack: SpanNode[] = [root]
    while (stack.length > 0) {
      const node = stack.pop()!
      if (visited.has(node)) continue
      visited.add(node)
      node.children = node.children.filter((c) => !visited.has(c))
      node.depth = node.parent === null ? 0 : node.parent.depth + 1
      node.component = componentOf(node)
      ordered.push(node)
      for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i])
    }
  }
  for (const node of nodes) if (node.parent === null) walk(node)
  // Whatever is left sits on a parent cycle: detach it from its parent.
  for (const node of nodes) {
    if (visited.has(node)) continue
    if (node.parent !== null) node.parent.children = node.parent.children.filter((c) => c !== node)
    walk(node)
  }
  return ordered
}

/** Stage and sub-stage spans inherit the component of their iteration. */
function componentOf(node: SpanNode): string {
  const own = node.span.meta[SPAN.meta.componentId]
  if (own) return own
  if (node.parent !== null) return node.parent.component
  if (node.span.name === SPAN.iteration && node.span.resource) return node.span.resource
  return node.span.service || 'unknown'
}

export function isIteration(node: SpanNode): boolean {
  return node.span.name === SPAN.iteration
}

/** What a span measures: the sub-stage, else the stage, else its name. */
export function frameName(node: SpanNode): string {
  const meta = node.span.meta
  return meta[SPAN.meta.substage] || meta[SPAN.meta.stage] || node.span.name || 'span'
}

/**
 * Self time: wall time minus the union of the children's intervals clipped
 * to the span (Jaeger's compute-span-self-time). Concurrent children are not
 * double-counted, so it never goes negative.
 */
export function selfTimeNs(node: SpanNode): number {
  const wall = node.end - node.start
  if (node.children.length === 0) return wall
  const kids = [...node.children].sort((a, b) => a.start - b.start)
  return Math.max(0, wall - unionWithin(kids.length, (k) => kids[k].start, (k) => kids[k].end, node.start, node.end))
}

/**
 * Assigns each node a lane so that the slices of one lane strictly nest
 * (a slice lies inside the one below it, or after it). Greedy over lanes:
 * parents come first (earlier start, then longer, then shallower), so a
 * child lands in its parent's lane unless it overlaps a sibling.
 * Returns the lane count; lanes are written to `lanes` by node index.
 */
export function layoutLanes(nodes: SpanNode[]): {lanes: number[]; count: number; ends: number[]} {
  const order = nodes.map((_, i) => i)
  order.sort((a, b) => nodes[a].start - nodes[b].start || nodes[b].end - nodes[a].end || nodes[a].depth - nodes[b].depth)
  const stacks: number[][] = []
  const ends: number[] = []
  const lanes = new Array<number>(nodes.length).fill(0)
  for (const i of order) {
    const node = nodes[i]
    let lane = 0
    for (; lane < stacks.length; lane++) {
      const stack = stacks[lane]
      while (stack.length > 0 && stack[stack.length - 1] <= node.start) stack.pop()
      if (stack.length === 0 || stack[stack.length - 1] >= node.end) break
    }
    if (lane === stacks.length) {
      stacks.push([])
      ends.push(-Infinity)
    }
    stacks[lane].push(node.end)
    ends[lane] = Math.max(ends[lane], node.end)
    lanes[i] = lane
  }
  return {lanes, count: stacks.length, ends}
}
