/**
 * Self time = a span's wall time minus the union of its children's intervals
 * clipped to the span (Jaeger's compute-span-self-time). Summing child
 * durations instead double-counts concurrent children and can go negative.
 *
 * `children` must be sorted by start. Times are in any one unit.
 */
export function selfTime(
  start: number,
  dur: number,
  children: ArrayLike<number>,
  childStart: ArrayLike<number>,
  childDur: ArrayLike<number>,
): number {
  return Math.max(0, dur - coveredByChildren(start, dur, children, childStart, childDur))
}

/** Length of the union of the children's intervals inside [start, start + dur]. */
export function coveredByChildren(
  start: number,
  dur: number,
  children: ArrayLike<number>,
  childStart: ArrayLike<number>,
  childDur: ArrayLike<number>,
): number {
  const end = start + dur
  let covered = 0
  let runStart = 0
  let runEnd = Number.NEGATIVE_INFINITY
  for (let k = 0; k < children.length; k++) {
    const c = children[k]
    const cs = Math.max(childStart[c], start)
    const ce = Math.min(childStart[c] + childDur[c], end)
    if (ce <= cs) continue
    if (cs > runEnd) {
      if (runEnd > runStart) covered += runEnd - runStart
      runStart = cs
      runEnd = ce
    } else if (ce > runEnd) {
      runEnd = ce
    }
  }
  if (runEnd > runStart) covered += runEnd - runStart
  return covered
}

/** Length of the union of intervals [starts[i], ends[i]) clipped to [lo, hi]; `order` sorts them by start. */
export function unionLength(order: ArrayLike<number>, starts: ArrayLike<number>, ends: ArrayLike<number>, lo: number, hi: number): number {
  let total = 0
  let runStart = 0
  let runEnd = Number.NEGATIVE_INFINITY
  for (let k = 0; k < order.length; k++) {
    const i = order[k]
    const s = Math.max(starts[i], lo)
    const e = Math.min(ends[i], hi)
    if (e <= s) continue
    if (s > runEnd) {
      if (runEnd > runStart) total += runEnd - runStart
      runStart = s
      runEnd = e
    } else if (e > runEnd) {
      runEnd = e
    }
  }
  if (runEnd > runStart) total += runEnd - runStart
  return total
}
