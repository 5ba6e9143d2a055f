/**
 * The /tracing window against a real demo process and a real intake: span
 * hierarchy and tags, nothing outside the window, expiry on its own, DELETE
 * and the final counts, debug sub-stages, component filter, v0.5.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {SPAN, STAGES, type ComponentKind, type TracingWindow} from '../../src/protocol/tracing-control.js'
import {spawnDemo, type SpawnedDemo} from '../../src/demo/spawn.js'
import {call, checkCpuNs, openWindow, sleep, status, waitEnded, waitFor, WAITING_STAGES} from './helpers/demo-client.js'
import {TraceIntake, type IntakeSpan} from './helpers/trace-intake.js'

const KINDS: Record<string, {kind: ComponentKind; type: string}> = {
  app_logs: {kind: 'source', type: 'file'},
  parse_logs: {kind: 'transform', type: 'remap'},
  http_out: {kind: 'sink', type: 'http'},
}

/** Checks the three-level structure; returns the spans by level. */
function checkHierarchy(spans: readonly IntakeSpan[]): {l1: IntakeSpan[]; l2: IntakeSpan[]; l3: IntakeSpan[]} {
  const byId = new Map(spans.map((s) => [s.span_id, s]))
  const l1: IntakeSpan[] = []
  const l2: IntakeSpan[] = []
  const l3: IntakeSpan[] = []
  for (const s of spans) {
    const component = s.meta[SPAN.meta.componentId]
    assert.ok(component in KINDS, `span ${s.name} has component_id ${component}`)
    if (s.parent_id === 0n) {
      assert.equal(s.name, SPAN.iteration)
      assert.equal(s.resource, component)
      assert.equal(s.meta[SPAN.meta.componentKind], KINDS[component].kind)
      assert.equal(s.meta[SPAN.meta.componentType], KINDS[component].type)
      l1.push(s)
      continue
    }
    const parent = byId.get(s.parent_id)
    assert.ok(parent, `parent of ${s.name} (${component}) arrived`)
    assert.equal(parent.trace_id, s.trace_id, 'a child is in its parent trace')
    assert.equal(parent.meta[SPAN.meta.componentId], component)
    assert.ok(s.start >= parent.start && s.start + s.duration <= parent.start + parent.duration + 1_000_000n, 'a child lies within its parent')
    if (parent.parent_id === 0n) {
      assert.equal(s.meta[SPAN.meta.stage], s.name)
      assert.ok(STAGES[KINDS[component].kind].includes(s.name), `${s.name} is a ${KINDS[component].kind} stage`)
      l2.push(s)
    } else {
      assert.equal(s.meta[SPAN.meta.stage], parent.name)
      assert.equal(s.meta[SPAN.meta.substage], s.name)
      l3.push(s)
    }
  }
  assert.ok(checkCpuNs(spans) > 0 || l2.every((s) => WAITING_STAGES.has(s.name)), 'some span measured CPU')
  return {l1, l2, l3}
}

function ms(iso: string): bigint {
  return BigInt(Date.parse(iso)) * 1_000_000n
}

