/**
 * The attach clients against the real demo pipeline (a child process), in both
 * API generations and with tracing switched off.
 */
import {after, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {setTimeout as sleep} from 'node:timers/promises'
import {spawnDemo} from '../../src/demo/spawn.js'
import {checkHealth} from '../../src/attach/health.js'
import {connectAdmin, type AdminClient} from '../../src/attach/detect.js'
import {endWindow, getTracingStatus, openWindow, waitForEnded} from '../../src/attach/tracing-client.js'
import type {ComponentCounters} from '../../src/bundle/format.js'
import {isVdiagError, type VdiagError} from '../../src/errors.js'
import {sendJson, startHttp, type Running, failure} from './fake-admin.js'

const unhandled: unknown[] = []
process.on('unhandledRejection', (e) => unhandled.push(e))
after(() => assert.deepEqual(unhandled, [], 'no unhandled rejections'))

const T = {timeout: 120_000}
const TOKEN = 'demo-e2e-token-314159'

type Demo = Awaited<ReturnType<typeof spawnDemo>>


/** A minimal Datadog-Agent-like intake that counts trace payloads and answers everything else quietly. */
async function startCountingIntake(): Promise<Running & {payloads: () => number}> {
  let payloads = 0
  const s = await startHttp((req, res) => {
    req.resume()
    req.on('end', () => {
      if (/^\/v0\.[45]\/traces/.test(req.url ?? '')) {
        payloads++
        return sendJson(res, 200, {rate_by_service: {}})
      }
      sendJson(res, 200, {})
    })
  })
  return {...s, payloads: () => payloads}
}

function total(snap: Record<string, ComponentCounters>): number {
  return Object.values(snap).reduce((sum, c) => sum + (c.sent_events ?? 0), 0)
}

/** Counters are cumulative and the demo is moving: poll until they grow (bounded by the test timeout). */
async function assertCountersGrow(admin: AdminClient): Promise<void> {
  const first = await admin.snapshot()
  assert.ok(Object.keys(first).length >= 3, 'a counter entry per component')
  for (let i = 0; i < 200; i++) {
    await sleep(100)
    if (total(await admin.snapshot()) > total(first)) return
  }
  assert.fail('counters never grew')
}

async function checkFacts(admin: AdminClient, url: string): Promise<void> {
  const facts = await admin.facts()
  assert.equal(facts.api.generation, admin.generation)
  assert.equal(facts.api.url, url)
  assert.match(facts.version ?? '', /^\d+\.\d+\.\d+/)
  assert.equal(facts.version, admin.generation === 'grpc' ? '0.55.0' : '0.54.0')
  assert.ok(facts.version_string?.startsWith(facts.version ?? 'x'))
  const kinds = new Set(facts.components.map((c) => c.kind))
  assert.deepEqual([...kinds].sort(), ['sink', 'source', 'transform'])
  const types = new Set(facts.components.map((c) => c.type))
  for (const t of ['file', 'remap', 'http']) assert.ok(types.has(t), `a ${t} component`)
  if (admin.generation === 'grpc') {
    assert.equal(facts.edges, null)
    assert.equal(facts.edges_source, 'none')
  } else {
    assert.equal(facts.edges_source, 'graphql')
    const ids = new Set(facts.components.map((c) => c.id))
    assert.ok((facts.edges ?? []).length >= 2, 'source -> transform -> sink')
    for (const e of facts.edges ?? []) assert.ok(ids.has(e.from) && ids.has(e.to), `edge ${e.from} -> ${e.to} between known components`)
    const byId = Object.fromEntries(facts.components.map((c) => [c.id, c.kind]))
    assert.ok(facts.edges?.some((e) => byId[e.from] === 'source' && byId[e.to] === 'transform'))
    assert.ok(facts.edges?.some((e) => byId[e.from] === 'transform' && byId[e.to] === 'sink'))
  }
}

for (const apiProtocol of ['grpc', 'graphql'] as const) {
  describe(`demo with the ${apiProtocol} API and tracing on`, () => {
    test('health, detection, facts, growing counters, and a full tracing window', T, async () => {
      let demo: Demo | undefined
      let admin: AdminClient | undefined
      const intake = await startCountingIntake()
      try {
        demo = await spawnDemo({apiProtocol, tracing: true, token: TOKEN})
        const target = {url: demo.api, token: TOKEN}
        assert.equal((await checkHealth(target)).ok, true)

        admin = await connectAdmin(target)
        assert.equal(admin.generation, apiProtocol)
        await checkFacts(admin, demo.api)
        await assertCountersGrow(admin)

        const st = await getTracingStatus(target)
        assert.equal(st.supported, true, st.supported ? '' : st.reason)
        if (!st.supported) return
        assert.ok(st.status.max_duration_secs > 1)

        // Without the token: 401 -> tracing_rejected, and the token hint.
        const e401 = await failure(openWindow({url: demo.api}, {duration_secs: 1, endpoint: intake.url}))
        assert.equal(e401.code, 'tracing_rejected')
        assert.match(e401.hint ?? '', /--token/)

        // Too long -> 400 with the server's reason.
        const e400 = await failure(openWindow(target, {duration_secs: st.status.max_duration_secs + 1, endpoint: intake.url}))
        assert.equal(e400.code, 'tracing_rejected')

        const w = await openWindow(target, {duration_secs: 1, endpoint: intake.url, level: 'info'})
        assert.equal(w.state, 'active')
        const e409 = await failure(openWindow(target, {duration_secs: 1, endpoint: intake.url}))
        assert.equal(e409.code, 'tracing_conflict')
        assert.equal((e409.details?.window as {id?: string} | undefined)?.id, w.id)
        assert.ok(e409.message.includes(w.expires_at))
        for (const err of [e401, e400, e409]) assert.ok(!JSON.stringify(err.toJSON()).includes(TOKEN))

        const done = await waitForEnded(target, {deadlineMs: Date.parse(w.expires_at) + 10_000, pollMs: 100, windowId: w.id})
        assert.equal(done.ended, true, done.error)
        assert.equal(done.window?.id, w.id)
        assert.equal(done.window?.state, 'ended')
        assert.ok((done.window?.spans_started ?? 0) > 0, 'the demo traced something in 1 s')
        assert.ok(intake.payloads() > 0, 'spans reached the intake')
        // Nothing active any more.
        assert.equal(await endWindow(target), null)

        // Early end: DELETE, then wait for ended.
        const w2 = await openWindow(target, {duration_secs: 30, endpoint: intake.url})
        const ending = await endWindow(target)
        assert.equal(ending?.id, w2.id)
        assert.ok(ending && ['ending', 'ended'].includes(ending.state))
        const done2 = await waitForEnded(target, {deadlineMs: Date.now() + 20_000, pollMs: 100, windowId: w2.id})
        assert.equal(done2.ended, true, done2.error)
      } finally {
        await admin?.close()
        await demo?.stop()
        await intake.close()
      }
    })
  })
}

describe('demo with tracing off', () => {
  for (const apiProtocol of ['grpc', 'graphql'] as const) {
    test(`${apiProtocol}: /tracing is unsupported (404), metrics still work`, T, async () => {
      let demo: Demo | undefined
      let admin: AdminClient | undefined
      try {
        demo = await spawnDemo({apiProtocol, tracing: false})
        const target = {url: demo.api}
        await checkHealth(target)
        const st = await getTracingStatus(target)
        assert.equal(st.supported, false)
        if (!st.supported) {
          assert.equal(st.http, 404)
          assert.match(st.reason, /no \/tracing endpoint/)
        }
        admin = await connectAdmin(target)
        assert.equal(admin.generation, apiProtocol)
        await checkFacts(admin, demo.api)
      } finally {
        await admin?.close()
        await demo?.stop()
      }
    })
  }
})

describe('after the demo stops', () => {
  test('health is unreachable and waitForEnded reports the loss without throwing', T, async () => {
    const demo = await spawnDemo({apiProtocol: 'grpc', tracing: true})
    const target = {url: demo.api}
    const intake = await startCountingIntake()
    try {
      const w = await openWindow(target, {duration_secs: 60, endpoint: intake.url})
      await demo.stop()
      const r = await waitForEnded(target, {deadlineMs: Date.now() + 30_000, pollMs: 100, windowId: w.id})
      // stop() ends the window first; either we saw it ended, or the pipeline was already gone.
      if (!r.ended) assert.match(r.error ?? '', /stopped answering|refused/)
      const e = await failure(checkHealth(target))
      assert.equal(e.code, 'api_unreachable')
    } finally {
      await demo.stop()
      await intake.close()
    }
  })
})
