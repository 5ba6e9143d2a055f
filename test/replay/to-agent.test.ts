/**
 * replay --to-agent: a bundle's raw payloads re-sent to a stub Agent (a real
 * HTTP server) and into vdiag's own intake ("capture from a replay"), with
 * and without --shift-to-now, and what happens when the Agent refuses.
 */
import assert from 'node:assert/strict'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {gunzipSync} from 'node:zlib'
import {after, before, describe, it} from 'node:test'
import {unpack} from 'msgpackr'
import {ENTRY, type PayloadRecord, type SpanRecord} from '../../src/bundle/format.js'
import {openBundle} from '../../src/bundle/reader.js'
import {parseAgentUrl} from '../../src/intake/agent-url.js'
import {decodePayload} from '../../src/intake/decode.js'
import {resolveLimits} from '../../src/intake/limits.js'
import {startIntake} from '../../src/intake/server.js'
import {createSpanStore} from '../../src/intake/store.js'
import {sendPayloads, type PayloadSend} from '../../src/replay/to-agent.js'
import {runCli} from '../helpers/cli.js'
import {readIndex, readSpanFile, testSpan, v04, v05, type TestSpan} from '../intake/helpers.js'
import {startStubAgent, type StubAgent} from '../intake/stub-agent.js'

let work = ''
/** A real bundle: capture --demo (dd-trace 5 inside), v0.4 payloads. */
let demoBundle = ''

before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'vdiag-to-agent-'))
  demoBundle = path.join(work, 'demo.tar.gz')
  const r = await runCli(['capture', '--demo', '--duration', '2s', '--interval', '1s', '--output', demoBundle, '--json'], {timeoutMs: 150_000})
  assert.equal(r.code, 0, r.stderr)
})
after(async () => {
  if (work) await rm(work, {recursive: true, force: true})
})

/** A bundle folder as the store writes it (no manifest: sendPayloads reads only the payloads). */
async function syntheticBundle(payloads: {version: 'v0.4' | 'v0.5'; chunks: TestSpan[][]; headers?: Record<string, string>}[]): Promise<string> {
  const dir = await mkdtemp(path.join(work, 'synthetic-'))
  const store = await createSpanStore({dir, maxSpans: 1_000_000})
  const limits = resolveLimits()
  for (const p of payloads) {
    const body = p.version === 'v0.4' ? v04(p.chunks) : v05(p.chunks)
    const decoded = decodePayload(p.version, body, limits)
    assert.ok(decoded.ok)
    const r = await store.accept({payload: decoded.payload, method: 'PUT', path: `/${p.version}/traces`, headers: {'content-type': 'application/msgpack', 'x-datadog-trace-count': String(p.chunks.length), 'datadog-meta-lang': 'nodejs', ...p.headers}, receivedAt: new Date()})
    assert.equal(r.status, 'stored')
  }
  await store.close()
  return dir
}

interface WireSpanView {
  span_id: string
  trace_id: string
  name: string
  start: bigint
  duration: bigint
}

/** Spans of a raw body, decoded with msgpackr (independent of src/intake). */
function spansOf(body: Buffer, version: 'v0.4' | 'v0.5'): WireSpanView[] {
  const v = unpack(body)
  if (version === 'v0.4') {
    return (v as Record<string, unknown>[][]).flat().map((s) => ({span_id: String(s.span_id), trace_id: String(s.trace_id), name: s.name as string, start: BigInt(s.start as bigint), duration: BigInt(s.duration as number)}))
  }
  const [table, traces] = v as [string[], unknown[][][]]
  return traces.flat().map((s) => ({span_id: String(s[4]), trace_id: String(s[3]), name: table[s[1] as number], start: BigInt(s[6] as bigint), duration: BigInt(s[7] as number)}))
}

async function withStub<T>(fn: (stub: StubAgent) => Promise<T>): Promise<T> {
  const stub = await startStubAgent()
  try {
    return await fn(stub)
  } finally {
    await stub.close()
  }
}