describe('demo /tracing window', {timeout: 180_000}, () => {
  let demo: SpawnedDemo
  const intakes: TraceIntake[] = []
  const newIntake = async () => {
    const intake = await new TraceIntake().start()
    intakes.push(intake)
    return intake
  }

  before(async () => {
    demo = await spawnDemo({scenario: 'balanced'})
  })
  after(async () => {
    for (const intake of intakes) await intake.close()
    const code = await demo?.stop()
    assert.equal(code, 0, `demo exit code; stderr:\n${demo?.stderr()}`)
  })

  it('GET /tracing before any window: supported, no window', async () => {
    const s = await status(demo.api)
    assert.equal(s.supported, true)
    assert.equal(s.version, 1)
    assert.deepEqual(s.levels, ['info', 'debug'])
    assert.ok(s.max_duration_secs > 0)
    assert.equal(s.window, null)
  })

  it('an info window delivers three-level-conformant spans only inside itself, then expires on its own', async () => {
    const intake = await newIntake()
    const opened = await openWindow(demo.api, {duration_secs: 1.5, endpoint: intake.url})
    assert.equal(opened.status, 201, opened.text)
    const w = opened.json.window as TracingWindow
    assert.equal(w.state, 'active')
    assert.equal(w.level, 'info')
    assert.deepEqual(w.components, ['*'])
    assert.equal(w.sample_rate, 1)
    assert.equal(w.ended_at, null)
    assert.equal(w.endpoint, intake.url)

    // A second window while this one runs is a conflict, and names the running one.
    const conflict = await openWindow(demo.api, {duration_secs: 1, endpoint: intake.url})
    assert.equal(conflict.status, 409)
    assert.equal(typeof conflict.json.error, 'string')
    assert.equal(conflict.json.window.id, w.id)

    // Nobody DELETEs: the window must end by itself.
    const ended = await waitEnded(demo.api, w.id)
    assert.ok(ended.ended_at !== null)
    // ended_at is after expiry (100 ms slack: the expiry timer and the wall clock are different clocks).
    assert.ok(Date.parse(ended.ended_at) >= Date.parse(ended.expires_at) - 100)
    const arrivedAtEnd = intake.spans.length
    assert.ok(arrivedAtEnd > 0, 'spans arrived')
    assert.equal(ended.spans_started - ended.spans_dropped, arrivedAtEnd, 'final counts match what arrived')

    const {l1, l2, l3} = checkHierarchy(intake.spans)
    assert.equal(l3.length, 0, 'no sub-stages at level info')
    assert.deepEqual(new Set(l1.map((s) => s.resource)), new Set(Object.keys(KINDS)), 'every component traced')
    assert.ok(l2.length >= l1.length / 2)
    const idleSeen = new Set(l2.filter((s) => s.name === 'sleep' || s.name === 'wait').map((s) => s.meta.component_id))
    assert.ok(idleSeen.size > 0, 'balanced: components have idle stages')
    // Every span lies within the window (1 s of slack for the two clocks involved).
    for (const s of intake.spans) {
      assert.ok(s.start >= ms(ended.started_at) - 1_000_000_000n, `${s.name} started before the window`)
      assert.ok(s.start + s.duration <= ms(ended.ended_at) + 1_000_000_000n, `${s.name} ended after the window`)
    }

    // Outside a window nothing more arrives.
    await sleep(2500)
    assert.equal(intake.spans.length, arrivedAtEnd, 'no spans after the window ended')
    assert.equal(intake.errors.length, 0, intake.errors.join('\n'))
    // Only trace payloads reach the window's endpoint: no telemetry, remote config or metrics.
    assert.deepEqual([...new Set(intake.requests.map((r) => `${r.method} ${r.path}`))], ['PUT /v0.4/traces'])
  })

  it('DELETE ends a window early; the final counts match what arrived; DELETE again is 404 once ended', async () => {
    const intake = await newIntake()
    const opened = await openWindow(demo.api, {duration_secs: 60, endpoint: intake.url, level: 'info'})
    assert.equal(opened.status, 201, opened.text)
    const id = opened.json.window.id as string
    await waitFor('first spans', () => (intake.spans.length > 0 ? true : undefined), 15_000)

    const del = await call(`${demo.api}/tracing`, {method: 'DELETE'})
    assert.equal(del.status, 200, del.text)
    assert.equal(del.json.window.id, id)
    assert.ok(['ending', 'ended'].includes(del.json.window.state))
    if (del.json.window.state === 'ending') {
      // Idempotent while ending; 404 if it got to `ended` in between.
      const again = await call(`${demo.api}/tracing`, {method: 'DELETE'})
      assert.ok(again.status === 200 || again.status === 404, again.text)
      if (again.status === 200) assert.equal(again.json.window.id, id)
    }
    const ended = await waitEnded(demo.api, id)
    assert.ok(Date.parse(ended.ended_at as string) < Date.parse(ended.expires_at), 'ended long before expiry')
    assert.equal(ended.spans_started - ended.spans_dropped, intake.spans.length)
    checkHierarchy(intake.spans)

    const late = await call(`${demo.api}/tracing`, {method: 'DELETE'})
    assert.equal(late.status, 404)
    assert.equal(typeof late.json.error, 'string')
    // The most recent window stays visible.
    assert.equal((await status(demo.api)).window?.id, id)
  })

  it('a debug window adds sub-stages under their stage; the components filter is honoured', async () => {
    const intake = await newIntake()
    const opened = await openWindow(demo.api, {duration_secs: 2.5, endpoint: intake.url, level: 'debug', components: ['app_logs']})
    assert.equal(opened.status, 201, opened.text)
    const ended = await waitEnded(demo.api, opened.json.window.id)
    assert.equal(ended.spans_started - ended.spans_dropped, intake.spans.length)
    const {l1, l3} = checkHierarchy(intake.spans)
    assert.ok(l1.length > 0)
    assert.deepEqual(new Set(intake.spans.map((s) => s.meta.component_id)), new Set(['app_logs']))
    const subs = new Set(l3.map((s) => `${s.meta.stage}/${s.meta.substage}`))
    assert.ok(subs.has('discover/collect_paths'), [...subs].join(', '))
    assert.ok(subs.has('discover/fingerprint'), [...subs].join(', '))
    const fp = l3.find((s) => s.name === 'fingerprint')
    assert.match(fp?.meta['file.first_path'] ?? '', /\.log$/)
    assert.match(fp?.meta['file.last_path'] ?? '', /\.log$/)
    assert.ok((fp?.metrics.files ?? 0) >= 1, 'a fingerprint span counts the files it covered')
  })

  it('a window whose intake is unreachable still ends, and counts every span as dropped', async () => {
    const gone = await newIntake()
    const endpoint = gone.url
    await gone.close()
    const opened = await openWindow(demo.api, {duration_secs: 1, endpoint})
    assert.equal(opened.status, 201, opened.text)
    const ended = await waitEnded(demo.api, opened.json.window.id)
    assert.ok(ended.spans_started > 0)
    assert.equal(ended.spans_dropped, ended.spans_started)
  })

  it('sample_rate keeps whole iteration trees', async () => {
    const intake = await newIntake()
    const opened = await openWindow(demo.api, {duration_secs: 2, endpoint: intake.url, sample_rate: 0.5})
    assert.equal(opened.status, 201, opened.text)
    const ended = await waitEnded(demo.api, opened.json.window.id)
    assert.equal(ended.sample_rate, 0.5)
    assert.equal(ended.spans_started - ended.spans_dropped, intake.spans.length)
    // Every kept child has its root: no partial trees (checkHierarchy asserts each parent arrived).
    const {l1, l2} = checkHierarchy(intake.spans)
    const roots = new Set(l1.map((s) => s.trace_id))
    for (const s of l2) assert.ok(roots.has(s.trace_id))
  })
})

