import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {SpanTable} from '../../src/analysis/span-table.js'
import {buildSpanTree, UNATTRIBUTED} from '../../src/analysis/span-tree.js'
import type {SpanRecord} from '../../src/bundle/format.js'
import {SOURCE, iteration, shuffled, span} from './fixtures.js'

function tableOf(spans: SpanRecord[]): SpanTable {
  const t = new SpanTable()
  for (const s of spans) t.add(JSON.parse(JSON.stringify(s)))
  return t
}

/** Per span id: [depth, iteration span id, self ns] — independent of arrival order. */
function shape(spans: SpanRecord[]) {
  const t = tableOf(spans)
  const tree = buildSpanTree(t)
  const out = new Map<string, [number, string | null, number]>()
  for (let i = 0; i < t.length; i++) {
    const it = tree.iterationOf[i]
    out.set(spans[i].span_id, [tree.depth[i], it >= 0 ? spans[it].span_id : null, tree.self[i]])
  }
  return {out, tree, t}
}

describe('span trees', {timeout: 10_000}, () => {
  const tree3 = iteration(SOURCE, 0, [
    {name: 'discover', dur: 50, sub: [{name: 'collect_paths', dur: 10}, {name: 'fingerprint', dur: 30}]},
    {name: 'read', dur: 20},
    {name: 'sleep', dur: 20},
  ], 10)

  it('places iteration, stages and sub-stages, with self times', () => {
    const {out, tree} = shape(tree3)
    const [iter, discover, collect, fingerprint, read, sleep] = tree3.map((s) => s.span_id)
    assert.deepEqual(out.get(iter), [0, iter, 10e6])
    assert.deepEqual(out.get(discover), [1, iter, 10e6])
    assert.deepEqual(out.get(collect), [2, iter, 10e6])
    assert.deepEqual(out.get(fingerprint), [2, iter, 30e6])
    assert.deepEqual(out.get(read), [1, iter, 20e6])
    assert.deepEqual(out.get(sleep), [1, iter, 20e6])
    assert.equal(tree.missingParent, 0)
    assert.equal(tree.unattributed, 0)
  })

  it('rebuilds the same trees whatever order and chunks the spans arrive in', () => {
    const many = [0, 1, 2, 3].flatMap((k) => iteration(SOURCE, k * 200, [{name: 'read', dur: 30, sub: [{name: 'a', dur: 10}]}, {name: 'send', dur: 40}], 5))
    const expected = shape(many).out
    for (const seed of [1, 2, 3]) {
      // children first, iterations in a "later payload"
      const chunked = shuffled(many, seed).map((s) => ({...s, payload: s.name === 'iteration' ? 9 : 1}))
      chunked.sort((a, b) => a.payload - b.payload)
      const got = shape(chunked).out
      assert.deepEqual(new Map([...got].sort()), new Map([...expected].sort()))
    }
  })

  it('counts spans whose parent never arrived and leaves them out of every tree', () => {
    const [, ...stagesOnly] = tree3
    const {tree} = shape(stagesOnly)
    assert.equal(tree.missingParent, 3) // discover, read, sleep name the missing iteration
    assert.equal(tree.unattributed, stagesOnly.length) // and the sub-stages under discover go with them
    assert.ok([...tree.depth].every((d) => d === UNATTRIBUTED))
  })

  it('survives a parent cycle in hostile input', () => {
    const a = span({trace: '77', id: '1', parent: '2', name: 'read', start: 0, dur: 1, meta: {stage: 'read'}})
    const b = span({trace: '77', id: '2', parent: '1', name: 'send', start: 0, dur: 1, meta: {stage: 'send'}})
    const {tree} = shape([a, b])
    assert.equal(tree.unattributed, 2)
  })

  it('resolves parents in a large trace (sorted lookup) exactly like a small one', () => {
    const stages = Array.from({length: 60}, (_, k) => ({name: `s${k % 4}`, dur: 1}))
    const big = iteration(SOURCE, 0, stages)
    const {tree} = shape(shuffled(big, 5))
    assert.equal(tree.unattributed, 0)
    assert.equal(tree.missingParent, 0)
  })

  it('keeps 64-bit ids exact beyond 2^53', () => {
    const hi = '18446744073709551615'
    const hi2 = '18446744073709551614'
    const iter = span({trace: hi, id: hi, name: 'iteration', start: 0, dur: 10, meta: {component_id: 'c'}})
    const decoy = span({trace: hi, id: hi2, name: 'other', start: 0, dur: 10})
    const child = span({trace: hi, id: '9007199254740993', parent: hi, name: 'read', start: 0, dur: 4, meta: {stage: 'read'}})
    const {tree, t} = shape([decoy, iter, child])
    assert.equal(tree.parent[2], 1)
    assert.equal(t.traceCount, 1)
    assert.equal(t.traceIdString(0), hi)
  })

  it('keeps traces apart whose ids collide in the numeric key', () => {
    // high halves 8388608 and 0 with the same low half map to the same double key
    const mk = (trace: string) => [
      span({trace, id: '5', name: 'iteration', start: 0, dur: 10, meta: {component_id: trace}}),
      span({trace, id: '6', parent: '5', name: 'read', start: 0, dur: 10, meta: {stage: 'read'}}),
    ]
    const spans = [...mk('8388608000000001'), ...mk('1')]
    const {tree, t} = shape(spans)
    assert.equal(t.traceCount, 2)
    assert.equal(tree.parent[1], 0)
    assert.equal(tree.parent[3], 2)
  })

  it('treats an iteration under a foreign wrapper span as a tree top', () => {
    const wrapper = span({trace: '300', id: '300', name: 'tokio.task', start: 0, dur: 100})
    const iter = span({trace: '300', id: '301', parent: '300', name: 'iteration', start: 0, dur: 50, meta: {component_id: 'c'}})
    const st = span({trace: '300', id: '302', parent: '301', name: 'read', start: 0, dur: 50, meta: {stage: 'read'}})
    const {tree} = shape([wrapper, iter, st])
    assert.equal(tree.depth[1], 0)
    assert.equal(tree.depth[2], 1)
    assert.equal(tree.unattributed, 1) // the wrapper
  })

  it('rejects and counts records that are not spans', () => {
    const t = new SpanTable()
    t.add({trace_id: 'x', span_id: '1', start: '1', duration: '1'})
    t.add(null)
    t.add({trace_id: '1', span_id: '1', start: '1', duration: '-5'})
    t.add({trace_id: '1', span_id: '1', start: '12.5', duration: '5'})
    assert.equal(t.length, 0)
    assert.equal(t.malformed, 4)
  })
})
