import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {coveredByChildren, selfTime, unionLength} from '../../src/analysis/self-time.js'

/** Children as [start, end] pairs, sorted by start, in the column form selfTime takes. */
function cols(children: [number, number][]) {
  const sorted = [...children].sort((a, b) => a[0] - b[0])
  return {
    order: sorted.map((_, i) => i),
    start: sorted.map((c) => c[0]),
    dur: sorted.map((c) => c[1] - c[0]),
  }
}

function self(start: number, dur: number, children: [number, number][]): number {
  const c = cols(children)
  return selfTime(start, dur, c.order, c.start, c.dur)
}

describe('self time (union of children, clipped to the parent)', {timeout: 10_000}, () => {
  it('is the whole duration without children', () => {
    assert.equal(self(0, 100, []), 100)
  })

  it('subtracts sequential children', () => {
    assert.equal(self(0, 100, [[10, 30], [40, 60]]), 60)
  })

  it('counts overlapping children once (the sum of durations would say 20)', () => {
    assert.equal(self(0, 100, [[10, 50], [30, 70]]), 40)
  })

  it('counts concurrent identical children once', () => {
    assert.equal(self(0, 100, [[10, 60], [10, 60], [10, 60]]), 50)
  })

  it('clips children that start before or end after the parent', () => {
    assert.equal(self(0, 100, [[-20, 30], [90, 150]]), 60)
  })

  it('ignores children entirely outside the parent', () => {
    assert.equal(self(0, 100, [[120, 150], [-50, -10]]), 100)
  })

  it('never goes negative when children cover more than the parent', () => {
    assert.equal(self(0, 100, [[-10, 200], [0, 100], [50, 150]]), 0)
  })

  it('handles a child nested inside another child interval', () => {
    assert.equal(self(0, 100, [[10, 90], [20, 30]]), 20)
  })

  it('matches a brute-force count of covered unit cells', () => {
    const interval = fc.tuple(fc.integer({min: -20, max: 120}), fc.integer({min: 0, max: 60})).map(([s, d]) => [s, s + d] as [number, number])
    fc.assert(
      fc.property(fc.integer({min: 0, max: 50}), fc.integer({min: 0, max: 80}), fc.array(interval, {maxLength: 12}), (ps, pd, children) => {
        const covered = new Set<number>()
        for (const [s, e] of children) for (let x = Math.max(s, ps); x < Math.min(e, ps + pd); x++) covered.add(x)
        assert.equal(self(ps, pd, children), pd - covered.size)
        const c = cols(children)
        assert.equal(coveredByChildren(ps, pd, c.order, c.start, c.dur), covered.size)
      }),
      {numRuns: 500, seed: 42},
    )
  })

  it('unionLength measures coverage of a window by iterations', () => {
    const starts = [0, 5, 20, 22]
    const ends = [10, 12, 25, 30]
    assert.equal(unionLength([0, 1, 2, 3], starts, ends, 0, 100), 12 + 10)
    assert.equal(unionLength([0, 1, 2, 3], starts, ends, 6, 24), 6 + 4)
  })
})
