/** Rounds for output: ms to the µs (3), shares to 0.01 % (4). Non-finite becomes 0 so JSON stays valid. */
export function round(x: number, digits: number): number {
  if (!Number.isFinite(x)) return 0
  const f = 10 ** digits
  return Math.round(x * f) / f
}

export const ms = (ns: number) => round(ns / 1e6, 3)
export const share = (x: number) => round(x, 4)
