/**
 * capture --via agent: the intake as a tee in front of a stub Agent (a real
 * HTTP server). Real dd-trace 5 in a child process sends through it while the
 * stub answers, dies, hangs and comes back; raw HTTP checks the relaying
 * details; and the CLI runs a whole capture against the stub.
 */
import assert from 'node:assert/strict'
import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {createInterface} from 'node:readline'
import {gunzipSync} from 'node:zlib'
import {describe, it} from 'node:test'
import {unpack} from 'msgpackr'
import type {CollectorReport, PayloadRecord, SpanRecord} from '../../src/bundle/format.js'
import {checkAgent, startCaptureAgent} from '../../src/capture/agent-phase.js'
import type {CaptureEvent} from '../../src/capture/events.js'
import {AgentClient, fetchAgentInfo} from '../../src/intake/agent-client.js'
import {parseAgentUrl} from '../../src/intake/agent-url.js'
import {CircuitBreaker} from '../../src/intake/circuit-breaker.js'
import {startIntake, type Intake} from '../../src/intake/server.js'
import {createSpanStore, type SpanStore, type SpanStoreOptions} from '../../src/intake/store.js'
import {createAgentTee, type AgentTee, type AgentTeeOptions, type TeeEvent} from '../../src/intake/tee.js'
import {packageRoot} from '../../src/util/paths.js'
import {extractWithSystemTools, readManifest} from '../helpers/archive.js'
import {events, runCli} from '../helpers/cli.js'
import {MSGPACK, readIndex, readSpanFile, send, sendTraces, tempDir, testSpan, v04, v05, waitFor} from './helpers.js'
import {RATES_OK, STUB_INFO, startStubAgent, type StubAgent} from './stub-agent.js'

const FIXTURE = path.join(packageRoot, 'test', 'intake', 'fixtures', 'dd-stream.mjs')
/** The intake's own answer when the Agent is not there (server.ts RATES_BODY). */
const LOCAL_RATES = '{"rate_by_service":{"service:,env:":1}}'
/**
 * The deadline the tee gives the stub in these tests. Longer than the
 * production default so that a loaded CI machine does not make a healthy
 * stub look dead, yet short enough that the one request which discovers a
 * hung Agent still answers the tracer within its 2 s timeout.
 */
const TEST_DEADLINE_MS = 1_000
const TEST_PROBE_MS = 300

interface TeeHarness {
  dir: string
  store: SpanStore
  tee: AgentTee
  intake: Intake
  events: TeeEvent[]
  payloads: PayloadRecord[]
  dispose(): Promise<void>
}

async function startTee(stub: StubAgent, opts: Partial<AgentTeeOptions> & {redactSpan?: SpanStoreOptions['redactSpan']} = {}): Promise<TeeHarness> {
  const t = await tempDir('vdiag-tee-')
  const store = await createSpanStore({dir: t.dir, maxSpans: 1_000_000, redactSpan: opts.redactSpan})
  const events: TeeEvent[] = []
  const payloads: PayloadRecord[] = []
  const tee = createAgentTee({client: new AgentClient(parseAgentUrl(stub.url, 'test')), deadlineMs: TEST_DEADLINE_MS, probeIntervalMs: TEST_PROBE_MS, onEvent: (e) => events.push(e), ...opts})
  const intake = await startIntake({store, forward: tee, onPayload: (p) => payloads.push(p)})
  return {
    dir: t.dir,
    store,
    tee,
    intake,
    events,
    payloads,
    async dispose() {
      await intake.close().catch(() => undefined)
      await store.close().catch(() => undefined)
      await tee.close().catch(() => undefined)
      await t.remove()
    },
  }
}

// ---------- the dd-trace child ----------

interface SentRequest {
  path: string
  headers: Record<string, string | number>
  body: string
  status: number | null
  reply: string | null
  replyHeaders: Record<string, string> | null
  error: string | null
}

interface BatchResult {
  label: string
  made: {name: string; span_id: string; trace_id: string}[]
  error: string | null
  requests: SentRequest[]
}

interface Tracer {
  batch(label: string, traces: number): Promise<BatchResult>
  stop(): Promise<void>
}

