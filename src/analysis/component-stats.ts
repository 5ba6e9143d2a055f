import {IDLE_STAGES, STAGES, isBlockedOnDownstream, type ComponentKind} from '../protocol/tracing-control.js'
import {percentiles} from './percentiles.js'
import {ms, round, share} from './round.js'
import {unionLength} from './self-time.js'
import {Level, type SpanTable} from './span-table.js'
import type {SpanTree} from './span-tree.js'
import type {ComponentStats, StageStats, TimelineIteration} from './types.js'
import type {AnalysisWindow} from './window.js'
import type {SeenComponent} from './topology.js'

/** Iterations kept per component for the timeline; reports draw at most a few thousand marks. */
export const TIMELINE_MAX_ITERATIONS = 2_000
/** Most common error messages listed per component. */
export const TOP_ERRORS = 5

/** Sums for one (component, stage) or (component, stage, sub-stage). */
interface Bucket {
  component: number
  label: number
  /** -1 for stages, the stage bucket for sub-stages */
  parent: number
  count: number
  totalNs: number
  selfNs: number
  cpuNs: number
  cpuWallNs: number
  cpuCount: number
  errors: number
  durations: Float64Array
  filled: number
}

interface ComponentAcc {
  iterations: number
  wallNs: number
  untrackedNs: number
  errors: number
  messages: Map<number, number>
}

export interface ComponentAggregation {
  components: ComponentStats[]
  timeline: Record<string, TimelineIteration[]>
}

/**
 * Aggregates the span forest per component, stage and sub-stage in two
 * passes over the columns (sums and counts, then durations into one
 * Float64Array per bucket for exact percentiles). Spans deeper than
 * sub-stages add their self time to their sub-stage so that self times still
 * add up to the iteration time.
 */
export function aggregateComponents(
  t: SpanTable,
  tree: SpanTree,
  window: AnalysisWindow,
  kindOf: (componentIndex: number) => ComponentKind,
): ComponentAggregation {
  const n = t.length
  const labelCount = Math.max(1, t.labels.size)
  const buckets: Bucket[] = []
  const stageKey = new Map<number, number>()
  const subKey = new Map<number, number>()
  const bucketOf = new Int32Array(n).fill(-1)
  const acc: ComponentAcc[] = []
  const componentOf = (i: number): number => {
    const it = tree.iterationOf[i]
    return it >= 0 && t.component[it] >= 0 ? t.component[it] : t.component[i]
  }
  const bucketFor = (map: Map<number, number>, key: number, component: number, label: number, parent: number) => {
    let b = map.get(key)
    if (b === undefined) {
      b = buckets.length
      buckets.push({component, label, parent, count: 0, totalNs: 0, selfNs: 0, cpuNs: 0, cpuWallNs: 0, cpuCount: 0, errors: 0, durations: new Float64Array(0), filled: 0})
      map.set(key, b)
    }
    return b
  }

  // Pass 1: sums and bucket per span.
  const iterationsByComponent: number[][] = []
  for (let i = 0; i < n; i++) {
    const d = tree.depth[i]
    if (d > 250) continue
    const c = componentOf(i)
    if (c < 0) continue
    const a = (acc[c] ??= {iterations: 0, wallNs: 0, untrackedNs: 0, errors: 0, messages: new Map()})
    if (t.error[i]) {
      a.errors++
      const m = t.errorMessage[i]
      if (m >= 0) a.messages.set(m, (a.messages.get(m) ?? 0) + 1)
    }
    if (d === 0) {
      a.iterations++
      a.wallNs += t.dur[i]
      a.untrackedNs += tree.self[i]
      ;(iterationsByComponent[c] ??= []).push(i)
      continue
    }
    let b: number
    if (d === 1) {
      b = bucketFor(stageKey, c * labelCount + t.label[i], c, t.label[i], -1)
    } else if (d === 2) {
      const stage = tree.stageOf[i]
      const sb = bucketFor(stageKey, c * labelCount + t.label[stage], c, t.label[stage], -1)
      b = bucketFor(subKey, sb * labelCount + t.label[i], c, t.label[i], sb)
    } else {
      const sub = tree.substageOf[i]
      const sb = sub >= 0 ? bucketOf[sub] : -1
      if (sb >= 0) buckets[sb].selfNs += tree.self[i]
      continue
    }
    bucketOf[i] = b
    const k = buckets[b]
    k.count++
    k.totalNs += t.dur[i]
    k.selfNs += tree.self[i]
    if (t.error[i]) k.errors++
    const cpu = t.cpu[i]
    if (cpu === cpu) {
      k.cpuNs += cpu
      k.cpuWallNs += t.dur[i]
      k.cpuCount++
    }
  }

  // Pass 2: durations for percentiles.
  for (const k of buckets) k.durations = new Float64Array(k.count)
  for (let i = 0; i < n; i++) {
    const b = bucketOf[i]
    if (b < 0) continue
    const k = buckets[b]
    k.durations[k.filled++] = t.dur[i]
  }

  const stagesOf: number[][] = []
  const substagesOf: number[][] = []
  buckets.forEach((k, idx) => {
    if (k.parent === -1) (stagesOf[k.component] ??= []).push(idx)
    else (substagesOf[k.parent] ??= []).push(idx)
  })
  const ends = new Float64Array(n)
  for (let i = 0; i < n; i++) ends[i] = t.start[i] + t.dur[i]

  const stats: ComponentStats[] = []
  const timeline: Record<string, TimelineIteration[]> = {}
  const windowNs = window.durationNs
  for (let c = 0; c < acc.length; c++) {
    const a = acc[c]
    if (!a) continue
    const id = t.components.values[c]
    const kind = kindOf(c)
    const stages = orderStages(
      (stagesOf[c] ?? []).map((sb) => {
        const subs = (substagesOf[sb] ?? []).map((b) => toStageStats(buckets[b], t.labels.values[buckets[b].label], a.wallNs, []))
        return toStageStats(buckets[sb], t.labels.values[buckets[sb].label], a.wallNs, subs)
      }),
      kind,
    )
    let idleNs = 0
    let blockedNs = 0
    for (const s of stages) {
      if (IDLE_STAGES.has(s.name)) idleNs += s.total_ms * 1e6
      else if (isBlockedOnDownstream(kind, s.name)) blockedNs += s.total_ms * 1e6
    }
    const busyNs = Math.max(0, a.wallNs - idleNs)
    const iters = iterationsByComponent[c] ?? []
    const order = Int32Array.from(iters).sort((x, y) => t.start[x] - t.start[y])
    const covered = windowNs > 0 ? unionLength(order, t.start, ends, window.startNs, window.endNs) : 0
    stats.push({
      id,
      kind,
      type: t.componentType[c] ?? 'unknown',
      iterations: a.iterations,
      wall_ms: ms(a.wallNs),
      busy_ms: ms(busyNs),
      idle_ms: ms(Math.min(idleNs, a.wallNs)),
      blocked_ms: ms(Math.min(blockedNs, busyNs)),
      busy_share: windowNs > 0 ? share(Math.min(1, busyNs / windowNs)) : 0,
      coverage: windowNs > 0 ? share(Math.min(1, covered / windowNs)) : 0,
      untracked_ms: ms(a.untrackedNs),
      untracked_share: a.wallNs > 0 ? share(a.untrackedNs / a.wallNs) : 0,
      errors: a.errors,
      top_errors: [...a.messages.entries()]
        .sort((x, y) => y[1] - x[1])
        .slice(0, TOP_ERRORS)
        .map(([m, count]) => ({message: t.errorMessages.values[m], count})),
      stages,
    })
    timeline[id] = buildTimeline(t, tree, order, window, t.labels.values)
  }
  return {components: stats, timeline}
}

