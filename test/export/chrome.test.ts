import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import fc from 'fast-check'
import {CHROME_FILE} from '../../src/export/index.js'
import {HIGH, HOSTILE_ID, SpanFactory, T0, manifestFor, standardSpans} from './fixtures.js'
import {assertNesting, exportLines} from './helpers.js'

interface Ev {
  ph: string
  name: string
  cat?: string
  ts: number
  dur: number
  pid: number
  tid: number
  tts?: number
  tdur?: number
  args: Record<string, any>
}

test('chrome export: Perfetto-loadable JSON, relative µs, nesting, metadata', {timeout: 30_000}, async () => {
  const {spans, highTrace} = standardSpans()
  const ex = await exportLines('chrome', spans)
  try {
    assert.equal(ex.result.spans, spans.length)
    assert.equal(ex.result.skipped, 0)
    const text = await readFile(ex.result.files[0], 'utf8')
    assert.ok(ex.result.files[0].endsWith(CHROME_FILE))
    assert.ok(text.startsWith('{"displayTimeUnit":"ns"'), 'displayTimeUnit must be the first key')
    const doc = JSON.parse(text) as {displayTimeUnit: string; traceEvents: Ev[]; otherData: Record<string, unknown>}
    assert.equal(Object.keys(doc)[0], 'displayTimeUnit')
    const xs = doc.traceEvents.filter((e) => e.ph === 'X')
    assert.equal(xs.length, spans.length, 'one X per span')
    for (const e of xs) {
      assert.equal(typeof e.ts, 'number')
      assert.equal(typeof e.dur, 'number')
      assert.ok(e.dur >= 0)
      assert.ok(Number.isInteger(e.pid) && Number.isInteger(e.tid))
      assert.ok(e.ts >= 0 && e.ts < 10_000_000, `ts ${e.ts} is relative to the window start, in µs`)
    }
    // Exact relative time, ns fraction kept: every span, looked up by its id.
    const bySpanId = new Map(xs.map((e) => [e.args.span_id as string, e]))
    for (const s of spans) {
      const e = bySpanId.get(BigInt(s.span_id).toString(16).padStart(16, '0'))
      assert.ok(e, `span ${s.span_id} exported`)
      assert.equal(Math.round(e.ts * 1000), Number(BigInt(s.start) - T0))
      assert.equal(Math.round(e.dur * 1000), Number(s.duration))
    }
    assertNesting(xs)
    // Every pid and tid used is named.
    const procNames = new Map(doc.traceEvents.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => [e.pid, e.args.name]))
    const threadNames = new Map(doc.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [`${e.pid}/${e.tid}`, e.args.name as string]))
    for (const e of xs) {
      assert.ok(procNames.has(e.pid), `pid ${e.pid} has a process_name`)
      assert.ok(threadNames.has(`${e.pid}/${e.tid}`), `tid ${e.tid} has a thread_name`)
    }
    assert.equal(procNames.get(1), 'vector @ host-1')
    const names = [...threadNames.values()]
    for (const c of ['in_file', 'parse', 'out_http', HOSTILE_ID]) assert.ok(names.includes(c), `track for ${c}`)
    // The overlapping encode/send pair forces a second sink lane.
    assert.ok(names.includes('out_http (lane 2)'), `extra lane for overlapping siblings, got ${names.join(' | ')}`)
    // Sequential iterations of one component share its main track.
    const mainSink = [...threadNames].find(([, n]) => n === 'out_http')![0]
    assert.ok(xs.filter((e) => `${e.pid}/${e.tid}` === mainSink && e.cat === 'iteration').length >= 4)
    // Ids, errors, CPU time.
    const highRoot = xs.find((e) => e.cat === 'iteration' && e.args.trace_id.endsWith(BigInt(highTrace).toString(16).padStart(16, '0')))!
    assert.equal(highRoot.args.trace_id, HIGH + BigInt(highTrace).toString(16).padStart(16, '0'))
    assert.equal(highRoot.args.parent_id, null)
    const failed = xs.filter((e) => e.args.error !== undefined)
    assert.ok(failed.some((e) => e.args.error === 'HTTP 503 from <b>upstream</b> "x"'))
    assert.ok(failed.every((e) => (e as unknown as {cname: string}).cname === 'terrible'))
    const cpu = xs.filter((e) => e.tdur !== undefined)
    assert.ok(cpu.length >= 4, 'process stages carry cpu_ns')
    for (const e of cpu) {
      assert.equal(e.tdur, Math.floor(Math.round(e.dur * 1000) / 3) / 1000)
      assert.equal(e.tts, e.ts)
    }
    // Stage and sub-stage slices are named by what they measure.
    assert.ok(xs.some((e) => e.name === 'fingerprint' && e.cat === 'substage'))
    assert.ok(xs.some((e) => e.name === 'process' && e.cat === 'stage'))
    assert.equal(doc.otherData.t0_unix_ns, T0.toString())
    assert.equal(doc.otherData.spans, spans.length)
  } finally {
    await ex.cleanup()
  }
})