function startTracer(url: string): Tracer {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [FIXTURE], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      INTAKE_URL: url,
      DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false',
      DD_REMOTE_CONFIGURATION_ENABLED: 'false',
      DD_TRACE_STARTUP_LOGS: 'false',
      DD_CRASHTRACKING_ENABLED: 'false',
      DD_RUNTIME_METRICS_ENABLED: 'false',
      DD_TRACE_GIT_METADATA_ENABLED: 'false',
    },
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const lines = createInterface({input: child.stdout})
  const waiting: ((line: string) => void)[] = []
  lines.on('line', (l) => waiting.shift()?.(l))
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  const killer = setTimeout(() => child.kill('SIGKILL'), 110_000)
  return {
    batch(label, traces) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`batch ${label}: no answer from the tracer; stderr: ${stderr}`)), 30_000)
        waiting.push((l) => {
          clearTimeout(timer)
          resolve(JSON.parse(l) as BatchResult)
        })
        void exited.then(() => reject(new Error(`the tracer exited; stderr: ${stderr}`)))
        child.stdin.write(`batch ${label} ${traces}\n`)
      })
    },
    async stop() {
      child.stdin.end('exit\n')
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(t)
      clearTimeout(killer)
    },
  }
}

/** The span ids of a raw body, decoded with msgpackr (independent of src/intake). */
function spanIdsOf(body: Buffer): string[] {
  return (unpack(body) as {span_id: bigint}[][]).flat().map((s) => String(s.span_id))
}

/** Headers as the tracer wrote them, lower-cased, less those a proxy sets itself. */
function comparable(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) {
    const name = k.toLowerCase()
    if (name === 'host' || name === 'connection') continue
    out[name] = String(v)
  }
  return out
}

