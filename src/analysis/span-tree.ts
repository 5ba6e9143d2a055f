import {coveredByChildren} from './self-time.js'
import {Level, type SpanTable} from './span-table.js'

/** Traces up to this size find parents by linear scan; larger ones sort their ids once. */
const LINEAR_PARENT_SCAN = 32
/** Protocol trees are 3 levels deep; anything past this is a cycle or not ours. */
const MAX_DEPTH = 64
/** Children lists up to this length are insertion-sorted (the common case: a handful of stages). */
const INSERTION_SORT_MAX = 24

export const UNATTRIBUTED = 255

/**
 * The span forest rebuilt from the columns. Spans of one trace may arrive in
 * several payloads and in any order; grouping by trace id first makes that
 * irrelevant. Everything is index-based (typed arrays), nothing per span is an
 * object.
 */
export interface SpanTree {
  /** Parent span index, -1 for roots and for spans whose parent never arrived. */
  parent: Int32Array
  /** CSR children lists, each sorted by start: children of i are childList[childOffset[i] .. childOffset[i+1]). */
  childOffset: Int32Array
  childList: Int32Array
  /** Index of the iteration span at the top of this span's tree, -1 when none. */
  iterationOf: Int32Array
  /** 0 iteration, 1 stage, 2 sub-stage, ... ; UNATTRIBUTED when not under an iteration. */
  depth: Uint8Array
  /** The depth-1 ancestor-or-self (the stage), -1 above or outside. */
  stageOf: Int32Array
  /** The depth-2 ancestor-or-self (the sub-stage), -1 above or outside. */
  substageOf: Int32Array
  /** Wall time minus the union of children, ns. */
  self: Float64Array
  /** Spans naming a parent that is not in their trace. */
  missingParent: number
  /** Spans not under any iteration span (includes the subtrees of missing parents). */
  unattributed: number
}

export function buildSpanTree(t: SpanTable): SpanTree {
  const n = t.length
  const parent = resolveParents(t)
  const {childOffset, childList} = buildChildren(t, parent)
  let missingParent = 0
  for (let i = 0; i < n; i++) if (parent[i] === -1 && (t.parentHi[i] !== 0 || t.parentLo[i] !== 0)) missingParent++

  const {iterationOf, depth, stageOf, substageOf, unattributed} = assignDepths(t, parent)

  const self = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const a = childOffset[i]
    const b = childOffset[i + 1]
    self[i] = a === b ? t.dur[i] : Math.max(0, t.dur[i] - coveredByChildren(t.start[i], t.dur[i], childList.subarray(a, b), t.start, t.dur))
  }
  return {parent, childOffset, childList, iterationOf, depth, stageOf, substageOf, self, missingParent, unattributed}
}

/** Groups span indices by trace (counting sort) and finds each span's parent within its trace. */
function resolveParents(t: SpanTable): Int32Array {
  const n = t.length
  const parent = new Int32Array(n).fill(-1)
  const offset = new Int32Array(t.traceCount + 1)
  for (let i = 0; i < n; i++) offset[t.traceOf[i] + 1]++
  for (let k = 0; k < t.traceCount; k++) offset[k + 1] += offset[k]
  const fill = offset.slice(0, t.traceCount)
  const order = new Int32Array(n)
  for (let i = 0; i < n; i++) order[fill[t.traceOf[i]]++] = i

  const {idHi, idLo, parentHi, parentLo} = t
  const byId = (a: number, b: number) => idHi[a] - idHi[b] || idLo[a] - idLo[b]
  for (let k = 0; k < t.traceCount; k++) {
    const a = offset[k]
    const b = offset[k + 1]
    if (b - a <= LINEAR_PARENT_SCAN) {
      for (let x = a; x < b; x++) {
        const i = order[x]
        const ph = parentHi[i]
        const pl = parentLo[i]
        if (ph === 0 && pl === 0) continue
        for (let y = a; y < b; y++) {
          const j = order[y]
          if (idLo[j] === pl && idHi[j] === ph && j !== i) {
            parent[i] = j
            break
          }
        }
      }
      continue
    }
    const group = order.subarray(a, b).sort(byId)
    for (let x = 0; x < group.length; x++) {
      const i = group[x]
      const ph = parentHi[i]
      const pl = parentLo[i]
      if (ph === 0 && pl === 0) continue
      let lo = 0
      let hi = group.length - 1
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1
        const j = group[mid]
        const c = idHi[j] - ph || idLo[j] - pl
        if (c === 0) {
          if (j !== i) parent[i] = j
          break
        }
        if (c < 0) lo = mid + 1
        else hi = mid - 1
      }
    }
  }
  return parent
}