describe('demo shutdown with an open window', {timeout: 120_000}, () => {
  it('SIGTERM ends and flushes the window first: its final counts match what arrived', async () => {
    const demo = await spawnDemo()
    const intake = await new TraceIntake().start()
    try {
      const opened = await openWindow(demo.api, {duration_secs: 60, endpoint: intake.url})
      assert.equal(opened.status, 201, opened.text)
      await waitFor('first spans', () => (intake.spans.length > 0 ? true : undefined), 15_000)
      assert.equal(await demo.stop(), 0, demo.stderr())
      const m = /shutdown: window (\S+) ended \((\d+) started, (\d+) dropped\)/.exec(demo.stderr())
      assert.ok(m, demo.stderr())
      assert.equal(m[1], opened.json.window.id)
      assert.equal(Number(m[2]) - Number(m[3]), intake.spans.length)
      checkHierarchy(intake.spans)
    } finally {
      await intake.close()
      await demo.stop()
    }
  })
})

describe('demo /tracing with --trace-protocol 0.5', {timeout: 120_000}, () => {
  it('delivers v0.5 payloads that decode to the same conventions', async () => {
    const demo = await spawnDemo({extraArgs: ['--trace-protocol', '0.5']})
    const intake = await new TraceIntake().start()
    try {
      const opened = await openWindow(demo.api, {duration_secs: 1.5, endpoint: intake.url})
      assert.equal(opened.status, 201, opened.text)
      const ended = await waitEnded(demo.api, opened.json.window.id)
      assert.ok(intake.requests.some((r) => r.path === '/v0.5/traces'))
      assert.ok(!intake.requests.some((r) => r.path === '/v0.4/traces'))
      assert.ok(intake.spans.length > 0)
      assert.equal(ended.spans_started - ended.spans_dropped, intake.spans.length)
      checkHierarchy(intake.spans)
    } finally {
      await intake.close()
      await demo.stop()
    }
  })
})