test('chrome export: out-of-order and concurrent iterations of one component still nest', {timeout: 30_000}, async () => {
  const f = new SpanFactory()
  // Later iterations first, overlapping ones, and a child that outlives its parent.
  const starts = [900, 100, 500, 120, 130, 100, 2_000]
  starts.forEach((ms, i) => {
    f.iteration({component: 'sink', kind: 'sink', type: 'http', at: ms * 1_000_000, payload: i + 1, stages: [['encode', 3_000_000], ['send', 50_000_000]], overlapNs: i % 2 === 0 ? 1_000_000 : 0})
  })
  const rogue = f.spans.find((s) => s.name === 'send')!
  rogue.duration = String(Number(rogue.duration) + 900_000_000)
  const ex = await exportLines('chrome', f.spans)
  try {
    const doc = JSON.parse(await readFile(ex.result.files[0], 'utf8')) as {traceEvents: Ev[]}
    const xs = doc.traceEvents.filter((e) => e.ph === 'X')
    assert.equal(xs.length, f.spans.length)
    assert.ok(assertNesting(xs) > 1, 'concurrent iterations need more than one lane')
  } finally {
    await ex.cleanup()
  }
})

test('chrome export: without a window start, times count from the first span', {timeout: 30_000}, async () => {
  const {spans} = standardSpans()
  const ex = await exportLines('chrome', spans, manifestFor(spans.length, {start: null, end: null}))
  try {
    const doc = JSON.parse(await readFile(ex.result.files[0], 'utf8')) as {traceEvents: Ev[]; otherData: {t0_unix_ns: string}}
    assert.equal(doc.otherData.t0_unix_ns, spans[0].start)
    const first = doc.traceEvents.find((e) => e.ph === 'X' && e.args.span_id === BigInt(spans[0].span_id).toString(16).padStart(16, '0'))!
    assert.equal(first.ts, 0)
  } finally {
    await ex.cleanup()
  }
})

test('chrome export: an empty span file is still a valid trace', {timeout: 30_000}, async () => {
  const ex = await exportLines('chrome', [])
  try {
    const doc = JSON.parse(await readFile(ex.result.files[0], 'utf8')) as {traceEvents: Ev[]}
    assert.deepEqual(doc.traceEvents, [])
    assert.equal(ex.result.spans, 0)
  } finally {
    await ex.cleanup()
  }
})

test('chrome export: sub-millisecond clock jitter between iterations does not open a second lane', {timeout: 30_000}, async () => {
  const f = new SpanFactory()
  // Iteration wall time: 503 + 10_000_000 + GAP + 997 ns after `at`.
  const wall = 503 + 10_000_000 + SpanFactory.GAP_NS + 997
  const jitter = 400_000
  f.iteration({component: 'sink', kind: 'sink', type: 'http', at: 0, payload: 1, stages: [['send', 10_000_000]]})
  f.iteration({component: 'sink', kind: 'sink', type: 'http', at: wall - jitter, payload: 2, stages: [['send', 10_000_000]]})
  // A real overlap, far beyond clock jitter, still gets its own lane.
  f.iteration({component: 'sink', kind: 'sink', type: 'http', at: 2 * wall - 5_000_000, payload: 3, stages: [['send', 10_000_000]]})
  const ex = await exportLines('chrome', f.spans)
  try {
    const doc = JSON.parse(await readFile(ex.result.files[0], 'utf8')) as {traceEvents: Ev[]}
    const xs = doc.traceEvents.filter((e) => e.ph === 'X')
    assertNesting(xs)
    const roots = xs.filter((e) => e.cat === 'iteration').sort((a, b) => a.ts - b.ts)
    assert.equal(roots[0].tid, roots[1].tid, 'jittered iteration stays on the main track')
    assert.equal(roots[1].args.clock_shift_us, jitter / 1000)
    assert.equal(Math.round(roots[1].ts * 1000), wall, 'shifted to start where the previous one ended')
    assert.equal(Math.round(roots[1].dur * 1000), wall, 'duration untouched')
    const shiftedChildren = xs.filter((e) => e.args.trace_id === roots[1].args.trace_id)
    assert.ok(shiftedChildren.every((e) => e.args.clock_shift_us === jitter / 1000), 'the whole tree moves together')
    const third = roots.find((e) => e.args.clock_shift_us === undefined && e !== roots[0])!
    assert.notEqual(third.tid, roots[0].tid, 'a real overlap gets a second lane')
  } finally {
    await ex.cleanup()
  }
})

test('chrome export: any mix of iterations, overlaps and jitter yields strictly nesting tracks', {timeout: 120_000}, async () => {
  const iteration = fc.record({
    at: fc.integer({min: 0, max: 50_000_000}),
    stages: fc.array(fc.integer({min: 0, max: 5_000_000}), {minLength: 1, maxLength: 4}),
    overlap: fc.integer({min: 0, max: 2_000_000}),
    component: fc.constantFrom('a', 'b'),
  })
  await fc.assert(
    fc.asyncProperty(fc.array(iteration, {minLength: 1, maxLength: 25}), async (its) => {
      const f = new SpanFactory()
      its.forEach((it, i) => {
        const stages = it.stages.map((d, k): [string, number] => [`s${k}`, Math.max(d, it.overlap)])
        f.iteration({component: it.component, kind: 'sink', type: 'http', at: it.at, payload: i, stages, overlapNs: it.overlap})
      })
      const ex = await exportLines('chrome', f.spans)
      try {
        const doc = JSON.parse(await readFile(ex.result.files[0], 'utf8')) as {traceEvents: Ev[]}
        const xs = doc.traceEvents.filter((e) => e.ph === 'X')
        assert.equal(xs.length, f.spans.length)
        assertNesting(xs)
        for (const e of xs) assert.ok((e.args.clock_shift_us ?? 0) <= 1000)
      } finally {
        await ex.cleanup()
      }
    }),
    {numRuns: 40},
  )
})
