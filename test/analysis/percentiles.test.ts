import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {percentileSorted, percentiles} from '../../src/analysis/percentiles.js'

describe('percentiles (nearest rank, exact)', {timeout: 10_000}, () => {
  it('gives the nearest-rank values of 1..100', () => {
    const v = Float64Array.from({length: 100}, (_, i) => 100 - i)
    assert.deepEqual(percentiles(v), {p50: 50, p95: 95, p99: 99})
  })

  it('handles one value and small arrays', () => {
    assert.deepEqual(percentiles(Float64Array.of(7)), {p50: 7, p95: 7, p99: 7})
    assert.deepEqual(percentiles(Float64Array.of(3, 1)), {p50: 1, p95: 3, p99: 3})
    assert.equal(percentileSorted([1, 2, 3, 4], 0.5), 2)
  })

  it('is NaN for no values', () => {
    assert.ok(Number.isNaN(percentileSorted([], 0.5)))
  })

  it('sorts numerically, not as strings', () => {
    assert.deepEqual(percentiles(Float64Array.of(10, 9, 100, 2)), {p50: 9, p95: 100, p99: 100})
  })

  it('returns members of the data, ordered p50 ≤ p95 ≤ p99, with at least q of the data at or below', () => {
    fc.assert(
      fc.property(fc.array(fc.double({min: 0, max: 1e9, noNaN: true}), {minLength: 1, maxLength: 300}), (values) => {
        const p = percentiles(Float64Array.from(values))
        for (const [q, x] of [[0.5, p.p50], [0.95, p.p95], [0.99, p.p99]] as const) {
          assert.ok(values.includes(x))
          assert.ok(values.filter((v) => v <= x).length >= q * values.length)
        }
        assert.ok(p.p50 <= p.p95 && p.p95 <= p.p99)
      }),
      {numRuns: 300, seed: 7},
    )
  })
})