describe('replay --to-agent', () => {
  it('sends every raw payload byte for byte to its endpoint with its content headers (CLI, real bundle)', {timeout: 60_000}, async () => {
    await withStub(async (stub) => {
      const r = await runCli(['replay', demoBundle, '--to-agent', stub.url, '--json'], {timeoutMs: 50_000})
      assert.equal(r.code, 0, r.stderr)
      const report = JSON.parse(r.stdout) as {payloads: number; accepted: number; not_accepted: number; spans: number; spans_accepted: number; shift_ns: string | null; results: PayloadSend[]}
      const opened = await openBundle(demoBundle)
      try {
        const index = await readIndex(opened.root)
        assert.ok(index.length >= 1)
        assert.deepEqual([report.payloads, report.accepted, report.not_accepted, report.shift_ns], [index.length, index.length, 0, null])
        assert.equal(report.spans_accepted, opened.manifest.counts.spans_kept)
        const got = stub.traces()
        assert.equal(got.length, index.length)
        for (const [i, p] of index.entries()) {
          const raw = await readFile(path.join(opened.root, p.file))
          assert.ok(got[i].body.equals(raw), `payload ${i} byte for byte`)
          assert.equal(got[i].method, p.method)
          assert.equal(got[i].url, p.path)
          for (const [name, value] of Object.entries(p.headers)) assert.equal(got[i].headers[name], value, name)
          assert.equal(got[i].headers['content-length'], String(raw.length))
        }
      } finally {
        await opened.cleanup()
      }
      // the text form: a line per payload, then the totals
      const text = await runCli(['replay', demoBundle, '--to-agent', stub.url], {timeoutMs: 50_000})
      assert.equal(text.code, 0, text.stderr)
      assert.match(text.stdout, /payload 000000 \/v0\.4\/traces \d+ spans, .* → 200/)
      assert.match(text.stdout, /(\d+) of \1 payloads accepted by http:\/\/127\.0\.0\.1:\d+/)
    })
  })

  it('drops Datadog-Client-Computed-Stats and keeps v0.5 on its endpoint', {timeout: 30_000}, async () => {
    const dir = await syntheticBundle([
      {version: 'v0.5', chunks: [[testSpan(), testSpan()]], headers: {'datadog-client-computed-stats': 'yes', 'datadog-meta-tracer-version': '5.132.0'}},
      {version: 'v0.4', chunks: [[testSpan()]]},
    ])
    await withStub(async (stub) => {
      const report = await sendPayloads(dir, {url: parseAgentUrl(stub.url, 'test'), shiftToNow: false})
      assert.equal(report.accepted, 2)
      const [a, b] = stub.traces()
      assert.equal(a.url, '/v0.5/traces')
      assert.equal(a.headers['datadog-client-computed-stats'], undefined)
      assert.equal(a.headers['datadog-meta-tracer-version'], '5.132.0')
      assert.equal(a.headers['x-datadog-trace-count'], '1')
      assert.ok(a.body.equals(await readFile(path.join(dir, 'spans/payloads/000000.msgpack'))))
      assert.equal(b.url, '/v0.4/traces')
    })
  })

  it('capture from a replay: vdiag\'s own intake gets the same spans back', {timeout: 60_000}, async () => {
    const opened = await openBundle(demoBundle)
    const dir = await mkdtemp(path.join(work, 'recapture-'))
    const store = await createSpanStore({dir, maxSpans: 1_000_000})
    const intake = await startIntake({store})
    try {
      const report = await sendPayloads(opened.root, {url: parseAgentUrl(intake.url, 'test'), shiftToNow: false})
      assert.equal(report.not_accepted, 0)
      await intake.close()
      await store.close()
      const original = gunzipSync(await readFile(path.join(opened.root, ENTRY.spans)))
        .toString('utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as SpanRecord)
      const again = await readSpanFile(dir)
      assert.equal(again.length, original.length)
      assert.ok(again.length > 0)
      // everything but nothing: the same spans, ids, names, times, tags, in the same payloads
      assert.deepEqual(again, original)
    } finally {
      await intake.close()
      await store.close().catch(() => undefined)
      await opened.cleanup()
    }
  })

  it('--shift-to-now moves every start by one amount so the last span ends now, keeping ids and durations (v0.4 and v0.5)', {timeout: 30_000}, async () => {
    const old = 1_700_000_000_000_000_000n
    const dir = await syntheticBundle([
      {version: 'v0.4', chunks: [[testSpan({start: old, duration: 1_000}), testSpan({start: old + 5_000n, duration: 6_000_000_000})]]},
      {version: 'v0.5', chunks: [[testSpan({start: old + 10_000n, duration: 2_000}), testSpan({start: old + 1n, duration: 3})], [testSpan({start: old + 20_000n, duration: 7})]]},
    ])
    const now = 1_795_000_000_123_456_789n
    await withStub(async (stub) => {
      const report = await sendPayloads(dir, {url: parseAgentUrl(stub.url, 'test'), shiftToNow: true, nowNs: () => now})
      assert.equal(report.accepted, 2)
      const index = await readIndex(dir)
      let latest = -1n
      let delta: bigint | null = null
      for (const [i, p] of index.entries()) {
        const before = spansOf(await readFile(path.join(dir, p.file)), p.version)
        const after = spansOf(stub.traces()[i].body, p.version)
        assert.equal(after.length, before.length)
        for (const [j, s] of after.entries()) {
          assert.deepEqual([s.span_id, s.trace_id, s.name, s.duration], [before[j].span_id, before[j].trace_id, before[j].name, before[j].duration])
          delta ??= s.start - before[j].start
          assert.equal(s.start - before[j].start, delta, 'one shift for every span')
          if (s.start + s.duration > latest) latest = s.start + s.duration
        }
        // the intake still reads it, and X-Datadog-Trace-Count still holds
        assert.ok(decodePayload(p.version, stub.traces()[i].body, resolveLimits()).ok)
        assert.equal(stub.traces()[i].headers['x-datadog-trace-count'], p.headers['x-datadog-trace-count'])
      }
      assert.equal(latest, now, 'the last span ends now')
      assert.equal(report.shift_ns, String(delta))
    })
  })

  it('--shift-to-now from the CLI on a real bundle: the last span ends within seconds of now', {timeout: 60_000}, async () => {
    await withStub(async (stub) => {
      const r = await runCli(['replay', demoBundle, '--to-agent', stub.url, '--shift-to-now', '--json'], {timeoutMs: 50_000})
      assert.equal(r.code, 0, r.stderr)
      const nowNs = BigInt(Date.now()) * 1_000_000n
      const spans = stub.traces().flatMap((t) => spansOf(t.body, 'v0.4'))
      assert.ok(spans.length > 0)
      const latest = spans.reduce((m, s) => (s.start + s.duration > m ? s.start + s.duration : m), 0n)
      const lag = Number((nowNs - latest) / 1_000_000n)
      assert.ok(lag >= 0 && lag < 60_000, `last span ended ${lag} ms before the check`)
    })
  })

  it('retries a refusal with backoff: 500, 500, 200 is accepted', {timeout: 30_000}, async () => {
    const dir = await syntheticBundle([{version: 'v0.4', chunks: [[testSpan()]]}])
    await withStub(async (stub) => {
      let calls = 0
      stub.reply = () => (++calls <= 2 ? {status: 500, body: 'busy'} : {status: 200, body: '{"rate_by_service":{}}'})
      const report = await sendPayloads(dir, {url: parseAgentUrl(stub.url, 'test'), shiftToNow: false, backoffMs: 10})
      assert.deepEqual([report.accepted, report.not_accepted], [1, 0])
      assert.deepEqual([report.results[0].attempts, report.results[0].status], [3, 200])
      assert.equal(stub.traces().length, 3)
      assert.ok(stub.traces().every((t) => t.body.equals(stub.traces()[0].body)), 'the same bytes every time')
    })
  })

  it('an Agent that always refuses: the payloads are listed and the exit code is 1', {timeout: 90_000}, async () => {
    await withStub(async (stub) => {
      stub.reply = () => ({status: 503, body: 'overloaded'})
      const r = await runCli(['replay', demoBundle, '--to-agent', stub.url], {timeoutMs: 80_000})
      assert.equal(r.code, 1, r.stderr)
      assert.match(r.stdout, /0 of (\d+) payloads accepted/)
      assert.match(r.stdout, /not accepted \(\d+\):\n {2}payload 000000 .* not accepted after 4 attempts: the Agent answered 503: overloaded/)
      const payloads = Number(/0 of (\d+) payloads/.exec(r.stdout)![1])
      assert.equal(stub.traces().length, payloads * 4, 'each payload tried the bounded number of times')
    })
  })

  it('a 400 is not retried; an Agent that is gone is given up on after a few payloads; bad index lines are listed', {timeout: 30_000}, async () => {
    const dir = await syntheticBundle([1, 2, 3, 4, 5].map(() => ({version: 'v0.4' as const, chunks: [[testSpan()]]})))
    await withStub(async (stub) => {
      stub.reply = () => ({status: 400, body: 'bad'})
      const report = await sendPayloads(dir, {url: parseAgentUrl(stub.url, 'test'), shiftToNow: false, backoffMs: 10})
      assert.equal(report.not_accepted, 5)
      assert.ok(report.results.every((r) => r.attempts === 1 && r.status === 400))

      await stub.setMode('dead')
      const gone = await sendPayloads(dir, {url: parseAgentUrl(stub.url, 'test'), shiftToNow: false, backoffMs: 10, timeoutMs: 2_000})
      assert.deepEqual(gone.results.map((r) => r.attempts), [4, 4, 4, 0, 0])
      assert.match(gone.results[0].error ?? '', /refused/)
      assert.match(gone.results[4].error ?? '', /not sent/)
    })
    // an index line pointing outside the payload folder is refused, never read
    const index = path.join(dir, ENTRY.payloadIndex)
    const lines = (await readFile(index, 'utf8')).split('\n').filter(Boolean)
    const evil = {...(JSON.parse(lines[1]) as PayloadRecord), file: '../../../etc/passwd'}
    await writeFile(index, [lines[0], JSON.stringify(evil), 'not json', lines[2]].join('\n') + '\n')
    await withStub(async (stub) => {
      const report = await sendPayloads(dir, {url: parseAgentUrl(stub.url, 'test'), shiftToNow: false})
      assert.deepEqual(report.results.map((r) => r.accepted), [true, false, false, true])
      assert.match(report.failures[0].error ?? '', /is not spans\/payloads\/000001\.msgpack/)
      assert.match(report.failures[1].error ?? '', /line 3 is not JSON/)
      assert.equal(stub.traces().length, 2)
    })
  })

  it('refuses --shift-to-now without --to-agent, and --to-agent with --html', {timeout: 30_000}, async () => {
    const a = await runCli(['replay', demoBundle, '--shift-to-now'], {timeoutMs: 20_000})
    assert.equal(a.code, 2)
    assert.match(a.stderr, /--shift-to-now only applies to --to-agent/)
    const b = await runCli(['replay', demoBundle, '--to-agent', 'http://127.0.0.1:1', '--html', path.join(work, 'x.html')], {timeoutMs: 20_000})
    assert.equal(b.code, 2)
  })
})