function toStageStats(k: Bucket, name: string, componentWallNs: number, substages: StageStats[]): StageStats {
  const p = percentiles(k.durations)
  const s: StageStats = {
    name,
    count: k.count,
    self_ms: ms(k.selfNs),
    total_ms: ms(k.totalNs),
    share: componentWallNs > 0 ? share(k.selfNs / componentWallNs) : 0,
    total_share: componentWallNs > 0 ? share(k.totalNs / componentWallNs) : 0,
    p50_ms: ms(p.p50),
    p95_ms: ms(p.p95),
    p99_ms: ms(p.p99),
    errors: k.errors,
    substages: substages.sort((a, b) => b.total_ms - a.total_ms || a.name.localeCompare(b.name)),
  }
  if (k.cpuCount > 0) {
    s.cpu_ms = ms(k.cpuNs)
    s.off_cpu_ms = ms(Math.max(0, k.cpuWallNs - k.cpuNs))
    s.cpu_coverage = share(k.cpuCount / k.count)
  }
  // Free the durations now: only the percentiles are kept.
  k.durations = new Float64Array(0)
  return s
}

/** The protocol's vocabulary order for the kind first (the order work happens), then others by time. */
function orderStages(stages: StageStats[], kind: ComponentKind): StageStats[] {
  const vocab = STAGES[kind]
  const rank = (name: string) => {
    const r = vocab.indexOf(name)
    return r === -1 ? vocab.length : r
  }
  return stages.sort((a, b) => rank(a.name) - rank(b.name) || b.total_ms - a.total_ms || a.name.localeCompare(b.name))
}

/** A strided sample of iterations (the first, then every k-th) with each one's dominant stage. */
function buildTimeline(t: SpanTable, tree: SpanTree, order: Int32Array, window: AnalysisWindow, labels: string[]): TimelineIteration[] {
  const stride = Math.max(1, Math.ceil(order.length / TIMELINE_MAX_ITERATIONS))
  const out: TimelineIteration[] = []
  for (let x = 0; x < order.length; x += stride) {
    const it = order[x]
    let dominant = 'untracked'
    let best = tree.self[it]
    let error = t.error[it] === 1
    for (let k = tree.childOffset[it]; k < tree.childOffset[it + 1]; k++) {
      const ch = tree.childList[k]
      if (t.error[ch]) error = true
      if (t.level[ch] !== Level.iteration && t.dur[ch] > best) {
        best = t.dur[ch]
        dominant = labels[t.label[ch]]
      }
    }
    out.push({t_ms: round((t.start[it] - window.startNs) / 1e6, 3), dur_ms: ms(t.dur[it]), dominant, error})
  }
  return out
}

/** Components as the spans describe them (kind/type meta, stage names), for topology and kind inference. */
export function seenComponents(t: SpanTable, tree: SpanTree): SeenComponent[] {
  const stages: Set<number>[] = []
  for (let i = 0; i < t.length; i++) {
    if (tree.depth[i] !== 1) continue
    const it = tree.iterationOf[i]
    const c = t.component[it] >= 0 ? t.component[it] : t.component[i]
    if (c >= 0) (stages[c] ??= new Set()).add(t.label[i])
  }
  const out: SeenComponent[] = []
  for (let c = 0; c < t.components.size; c++) {
    out.push({
      id: t.components.values[c],
      kind: t.componentKind[c],
      type: t.componentType[c],
      stages: [...(stages[c] ?? [])].map((l) => t.labels.values[l]),
    })
  }
  return out
}
