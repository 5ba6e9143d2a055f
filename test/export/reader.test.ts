import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import {ENTRY, type SpanRecord} from '../../src/bundle/format.js'
import {VdiagError} from '../../src/errors.js'
import {exportSpans} from '../../src/export/index.js'
import {TraceGrouper} from '../../src/export/trace-groups.js'
import {buildForest, layoutLanes, selfTimeNs} from '../../src/export/tree.js'
import {manifestFor, standardSpans, writeBundle} from './fixtures.js'
import {assertNesting, exportLines} from './helpers.js'

async function withTmp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vdiag-export-reader-'))
  try {
    return await fn(dir)
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

async function rejectsWith(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof VdiagError, `a VdiagError, got ${String(e)}`)
    assert.equal(e.code, code)
    assert.match(e.message, pattern)
    return true
  })
}

test('export: a truncated span file fails cleanly and leaves no output behind', {timeout: 30_000}, async () => {
  await withTmp(async (tmp) => {
    const {spans} = standardSpans()
    const many = Array.from({length: 40}, () => spans).flat()
    const manifest = manifestFor(many.length)
    const root = await writeBundle(many, manifest, tmp)
    const file = path.join(root, ENTRY.spans)
    const gz = await readFile(file)
    await writeFile(file, gz.subarray(0, Math.floor(gz.length / 2)))
    const out = path.join(tmp, 'out')
    for (const format of ['chrome', 'otlp', 'jaeger', 'folded'] as const) {
      await rejectsWith(exportSpans({root, manifest}, format, out), 'bundle_corrupt', /truncated or not gzip/)
    }
    assert.deepEqual(await readdir(out), [], 'no partial or final file left')
  })
})

test('export: an unparsable line names its line number; a missing span file says there is nothing to export', {timeout: 30_000}, async () => {
  await withTmp(async (tmp) => {
    const {spans} = standardSpans()
    const manifest = manifestFor(3)
    const root = await writeBundle([spans[0], '{not json', spans[1]], manifest, tmp)
    await rejectsWith(exportSpans({root, manifest}, 'otlp', path.join(tmp, 'out')), 'bundle_corrupt', /line 2 is not valid JSON/)
    await rm(path.join(root, ENTRY.spans))
    await rejectsWith(exportSpans({root, manifest}, 'chrome', path.join(tmp, 'out')), 'failed', /no span file/)
    await assert.rejects(exportSpans({root, manifest}, 'svg' as never, path.join(tmp, 'out')), (e: unknown) => e instanceof VdiagError && e.code === 'usage')
  })
})

test('export: an output path that is a file fails as output_unwritable', {timeout: 30_000}, async () => {
  await withTmp(async (tmp) => {
    const {spans} = standardSpans()
    const manifest = manifestFor(spans.length)
    const root = await writeBundle(spans, manifest, tmp)
    const blocker = path.join(tmp, 'file')
    await writeFile(blocker, 'x')
    await rejectsWith(exportSpans({root, manifest}, 'folded', blocker), 'output_unwritable', /output directory/)
  })
})

test('export: malformed spans are skipped and counted, the rest exported', {timeout: 30_000}, async () => {
  const {spans} = standardSpans()
  const good = spans.slice(0, 5)
  const bad = [
    {...good[0], span_id: '18446744073709551616'},
    {...good[0], trace_id: '-1'},
    {...good[0], start: '1.5e18'},
    {...good[0], duration: '99999999999999999999'},
    {...good[0], parent_id: undefined},
    [1, 2, 3],
    'null',
  ]
  const ex = await exportLines('chrome', [...good, ...bad])
  try {
    assert.equal(ex.result.spans, good.length)
    assert.equal(ex.result.skipped, bad.length)
    const doc = JSON.parse(await readFile(ex.result.files[0], 'utf8'))
    assert.equal(doc.traceEvents.filter((e: {ph: string}) => e.ph === 'X').length, good.length)
  } finally {
    await ex.cleanup()
  }
})

const spanArb = fc.record({
  trace: fc.integer({min: 1, max: 6}),
  span: fc.integer({min: 1, max: 40}),
  parent: fc.integer({min: 0, max: 40}),
  start: fc.integer({min: 0, max: 1000}),
  dur: fc.integer({min: 0, max: 500}),
  payload: fc.integer({min: 0, max: 5}),
})

function toRecords(raw: {trace: number; span: number; parent: number; start: number; dur: number; payload: number}[]): SpanRecord[] {
  return raw.map((r) => ({
    trace_id: String(r.trace), span_id: String(r.span), parent_id: String(r.parent), service: 'svc', name: 'x', resource: 'x',
    start: String(r.start), duration: String(r.dur), error: 0, meta: {component_id: 'c'}, metrics: {}, payload: r.payload,
  }))
}

test('trace grouping: every span released exactly once, in groups of one trace, within the bound', {timeout: 60_000}, async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(spanArb, {maxLength: 200}), fc.integer({min: 1, max: 30}), async (raw, bound) => {
      const spans = toRecords(raw).sort((a, b) => a.payload - b.payload)
      const released: SpanRecord[] = []
      let pendingMax = 0
      const grouper = new TraceGrouper(async (group) => {
        assert.equal(new Set(group.map((s) => s.trace_id)).size, 1)
        released.push(...group)
      }, {maxPendingSpans: bound, maxTraceSpans: bound})
      for (const s of spans) {
        await grouper.add(s)
        pendingMax = Math.max(pendingMax, spans.indexOf(s) + 1 - released.length)
      }
      await grouper.finish()
      assert.equal(released.length, spans.length)
      assert.deepEqual(new Set(released), new Set(spans))
      assert.ok(pendingMax <= bound, `held ${pendingMax} spans, bound ${bound}`)
    }),
    {numRuns: 200},
  )
})

test('span trees: lanes always nest and self time matches a brute-force count', {timeout: 60_000}, async () => {
  fc.assert(
    fc.property(fc.array(spanArb, {maxLength: 60}), (raw) => {
      const spans = toRecords(raw.map((r) => ({...r, trace: 1})))
      const nodes = buildForest(spans, 0n)
      assert.equal(nodes.length, spans.length, 'cycles and orphans keep every span')
      const layout = layoutLanes(nodes)
      assertNesting(nodes.map((n, i) => ({ph: 'X', ts: n.start / 1000, dur: (n.end - n.start) / 1000, pid: 1, tid: layout.lanes[i]})))
      for (const node of nodes) {
        let self = 0
        for (let t = node.start; t < node.end; t++) {
          if (!node.children.some((c) => c.start <= t && t < c.end)) self++
        }
        assert.equal(selfTimeNs(node), self)
      }
    }),
    {numRuns: 300},
  )
})