describe('tee: dd-trace 5 → vdiag → stub Agent', () => {
  it('relays the Agent exactly, keeps every span, and answers fast through an outage and a hang', {timeout: 120_000}, async () => {
    const CUSTOM = '{"rate_by_service":{"service:fixture-svc,env:test":0,"service:,env:":1}}'
    const stub = await startStubAgent()
    stub.reply = (r) => (r.url.endsWith('/traces') ? {status: 200, body: CUSTOM, headers: {'content-type': 'application/json', 'datadog-agent-version': '7.99.0-stub'}} : {status: 200, body: '{}'})
    const h = await startTee(stub)
    const tracer = startTracer(h.intake.url)
    const batches: BatchResult[] = []
    const run = async (label: string, traces = 4): Promise<BatchResult> => {
      const b = await tracer.batch(label, traces)
      batches.push(b)
      // "fast" without a clock: dd-trace's verdict is an error when its 2 s request timeout passes or the answer is not 2xx
      assert.equal(b.error, null, `batch ${label}: the tracer got ${b.error}; requests ${JSON.stringify(b.requests.map((r) => [r.status, r.error]))}`)
      assert.equal(b.requests.length, 1, `batch ${label} is one payload`)
      return b
    }
    try {
      // 1. the Agent answers: relayed as is, both ways
      const a = await run('a')
      const sentA = a.requests[0]
      assert.equal(sentA.status, 200)
      assert.equal(sentA.reply, CUSTOM, 'the tracer gets the Agent body byte for byte')
      assert.equal(sentA.replyHeaders?.['datadog-agent-version'], '7.99.0-stub', "and the Agent's headers")
      assert.equal(stub.traces().length, 1)
      const atStub = stub.traces()[0]
      assert.equal(atStub.method, 'PUT')
      assert.equal(atStub.url, '/v0.4/traces')
      assert.ok(atStub.body.equals(Buffer.from(sentA.body, 'base64')), 'the Agent gets the body byte for byte')
      assert.deepEqual(comparable(atStub.headers), comparable(sentA.headers), 'and every header but host/connection')
      // the tracer acted on the Agent's rates: the next traces carry the sampling the Agent asked for (0)
      const b = await run('b')
      assert.equal(b.requests[0].reply, CUSTOM)
      const priorityB = (unpack(Buffer.from(b.requests[0].body, 'base64')) as {metrics: Record<string, number>}[][]).map((chunk) => chunk.map((s) => s.metrics._sampling_priority_v1).find((p) => p !== undefined))
      assert.deepEqual(new Set(priorityB), new Set([0]), `priorities after the custom rates: ${priorityB}`)

      // 2. the Agent hangs (reads, never answers): one request waits out the deadline, then the tracer is answered at once
      await stub.setMode('slow')
      const c = await run('c')
      assert.equal(c.requests[0].status, 200)
      assert.equal(c.requests[0].reply, LOCAL_RATES, 'answered by vdiag with a rate_by_service body')
      assert.equal(h.tee.state(), 'open')
      assert.deepEqual(h.events.map((e) => e.kind), ['agent_down'])
      const d = await run('d')
      assert.equal(d.requests[0].reply, LOCAL_RATES)

      // 3. the Agent's port closes: still answered locally
      await stub.setMode('dead')
      const e = await run('e')
      assert.equal(e.requests[0].reply, LOCAL_RATES)

      // 4. it comes back: a background probe closes the breaker, and requests reach it again
      await stub.setMode('ok')
      let f: BatchResult | null = null
      for (let i = 0; i < 20 && h.tee.state() !== 'closed'; i++) {
        await new Promise((r) => setTimeout(r, TEST_PROBE_MS))
        f = await run(`f${i}`, 1)
        assert.equal(f.requests[0].status, 200)
      }
      assert.ok(await waitFor(() => h.tee.state() === 'closed', 10_000), `breaker state ${h.tee.state()}`)
      assert.equal(h.events.at(-1)?.kind, 'agent_back')
      const g = await run('g')
      assert.equal(g.requests[0].reply, CUSTOM, 'relayed from the Agent again')
      const lastAtStub = stub.traces().at(-1)!
      assert.ok(lastAtStub.body.equals(Buffer.from(g.requests[0].body, 'base64')))

      // the store kept every span of every batch, whatever the Agent did
      await tracer.stop()
      await h.intake.close()
      await h.store.close()
      const made = batches.flatMap((x) => x.made)
      const records = await readSpanFile(h.dir)
      assert.equal(records.length, made.length, 'no span lost from the store')
      assert.deepEqual(new Set(records.map((r: SpanRecord) => r.span_id)), new Set(made.map((m) => m.span_id)))
      // stored bodies are the bytes the tracer sent (no redaction here), in order
      const index = await readIndex(h.dir)
      const sent = batches.flatMap((x) => x.requests)
      assert.equal(index.length, sent.length)
      for (const [i, p] of index.entries()) {
        assert.equal(p.reencoded, false)
        assert.ok((await readFile(path.join(h.dir, p.file))).equals(Buffer.from(sent[i].body, 'base64')), `payload ${i}`)
        assert.equal(p.headers['x-datadog-trace-count'], String(sent[i].headers['x-datadog-trace-count']))
        assert.equal(p.headers['datadog-meta-tracer-version'], String(sent[i].headers['datadog-meta-tracer-version']))
      }
      // whatever reached the stub is byte-identical to something the tracer sent
      const sentBodies = new Set(sent.map((s) => s.body))
      for (const r of stub.traces()) assert.ok(sentBodies.has(r.body.toString('base64')), 'the stub only ever got original bodies')

      // the counts say what the Agent missed
      const counts = h.tee.counts()
      // requests: the trace payloads plus side traffic (DogStatsD), which goes through the tee too
      assert.ok(counts.requests >= sent.length)
      assert.equal(counts.forwarded_ok + counts.agent_errors + counts.failed + counts.not_tried, counts.requests)
      assert.ok(counts.failed >= 1, `failed ${counts.failed}`)
      assert.ok(counts.answered_locally >= 3, `answered locally ${counts.answered_locally}`)
      assert.equal(counts.outages, 1, 'the hang and the closed port are one outage: the breaker stayed open in between')
      assert.ok(counts.probes >= 1)
      assert.equal(counts.trace_payloads, sent.length)
      // delivered: answered 2xx by the stub (the hung ones were read, never answered, and count as missed)
      const delivered = new Set(stub.traces().filter((r) => r.status === 200).map((r) => r.body.toString('base64')))
      const missed = sent.filter((s) => !delivered.has(s.body))
      assert.equal(counts.trace_payloads_missed, missed.length, 'missed payloads are those the stub never got')
      assert.equal(counts.spans_missed, missed.reduce((n, s) => n + spanIdsOf(Buffer.from(s.body, 'base64')).length, 0))
      assert.match(counts.last_error ?? '', /no answer|refused|closed/)
    } finally {
      await tracer.stop().catch(() => undefined)
      await h.dispose()
      await stub.close()
    }
  })
})