function buildChildren(t: SpanTable, parent: Int32Array): {childOffset: Int32Array; childList: Int32Array} {
  const n = t.length
  const childOffset = new Int32Array(n + 1)
  for (let i = 0; i < n; i++) if (parent[i] >= 0) childOffset[parent[i] + 1]++
  for (let i = 0; i < n; i++) childOffset[i + 1] += childOffset[i]
  const fill = childOffset.slice(0, n)
  const childList = new Int32Array(childOffset[n])
  for (let i = 0; i < n; i++) if (parent[i] >= 0) childList[fill[parent[i]]++] = i
  const start = t.start
  for (let i = 0; i < n; i++) {
    const a = childOffset[i]
    const b = childOffset[i + 1]
    if (b - a < 2) continue
    if (b - a > INSERTION_SORT_MAX) {
      childList.subarray(a, b).sort((x, y) => start[x] - start[y])
      continue
    }
    for (let x = a + 1; x < b; x++) {
      const v = childList[x]
      let y = x - 1
      while (y >= a && start[childList[y]] > start[v]) {
        childList[y + 1] = childList[y]
        y--
      }
      childList[y + 1] = v
    }
  }
  return {childOffset, childList}
}

const PENDING = 254
const MAX_PLACED_DEPTH = 253

/**
 * Places every span relative to its nearest iteration ancestor-or-self. An
 * iteration span is a tree top even when it has a parent (a wrapper span of
 * some other instrumentation); a parent chain longer than MAX_DEPTH is a
 * cycle in hostile input and stays unattributed.
 */
function assignDepths(t: SpanTable, parent: Int32Array) {
  const n = t.length
  const iterationOf = new Int32Array(n).fill(-1)
  const depth = new Uint8Array(n).fill(PENDING)
  const stageOf = new Int32Array(n).fill(-1)
  const substageOf = new Int32Array(n).fill(-1)
  const path: number[] = []
  for (let i = 0; i < n; i++) {
    if (depth[i] !== PENDING) continue
    path.length = 0
    let j = i
    let anchored = false
    // Walk up until a placed span, an iteration, or the top of the chain.
    while (true) {
      if (depth[j] !== PENDING) {
        anchored = true
        break
      }
      if (t.level[j] === Level.iteration) {
        depth[j] = 0
        iterationOf[j] = j
        anchored = true
        break
      }
      path.push(j)
      if (parent[j] === -1 || path.length > MAX_DEPTH) break
      j = parent[j]
    }
    if (!anchored) {
      for (const s of path) depth[s] = UNATTRIBUTED
      continue
    }
    // Place the walked spans top-down; each one's parent is placed by then.
    for (let k = path.length - 1; k >= 0; k--) {
      const s = path[k]
      const p = parent[s]
      const pd = depth[p]
      if (pd === UNATTRIBUTED) {
        depth[s] = UNATTRIBUTED
        continue
      }
      const d = Math.min(pd + 1, MAX_PLACED_DEPTH)
      depth[s] = d
      iterationOf[s] = iterationOf[p]
      stageOf[s] = d === 1 ? s : stageOf[p]
      substageOf[s] = d === 2 ? s : d > 2 ? substageOf[p] : -1
    }
  }
  let unattributed = 0
  for (let i = 0; i < n; i++) if (depth[i] === UNATTRIBUTED) unattributed++
  return {iterationOf, depth, stageOf, substageOf, unattributed}
}
