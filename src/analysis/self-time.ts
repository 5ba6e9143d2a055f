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
  return unionWithin(children.length, (k) => childStart[children[k]], (k) => childStart[children[k]] + childDur[children[k]], start, start + dur)
}

/** Length of the union of intervals [starts[i], ends[i]) clipped to [lo, hi]; `order` sorts them by start. */
export function unionLength(order: ArrayLike<number>, starts: ArrayLike<number>, ends: ArrayLike<number>, lo: number, hi: number): number {
  return unionWithin(order.length, (k) => starts[order[k]], (k) => ends[order[k]], lo, hi)
}

/**
 * The one sweep behind every self-time figure (analysis and exports): the
 * length of the union of `count` intervals, given in start order, clipped to
 * [lo, hi].
 */
export function unionWithin(count: number, startOf: (k: number) => number, endOf: (k: number) => number, lo: number, hi: number): number {
  let total = 0
  let runStart = 0
  let runEnd = Number.NEGATIVE_INFINITY
  for (let k = 0; k < count; k++) {
    const s = Math.max(startOf(k), lo)
    const e = Math.min(endOf(k), hi)
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