describe('tee: relaying details', () => {
  it('relays any status, headers and body, forwards side traffic and unknown paths, drops hop-by-hop headers', {timeout: 30_000}, async () => {
    const stub = await startStubAgent()
    stub.reply = (r) => {
      if (r.url === '/v0.4/traces') return {status: 429, body: 'too many\n', headers: {'content-type': 'text/plain', 'x-agent': 'busy'}}
      if (r.url.startsWith('/telemetry/')) return {status: 202, body: '{"ok":1}'}
      return {status: 418, body: 'teapot'}
    }
    const h = await startTee(stub)
    try {
      const body = v04([[testSpan(), testSpan()]])
      const r = await sendTraces(h.intake.url, 'v0.4', body, {...MSGPACK, 'x-datadog-trace-count': 1, 'datadog-meta-lang': 'nodejs', 'datadog-client-computed-stats': 'yes', 'keep-alive': 'timeout=5', connection: 'keep-alive, x-private', 'x-private': 'hop', 'x-custom': 'kept'})
      assert.deepEqual([r.status, r.body, r.headers['x-agent'], r.headers['content-type']], [429, 'too many\n', 'busy', 'text/plain'])
      const got = stub.received[0]
      assert.ok(got.body.equals(body))
      assert.equal(got.headers['x-custom'], 'kept')
      assert.equal(got.headers['datadog-client-computed-stats'], 'yes', 'the capture forwards every end-to-end header')
      assert.equal(got.headers['x-private'], undefined, 'a header the Connection header names is hop-by-hop')
      assert.equal(got.headers['keep-alive'], undefined)
      assert.equal(got.headers['content-length'], String(body.length))
      // the Agent refused it, but vdiag kept it
      assert.ok(await waitFor(() => h.store.counts().spans_kept === 2, 5_000))
      assert.equal(h.tee.counts().agent_errors, 1)
      assert.equal(h.tee.counts().trace_payloads_missed, 1)
      assert.equal(h.tee.state(), 'closed', 'an answer, even a refusal, is not an outage')

      const tel = await send(h.intake.url, {method: 'POST', path: '/telemetry/proxy/api/v2/apmtelemetry?q=1', body: '{"request_type":"app-started"}', headers: {'content-type': 'application/json'}})
      assert.deepEqual([tel.status, tel.body], [202, '{"ok":1}'])
      assert.equal(stub.received[1].url, '/telemetry/proxy/api/v2/apmtelemetry?q=1')
      assert.equal(stub.received[1].body.toString(), '{"request_type":"app-started"}')
      const other = await send(h.intake.url, {method: 'GET', path: '/profiling/v1/input'})
      assert.deepEqual([other.status, other.body], [418, 'teapot'], 'paths the intake does not know still reach the Agent')
      assert.equal(h.tee.counts().requests, 3)
    } finally {
      await h.dispose()
      await stub.close()
    }
  })

  it('forwards the original bytes while the bundle keeps the redacted re-encoding', {timeout: 30_000}, async () => {
    const stub = await startStubAgent()
    const h = await startTee(stub, {
      redactSpan: (s) => {
        if (s.meta.password === undefined) return false
        s.meta.password = '[REDACTED]'
        return true
      },
    })
    try {
      const secret = 'hunter2-secret'
      for (const [version, body] of [['v0.4', v04([[testSpan({meta: {password: secret}})], [testSpan()]])], ['v0.5', v05([[testSpan({meta: {password: secret}})]])], ['v0.4', v04([[testSpan()]])]] as const) {
        const r = await sendTraces(h.intake.url, version, body)
        assert.deepEqual([r.status, r.body], [200, RATES_OK])
        assert.ok(stub.traces().at(-1)!.body.equals(body), 'the Agent gets the original')
      }
      assert.ok(stub.traces()[0].body.includes(Buffer.from(secret)))
      assert.ok(await waitFor(() => h.payloads.length === 3, 5_000))
      assert.deepEqual(h.payloads.map((p) => p.reencoded), [true, true, false])
      for (const p of h.payloads) assert.ok(!(await readFile(path.join(h.dir, p.file))).includes(Buffer.from(secret)), `payload ${p.seq} holds no secret`)
      assert.ok((await readFile(path.join(h.dir, h.payloads[2].file))).equals(stub.traces()[2].body), 'unchanged payloads stay byte-identical')
    } finally {
      await h.dispose()
      await stub.close()
    }
  })

  it('relays the Agent on undecodable payloads and counts them as refused by vdiag', {timeout: 30_000}, async () => {
    const stub = await startStubAgent()
    stub.reply = () => ({status: 400, body: 'decode error'})
    const h = await startTee(stub)
    try {
      const r = await sendTraces(h.intake.url, 'v0.4', Buffer.from([0xc1]))
      assert.deepEqual([r.status, r.body], [400, 'decode error'])
      assert.equal(h.store.counts().bad_payloads, 1)
      await stub.setMode('dead')
      const local = await sendTraces(h.intake.url, 'v0.4', Buffer.from([0xc1]))
      assert.equal(local.status, 400, 'with the Agent gone, the intake refuses it itself')
      assert.match(local.body, /undecodable/)
    } finally {
      await h.dispose()
      await stub.close()
    }
  })

  it('starts answering locally when /info failed, and a probe finds the Agent once it is up', {timeout: 30_000}, async () => {
    const stub = await startStubAgent()
    await stub.setMode('dead')
    const client = new AgentClient(parseAgentUrl(stub.url, 'test'))
    const info = await fetchAgentInfo(client, 1_000)
    assert.equal(info.reachable, false)
    assert.match(info.error ?? '', /refused/)
    const h = await startTee(stub, {client, startDown: true})
    try {
      const r = await sendTraces(h.intake.url, 'v0.4', v04([[testSpan()]]))
      assert.deepEqual([r.status, r.body], [200, LOCAL_RATES])
      assert.equal(h.tee.counts().probes, 1, 'the first request probes in the background')
      assert.ok(await waitFor(() => h.tee.counts().failed === 1, 5_000))
      await stub.setMode('ok')
      for (let i = 0; i < 20 && h.tee.state() !== 'closed'; i++) {
        await new Promise((resolve) => setTimeout(resolve, TEST_PROBE_MS))
        await sendTraces(h.intake.url, 'v0.4', v04([[testSpan()]]))
        await waitFor(() => h.tee.state() !== 'half-open', 5_000)
      }
      assert.equal(h.tee.state(), 'closed')
      const back = await sendTraces(h.intake.url, 'v0.4', v04([[testSpan()]]))
      assert.equal(back.headers['content-type'], 'application/json')
      assert.equal(stub.traces().length >= 2, true, 'the probe that got through delivered its payload, and the next went straight')
      const info2 = await fetchAgentInfo(new AgentClient(parseAgentUrl(stub.url, 'test')), 1_000)
      assert.deepEqual([info2.reachable, info2.version, info2.endpoints], [true, STUB_INFO.version, STUB_INFO.endpoints])
    } finally {
      await h.dispose()
      await stub.close()
    }
  })

  it('capture: /info is recorded, outages are warned about, and the record lists re-encoded payloads', {timeout: 30_000}, async () => {
    const stub = await startStubAgent()
    const log: CaptureEvent[] = []
    const collectors: Record<string, CollectorReport> = {}
    try {
      const check = await checkAgent(parseAgentUrl(stub.url, 'test'), collectors, (e) => log.push(e))
      assert.equal(collectors.agent.status, 'ok')
      assert.match(collectors.agent.detail ?? '', /7\.99\.0-stub/)
      const agent = await startCaptureAgent(check, (e) => log.push(e))
      const record = (seq: number, reencoded: boolean): PayloadRecord => ({seq, file: '', received_at: '', method: 'PUT', path: '/v0.4/traces', version: 'v0.4', headers: {}, size: 0, spans: 1, traces: 1, reencoded})
      agent.onPayload(record(0, false))
      agent.onPayload(record(1, true))
      agent.onPayload(record(2, true))
      const local = {status: 200, body: LOCAL_RATES, type: 'application/json'}
      const ok = await agent.forwarder.relay({method: 'PUT', url: '/v0.4/traces', headers: MSGPACK, body: v04([[testSpan()]]), trace: {spans: 1}}, local)
      assert.equal(ok.from, 'agent')
      await stub.setMode('dead')
      const missed = await agent.forwarder.relay({method: 'PUT', url: '/v0.4/traces', headers: MSGPACK, body: v04([[testSpan(), testSpan()]]), trace: {spans: 2}}, local)
      assert.deepEqual([missed.from, missed.status, missed.body], ['local', 200, LOCAL_RATES])
      const r = await agent.finish(collectors)
      assert.deepEqual([r.reencoded_payloads, r.reencoded_payloads_total], [[1, 2], 2])
      assert.deepEqual([r.forwarding.forwarded_ok, r.forwarding.failed, r.forwarding.trace_payloads_missed, r.forwarding.spans_missed], [1, 1, 1, 2])
      assert.equal(r.info.version, STUB_INFO.version)
      assert.equal(r.url, stub.url)
      assert.equal(collectors.agent_forward.status, 'partial')
      const warnings = log.filter((e) => e.event === 'warning').map((e) => (e as {code: string}).code)
      assert.deepEqual(warnings, ['agent_down', 'agent_missed'])
    } finally {
      await stub.close()
    }
  })

  it('circuit breaker: closed → open → half-open → closed, one probe at a time', () => {
    let now = 0
    const b = new CircuitBreaker({probeIntervalMs: 1000, now: () => now})
    assert.equal(b.admit(), 'try')
    assert.equal(b.failure(), true, 'a new outage')
    assert.equal(b.admit(), 'skip')
    now = 999
    assert.equal(b.admit(), 'skip')
    now = 1000
    assert.equal(b.admit(), 'probe')
    assert.equal(b.admit(), 'skip', 'only one probe in flight')
    assert.equal(b.failure(), false, 'a failed probe is the same outage')
    now = 1500
    assert.equal(b.admit(), 'skip')
    now = 2000
    assert.equal(b.admit(), 'probe')
    assert.equal(b.success(), true)
    assert.equal(b.state, 'closed')
    assert.equal(b.admit(), 'try')
    assert.equal(new CircuitBreaker({probeIntervalMs: 1000, startOpen: true, now: () => 0}).admit(), 'probe', 'starting down probes at once')
  })
})

