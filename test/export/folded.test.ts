import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import type {SpanRecord} from '../../src/bundle/format.js'
import {FOLDED_FILE} from '../../src/export/index.js'
import {HOSTILE_ID, standardSpans} from './fixtures.js'
import {exportLines} from './helpers.js'

/** Self time by a different method than the exporter's: a sweep over child boundaries. */
function selfTimes(spans: SpanRecord[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const span of spans) {
    const s = BigInt(span.start)
    const e = s + BigInt(span.duration)
    const points: [bigint, number][] = []
    for (const c of spans) {
      if (c.trace_id !== span.trace_id || c.parent_id !== span.span_id) continue
      const cs = BigInt(c.start) > s ? BigInt(c.start) : s
      const ce0 = BigInt(c.start) + BigInt(c.duration)
      const ce = ce0 < e ? ce0 : e
      if (ce > cs) points.push([cs, 1], [ce, -1])
    }
    points.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]))
    let depth = 0
    let covered = 0n
    let last = 0n
    for (const [t, d] of points) {
      if (depth > 0) covered += t - last
      depth += d
      last = t
    }
    out.set(span.span_id, Number(BigInt(span.duration) - covered))
  }
  return out
}

test('folded export: one line per stack, weights are self ns summing to the total', {timeout: 30_000}, async () => {
  const {spans} = standardSpans()
  const ex = await exportLines('folded', spans)
  try {
    assert.ok(ex.result.files[0].endsWith(FOLDED_FILE))
    const text = await readFile(ex.result.files[0], 'utf8')
    const lines = text.trimEnd().split('\n')
    const weights = new Map<string, number>()
    for (const line of lines) {
      const m = /^(.*) (\d+)$/.exec(line)
      assert.ok(m, `line matches the folded format: ${JSON.stringify(line)}`)
      assert.ok(!weights.has(m[1]), `stack ${m[1]} appears once`)
      weights.set(m[1], Number(m[2]))
    }
    const self = selfTimes(spans)
    const total = [...self.values()].reduce((a, b) => a + b, 0)
    assert.equal([...weights.values()].reduce((a, b) => a + b, 0), total)
    // Four discover stages, each with a 1_200_017 ns fingerprint sub-stage.
    assert.equal(weights.get('in_file;discover;fingerprint'), 4 * 1_200_017)
    assert.equal(weights.get('in_file;discover;collect_paths'), 4 * 500_001)
    // discover's own time: wall minus its sub-stages (7 + 3 ns gaps and the tail).
    assert.equal(weights.get('in_file;discover'), 4 * (2_000_333 - 500_001 - 1_200_017))
    const sinkSends = spans.filter((s) => s.meta.component_id === 'out_http' && s.name === 'send')
    assert.equal(weights.get('out_http;send'), sinkSends.reduce((a, s) => a + self.get(s.span_id)!, 0))
    // The iteration's own (untracked) time sits on the bare component frame.
    assert.ok((weights.get('parse') ?? 0) > 0)
    // Frame separators and newlines inside names cannot break the format.
    assert.ok(weights.has(`${HOSTILE_ID};bad_stage_name`))
    for (const stack of weights.keys()) assert.ok(stack.split(';').every((f) => f.length > 0))
  } finally {
    await ex.cleanup()
  }
})
