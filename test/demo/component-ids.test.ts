/**
 * `vdiag demo` with its component ids and the sink's credentials given as
 * flags: the ids show everywhere a user sees components (GetComponents,
 * /metrics, span meta, the /tracing filter), the sink sends basic auth that
 * its receiver checks, and the sink's `send` spans carry the URL with its
 * userinfo and the Authorization header (secrets vdiag's redaction must
 * remove). Bad flags are usage errors with a hint, like every vdiag command.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {describe, it} from 'node:test'
import {loadObservability} from '../../src/protocol/observability.js'
import {SPAN} from '../../src/protocol/tracing-control.js'
import {runCli, startCli} from '../helpers/cli.js'
import {openWindow, waitEnded, waitFor} from './helpers/demo-client.js'
import {TraceIntake} from './helpers/trace-intake.js'

const IDS = {source: 'nginx.files', transform: 'vrl-parse', sink: 'es_out'}
const USER = 'ingest'
/** A colon, an @ and a slash: the URL must percent-encode them, the header must not. */
const PASSWORD = 'p@ss:w0rd/x'
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`
const STOP_MS = 15_000

interface GrpcComponent {
  component_id: string
  component_type: string
  on_type: string
}

async function getComponents(api: string): Promise<GrpcComponent[]> {
  const {grpc, Service} = await loadObservability()
  const client = new Service(api.replace(/^http:\/\//, ''), grpc.credentials.createInsecure())
  try {
    return await new Promise((resolve, reject) =>
      client.GetComponents({}, {deadline: Date.now() + 15_000}, (err: Error | null, reply: {components: GrpcComponent[]}) => (err ? reject(err) : resolve(reply.components))),
    )
  } finally {
    client.close()
  }
}

function metricValue(text: string, name: string, id: string): number | undefined {
  const m = new RegExp(`^${name}\\{component_id="${id.replace(/[.]/g, '\\.')}"[^}]*\\} (\\S+)$`, 'm').exec(text)
  return m ? Number(m[1]) : undefined
}

function post(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {method: 'POST', headers: {'content-type': 'application/x-ndjson', ...headers}}, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end('{"probe":true}\n')
  })
}

describe('demo component ids and sink credentials from flags', {timeout: 180_000}, () => {
  it('ids appear in GetComponents, /metrics and spans; the sink authenticates and its send spans record the credentials', async () => {
    const demo = startCli([
      'demo', '--api-address', '127.0.0.1:0', '--metrics-address', '127.0.0.1:0',
      '--source-id', IDS.source, '--transform-id', IDS.transform, '--sink-id', IDS.sink,
      '--sink-auth', `${USER}:${PASSWORD}`,
    ])
    const intake = await new TraceIntake().start()
    try {
      const first = JSON.parse(await demo.waitForLine((l) => l.startsWith('{'), 60_000)) as {api: string; metrics: string; components: unknown; receiver: string; sink_auth: boolean}
      assert.deepEqual(first.components, IDS)
      assert.equal(first.sink_auth, true)
      assert.match(first.receiver, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.ok(!demo.stdout().includes(PASSWORD), 'the first line never prints the password')

      const components = await getComponents(first.api)
      assert.deepEqual(
        components.map((c) => [c.component_id, c.component_type, c.on_type]),
        [
          [IDS.sink, 'COMPONENT_TYPE_SINK', 'http'],
          [IDS.source, 'COMPONENT_TYPE_SOURCE', 'file'],
          [IDS.transform, 'COMPONENT_TYPE_TRANSFORM', 'remap'],
        ].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
      )

      // The sink's requests get through: it sends the credentials the receiver checks.
      const delivered = await waitFor(
        'the sink to deliver events',
        async () => {
          const text = await (await fetch(first.metrics)).text()
          const sent = metricValue(text, 'vector_component_sent_events_total', IDS.sink) ?? 0
          return sent > 0 ? text : undefined
        },
        60_000,
        250,
      )
      assert.equal(metricValue(delivered, 'vector_component_errors_total', IDS.sink), 0, 'no request was refused')
      assert.ok(!/component_id="(app_logs|parse_logs|http_out)"/.test(delivered), 'default ids are gone from /metrics')

      // The /tracing filter knows the new ids, and the old ones are unknown.
      const unknown = await openWindow(first.api, {duration_secs: 1, endpoint: intake.url, components: ['http_out']})
      assert.equal(unknown.status, 400, unknown.text)
      const opened = await openWindow(first.api, {duration_secs: 2, endpoint: intake.url, level: 'debug', components: [IDS.sink, IDS.source]})
      assert.equal(opened.status, 201, opened.text)
      const ended = await waitEnded(first.api, opened.json.window.id)
      assert.equal(ended.spans_started - ended.spans_dropped, intake.spans.length)
      assert.deepEqual(new Set(intake.spans.map((s) => s.meta[SPAN.meta.componentId])), new Set([IDS.sink, IDS.source]))
      for (const s of intake.spans.filter((x) => x.parent_id === 0n)) {
        assert.equal(s.resource, s.meta[SPAN.meta.componentId])
      }

      const sends = intake.spans.filter((s) => s.meta[SPAN.meta.componentId] === IDS.sink && s.name === 'send')
      assert.ok(sends.length > 0, 'send spans of the sink arrived')
      const expectedUrl = `http://${USER}:${encodeURIComponent(PASSWORD)}@${first.receiver.replace(/^http:\/\//, '')}/ingest`
      for (const s of sends) {
        assert.equal(s.meta['http.url'], expectedUrl)
        assert.equal(s.meta['http.request.headers.authorization'], BASIC)
        assert.equal(s.meta['http.method'], 'POST')
      }
      // The URL's userinfo decodes to exactly the credentials given.
      const url = new URL(sends[0].meta['http.url'])
      assert.deepEqual([decodeURIComponent(url.username), decodeURIComponent(url.password)], [USER, PASSWORD])

      // The receiver checks: no header or a wrong one is refused, the right one accepted.
      const ingest = `${first.receiver}/ingest`
      assert.equal(await post(ingest, {}), 401)
      assert.equal(await post(ingest, {authorization: `Basic ${Buffer.from(`${USER}:wrong`).toString('base64')}`}), 401)
      assert.equal(await post(ingest, {authorization: BASIC}), 200)
    } finally {
      await intake.close()
      demo.child.kill('SIGTERM')
      const timer = setTimeout(() => demo.child.kill('SIGKILL'), STOP_MS)
      const result = await demo.done
      clearTimeout(timer)
      assert.equal(result.code, 0, result.stderr)
    }
  })

  it('without --sink-auth the receiver takes unauthenticated requests and send spans have no credentials', async () => {
    const demo = startCli(['demo', '--api-address', '127.0.0.1:0', '--metrics-address', '127.0.0.1:0'])
    const intake = await new TraceIntake().start()
    try {
      const first = JSON.parse(await demo.waitForLine((l) => l.startsWith('{'), 60_000)) as {api: string; receiver: string; components: unknown; sink_auth: boolean}
      assert.deepEqual(first.components, {source: 'app_logs', transform: 'parse_logs', sink: 'http_out'})
      assert.equal(first.sink_auth, false)
      assert.equal(await post(`${first.receiver}/ingest`, {}), 200)
      const opened = await openWindow(first.api, {duration_secs: 1.5, endpoint: intake.url, components: ['http_out']})
      assert.equal(opened.status, 201, opened.text)
      await waitEnded(first.api, opened.json.window.id)
      const sends = intake.spans.filter((s) => s.name === 'send')
      assert.ok(sends.length > 0)
      for (const s of sends) {
        assert.equal(s.meta['http.url'], `${first.receiver}/ingest`)
        assert.equal(s.meta['http.request.headers.authorization'], undefined)
      }
    } finally {
      await intake.close()
      demo.child.kill('SIGTERM')
      const timer = setTimeout(() => demo.child.kill('SIGKILL'), STOP_MS)
      await demo.done
      clearTimeout(timer)
    }
  })

  const usage: [string, string[], RegExp][] = [
    ['an empty id', ['--source-id', ''], /--source-id must not be empty/],
    ['an id with whitespace', ['--transform-id', 'parse logs'], /--transform-id: "parse logs" contains whitespace/],
    ['the wildcard as an id', ['--sink-id', '*'], /--sink-id cannot be "\*"/],
    ['two equal ids', ['--source-id', 'x', '--sink-id', 'x'], /the source and the sink would both be "x"/],
    ['an id equal to another default', ['--sink-id', 'app_logs'], /the source and the sink would both be "app_logs"/],
    ['--sink-auth without a colon', ['--sink-auth', 'justuser'], /--sink-auth must be USER:PASS/],
    ['--sink-auth with an empty password', ['--sink-auth', 'user:'], /--sink-auth must be USER:PASS/],
  ]
  for (const [name, args, message] of usage) {
    it(`refuses ${name}: exit 2, message and hint, no stack`, async () => {
      const r = await runCli(['demo', '--api-address', '127.0.0.1:0', '--metrics-address', '127.0.0.1:0', ...args], {timeoutMs: 60_000})
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, /^Error: /)
      assert.match(r.stderr, message)
      assert.match(r.stderr, /\n {2}hint: /)
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
      assert.equal(r.stdout, '', 'nothing started, no address line')
    })
  }

  it('a port in use is exit 1 with a hint (BaseCommand error output)', async () => {
    const busy = http.createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => resolve()))
    try {
      const port = (busy.address() as AddressInfo).port
      const r = await runCli(['demo', '--api-address', `127.0.0.1:${port}`, '--metrics-address', '127.0.0.1:0'], {timeoutMs: 60_000})
      assert.equal(r.code, 1, r.stderr)
      assert.match(r.stderr, /(^|\n)Error: .*EADDRINUSE/)
      assert.match(r.stderr, /\n {2}hint: pick another port, or port 0 for a free one/)
      assert.doesNotMatch(r.stderr, /\n\s+at /)
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()))
    }
  })

  it('an unknown scenario is a usage error (exit 2)', async () => {
    const r = await runCli(['demo', '--scenario', 'nope'], {timeoutMs: 60_000})
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /^Error: /)
    assert.match(r.stderr, /hint: see vdiag demo --help/)
  })
})