describe('capture --via agent end to end', () => {
  it('the bundle has every span and so does the stub Agent', {timeout: 180_000}, async () => {
    const stub = await startStubAgent()
    const work = await mkdtemp(path.join(os.tmpdir(), 'vdiag-tee-cli-'))
    try {
      const out = path.join(work, 'agent.tar.gz')
      const r = await runCli(['capture', '--demo', '--via', 'agent', '--agent-url', stub.url, '--duration', '2s', '--interval', '1s', '--output', out, '--json'], {timeoutMs: 150_000})
      assert.equal(r.code, 0, r.stderr)
      assert.ok(events(r.stdout).some((e) => e.event === 'bundle_written'))
      const {root} = extractWithSystemTools(out)
      try {
        const m = readManifest(root)
        assert.equal(m.capture.via, 'agent')
        const agent = m.capture.agent
        assert.ok(agent, 'manifest.capture.agent')
        assert.equal(agent.url, stub.url)
        assert.deepEqual([agent.info.reachable, agent.info.version, agent.info.endpoints], [true, STUB_INFO.version, STUB_INFO.endpoints])
        assert.ok(agent.forwarding.forwarded_ok >= 1)
        assert.ok(agent.forwarding.trace_payloads >= 1)
        assert.deepEqual(agent.reencoded_payloads, [])
        assert.ok(m.counts.spans_kept > 0)
        assert.equal(m.counts.spans_lost, 0, 'the pipeline got an answer to every export through the tee')
        assert.equal(stub.received[0].url, '/info', '/info is asked before the window')

        const spans = gunzipSync(await readFile(path.join(root, 'spans/spans.ndjson.gz')))
          .toString('utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => (JSON.parse(l) as SpanRecord).span_id)
        assert.equal(spans.length, m.counts.spans_kept)
        const atStub = new Set(stub.traces().flatMap((t) => spanIdsOf(t.body)))
        // (the other way round holds too, but for a payload the tracer may re-send after the window,
        // which the Agent still gets while the bundle is already closed)
        const reached = spans.filter((id) => atStub.has(id)).length
        const f = agent.forwarding
        if (f.trace_payloads_missed === 0) assert.equal(reached, spans.length, 'every span reached the stub Agent')
        // a machine so loaded that the healthy stub missed the tee's deadline: what it missed is counted
        else assert.ok(reached >= spans.length - f.spans_missed, `${reached} of ${spans.length} spans reached the stub, ${f.spans_missed} counted as missed`)
        // every stored payload is byte-identical to one the Agent received
        const index = (await readFile(path.join(root, 'spans/payloads.ndjson'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as PayloadRecord)
        const bodies = new Set(stub.traces().map((t) => t.body.toString('base64')))
        let identical = 0
        for (const p of index) if (bodies.has((await readFile(path.join(root, p.file))).toString('base64'))) identical++
        assert.ok(identical >= index.length - f.trace_payloads_missed, `${identical} of ${index.length} stored payloads byte-identical to what the stub got`)
      } finally {
        await rm(path.dirname(root), {recursive: true, force: true})
      }
    } finally {
      await rm(work, {recursive: true, force: true})
      await stub.close()
    }
  })

  it('an Agent that is not there is warned about and recorded; the spans are kept', {timeout: 180_000}, async () => {
    const stub = await startStubAgent()
    await stub.setMode('dead')
    const work = await mkdtemp(path.join(os.tmpdir(), 'vdiag-tee-cli-'))
    try {
      const out = path.join(work, 'noagent.tar.gz')
      const r = await runCli(['capture', '--demo', '--via', 'agent', '--agent-url', stub.url, '--duration', '2s', '--interval', '1s', '--output', out, '--json'], {timeoutMs: 150_000})
      assert.equal(r.code, 0, r.stderr)
      const codes = events(r.stdout).filter((e) => e.event === 'warning').map((e) => e.code)
      assert.ok(codes.includes('agent_unreachable'), `warnings: ${codes}`)
      assert.ok(codes.includes('agent_missed'), `warnings: ${codes}`)
      const {root} = extractWithSystemTools(out)
      try {
        const m = readManifest(root)
        const agent = m.capture.agent!
        assert.equal(agent.info.reachable, false)
        assert.ok(m.counts.spans_kept > 0)
        assert.equal(agent.forwarding.forwarded_ok, 0)
        assert.equal(agent.forwarding.trace_payloads_missed, agent.forwarding.trace_payloads)
        assert.ok(agent.forwarding.trace_payloads >= 1)
        assert.equal(m.collectors.agent?.status, 'failed')
        assert.equal(m.collectors.agent_forward?.status, 'partial')
      } finally {
        await rm(path.dirname(root), {recursive: true, force: true})
      }
    } finally {
      await rm(work, {recursive: true, force: true})
      await stub.close()
    }
  })

  it('refuses --agent-url without --via agent, and a bad URL', {timeout: 60_000}, async () => {
    const a = await runCli(['capture', '--demo', '--agent-url', 'http://127.0.0.1:1', '--duration', '1s'], {timeoutMs: 30_000})
    assert.equal(a.code, 2)
    assert.match(a.stderr, /--agent-url only applies with --via agent/)
    const b = await runCli(['capture', '--demo', '--via', 'agent', '--agent-url', 'https://127.0.0.1:8126/x', '--duration', '1s'], {timeoutMs: 30_000})
    assert.equal(b.code, 2)
    assert.match(b.stderr, /only http/)
  })
})
