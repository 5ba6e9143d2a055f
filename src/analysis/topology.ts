import type {ComponentInfo, Edge, PipelineFacts} from '../bundle/format.js'
import {COMPONENT_KINDS, STAGES, type ComponentKind} from '../protocol/tracing-control.js'
import type {ConfigTopology} from './collected-files.js'

export interface Topology {
  components: ComponentInfo[]
  edges: Edge[]
  /** True when the edges were guessed from component kinds (the bundle had none). */
  inferred: boolean
  /** Where the edges came from. */
  edges_source: 'graphql' | 'config' | 'kinds' | 'none'
  /** Component ids from upstream to downstream. */
  order: string[]
  /** Longest path from a source, per component: larger is further downstream. */
  depth: Record<string, number>
}

const KIND_RANK: Record<ComponentKind, number> = {source: 0, transform: 1, sink: 2}

/** A component seen only in spans: what its iteration spans said about it. */
export interface SeenComponent {
  id: string
  kind?: string
  type?: string
  stages: string[]
}

/**
 * Topology from the pipeline facts; without edges (the gRPC API gives none)
 * from the config files' `inputs` (capture copies them into the facts; an
 * older or hand-made bundle may only have config/index.json); else sources
 * feed transforms feed sinks, which is the best order the kinds allow and is
 * flagged as inferred so reports can say so.
 */
export function buildTopology(facts: PipelineFacts | null, seen: SeenComponent[], config: ConfigTopology | null = null): Topology {
  const components: ComponentInfo[] = Array.isArray(facts?.components) ? facts.components.map((c) => ({...c})) : []
  // The config names components only when the API listed none: a stale file must not add components that are not running.
  if (components.length === 0 && config) {
    for (const c of config.components) components.push({id: c.id, kind: c.kind, type: c.type ?? 'unknown', outputs: []})
  }
  const known = new Set(components.map((c) => c.id))
  for (const s of seen) {
    if (known.has(s.id)) continue
    known.add(s.id)
    components.push({id: s.id, kind: kindFrom(s), type: s.type ?? 'unknown', outputs: []})
  }
  components.sort((a, b) => KIND_RANK[a.kind] - KIND_RANK[b.kind] || a.id.localeCompare(b.id))

  const usable = (list: Edge[] | null | undefined): Edge[] =>
    Array.isArray(list) ? list.filter((e) => e && known.has(e.from) && known.has(e.to)) : []
  const given = usable(facts?.edges)
  const fromConfig = usable(config?.edges)
  let edges: Edge[]
  let inferred = false
  let edgesSource: Topology['edges_source']
  if (given.length > 0) {
    edges = given
    edgesSource = facts?.edges_source === 'config' ? 'config' : 'graphql'
  } else if (fromConfig.length > 0) {
    edges = fromConfig
    edgesSource = 'config'
  } else if (components.length > 1) {
    edges = inferEdges(components)
    inferred = true
    edgesSource = 'kinds'
  } else {
    edges = []
    edgesSource = 'none'
  }
  const depth = longestPathDepth(components, edges)
  const order = components.map((c) => c.id).sort((a, b) => depth[a] - depth[b] || a.localeCompare(b))
  return {components, edges, inferred, edges_source: edgesSource, order, depth}
}

function inferEdges(components: ComponentInfo[]): Edge[] {
  const byKind = (k: ComponentKind) => components.filter((c) => c.kind === k).map((c) => c.id)
  const sources = byKind('source')
  const transforms = byKind('transform')
  const sinks = byKind('sink')
  const edges: Edge[] = []
  const link = (from: string[], to: string[]) => {
    for (const f of from) for (const t of to) edges.push({from: f, to: t})
  }
  if (transforms.length > 0) {
    link(sources, transforms)
    link(transforms, sinks)
  } else {
    link(sources, sinks)
  }
  return edges
}

/**
 * Longest path from any component without inputs. A cycle (impossible in a
 * valid config, possible in hostile facts) is cut by bounding the relaxation
 * rounds; a component with no edges at all sits at its kind's rank.
 */
function longestPathDepth(components: ComponentInfo[], edges: Edge[]): Record<string, number> {
  const depth: Record<string, number> = {}
  const linked = new Set<string>()
  for (const e of edges) {
    linked.add(e.from)
    linked.add(e.to)
  }
  for (const c of components) depth[c.id] = linked.has(c.id) ? 0 : KIND_RANK[c.kind]
  for (let round = 0; round < components.length; round++) {
    let changed = false
    for (const e of edges) {
      if (depth[e.to] < depth[e.from] + 1) {
        depth[e.to] = depth[e.from] + 1
        changed = true
      }
    }
    if (!changed) break
  }
  return depth
}

/** Kind from the iteration spans' meta, else from the stage vocabulary it used. */
export function kindFrom(s: SeenComponent): ComponentKind {
  if (s.kind && (COMPONENT_KINDS as readonly string[]).includes(s.kind)) return s.kind as ComponentKind
  let best: ComponentKind = 'transform'
  let bestScore = 0
  for (const kind of COMPONENT_KINDS) {
    const vocab = STAGES[kind]
    const score = s.stages.filter((st) => vocab.includes(st) && !['send', 'wait'].includes(st)).length
    if (score > bestScore) {
      best = kind
      bestScore = score
    }
  }
  return best
}
