/**
 * An admin API answering nonsense, end to end through `vdiag capture --api`:
 * tiny HTTP servers that answer /health (or /tracing) with HTML, truncated
 * JSON, wrong types, a slow drip, an endless body, or nothing at all. Each
 * run must end by itself within the request timeouts with either a clear
 * one-paragraph error (exit 1, no bundle) or a clean metrics-only capture,
 * and never print a stack trace or an unhandled rejection.
 */
import {after, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readFileSync, readdirSync, rmSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import path from 'node:path'
import {runCli, type CliResult} from '../helpers/cli.js'
import {checksumMismatches, extractWithSystemTools, readManifest} from '../helpers/archive.js'
import type {TracingRecord} from '../../src/bundle/format.js'
import {assertCleanExit, assertOneLineError, workDir} from '../faults/helpers.js'

const work = workDir('vdiag-hostile-admin-')
after(() => rmSync(work, {recursive: true, force: true}))

/** Far above the 5 s request timeout plus attach and a 1 s capture; reaching it means vdiag hung. */
const RUN_LIMIT_MS = 45_000

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void

interface Fake {
  url: string
  /** Requests seen, as `METHOD /path`. */
  seen: string[]
  close(): Promise<void>
}

async function serve(handler: Handler): Promise<Fake> {
  const sockets = new Set<Socket>()
  const seen: string[] = []
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`)
    res.on('error', () => undefined)
    handler(req, res)
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  // The gRPC probe's HTTP/2 preface is not HTTP/1.1: Node answers 400 and closes, as a plain web server would.
  server.on('clientError', (_e, s) => s.destroy())
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const {port} = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {'content-type': type, 'content-length': Buffer.byteLength(body)})
  res.end(body)
}

const healthOk: Handler = (_req, res) => send(res, 200, 'application/json', '{"ok":true}')
const notFound: Handler = (_req, res) => send(res, 404, 'text/plain', '404 page not found\n')

/** A byte every 200 ms, for ever (until the client goes away). */
const drip: Handler = (req, res) => {
  res.writeHead(200, {'content-type': 'application/json'})
  res.write('{')
  const t = setInterval(() => res.write(' '), 200)
  req.socket.on('close', () => clearInterval(t))
}

/** An endless chunked body, as fast as the client reads it. */
const endless: Handler = (req, res) => {
  res.writeHead(200, {'content-type': 'application/json'})
  const chunk = Buffer.alloc(64 * 1024, 0x20)
  let gone = false
  req.socket.on('close', () => (gone = true))
  const pump = () => {
    while (!gone && res.write(chunk));
    if (!gone) res.once('drain', pump)
  }
  pump()
}

/** Headers never come. */
const hang: Handler = () => undefined

/** Routes /health and /tracing; everything else (the GraphQL probe, /metrics) is a 404. */
function pipeline(routes: {health?: Handler; tracing?: Handler; tracingPost?: Handler}): Handler {
  return (req, res) => {
    const p = (req.url ?? '/').split('?')[0]
    if (p === '/health') return (routes.health ?? healthOk)(req, res)
    if (p === '/tracing' && req.method === 'POST' && routes.tracingPost) return routes.tracingPost(req, res)
    if (p === '/tracing' && routes.tracing) return routes.tracing(req, res)
    return notFound(req, res)
  }
}

async function capture(name: string, handler: Handler): Promise<{r: CliResult; fake: Fake; out: string; cwd: string}> {
  const fake = await serve(handler)
  const cwd = path.join(work, name)
  mkdirSync(cwd)
  const out = path.join(cwd, 'bundle.tar.gz')
  try {
    const r = await runCli(['capture', '--api', fake.url, '--duration', '1s', '--interval', '1s', '--metrics-url', `${fake.url}/metrics`, '--output', out], {cwd, timeoutMs: RUN_LIMIT_MS, env: {TMPDIR: cwd}})
    assertCleanExit(r, name)
    return {r, fake, out, cwd}
  } finally {
    await fake.close()
  }
}

/** Exit 1, one error line naming what was tried (plus a hint), no bundle, nothing left behind. */
function assertClearError(name: string, run: {r: CliResult; out: string; cwd: string}, pattern: RegExp): void {
  const {r} = run
  assert.equal(r.code, 1, `${name}: ${r.stderr}`)
  const line = assertOneLineError(r.stderr.split('\n').filter((l) => !l.startsWith('warning:')).join('\n'), name)
  assert.match(line, pattern, name)
  assert.equal(existsSync(run.out), false, `${name}: no bundle`)
  assert.deepEqual(readdirSync(run.cwd), [], `${name}: nothing left behind (staging, partial files)`)
}

/** Exit 0, a verified bundle that says plainly why there are no spans. */
function assertMetricsOnly(name: string, run: {r: CliResult; out: string}, reason: RegExp): void {
  const {r} = run
  assert.equal(r.code, 0, `${name}: ${r.stderr}`)
  assert.match(r.stderr, /cannot turn on tracing/, name)
  const {root} = extractWithSystemTools(run.out)
  const m = readManifest(root)
  assert.deepEqual(checksumMismatches(root, m), [])
  assert.equal(m.counts.spans_kept, 0)
  assert.equal(m.collectors.tracing?.status, 'skipped')
  const t = JSON.parse(readFileSync(path.join(root, 'pipeline/tracing.json'), 'utf8')) as TracingRecord
  assert.equal(t.supported, false)
  assert.match(t.reason ?? '', reason, `${name}: ${t.reason}`)
}

describe('admin API answering nonsense on /health', {timeout: 300_000}, () => {
  test('HTML, truncated JSON and wrong types: a clear error naming /health', {timeout: 60_000}, async () => {
    const cases: [string, string, string, RegExp][] = [
      ['html', 'text/html', '<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>', /HTML/],
      ['truncated', 'application/json', '{"ok": tr', /not valid JSON/],
      ['ok-string', 'application/json', '{"ok":"yes"}', /"ok" set to "yes"/],
      ['array', 'application/json', '[{"ok":true}]', /no "ok" field/],
      ['null', 'application/json', 'null', /no "ok" field/],
    ]
    for (const [name, type, body, why] of cases) {
      const run = await capture(`health-${name}`, pipeline({health: (_req, res) => send(res, 200, type, body)}))
      assertClearError(name, run, /\/health/)
      assert.match(run.r.stderr, why, name)
      assert.deepEqual(run.fake.seen, ['GET /health'], `${name}: nothing after a failed health check`)
    }
  })

  test('a slow drip, a body that never ends, and headers that never come: errors within the timeout', {timeout: 60_000}, async () => {
    const cases: [string, Handler, RegExp][] = [
      ['drip', drip, /gave up after \d+ ms: the reply did not finish/],
      ['endless', endless, /larger than \d+ bytes/],
      ['hang', hang, /gave up after \d+ ms: no reply arrived/],
    ]
    for (const [name, handler, why] of cases) {
      const run = await capture(`health-${name}`, pipeline({health: handler}))
      assertClearError(name, run, /\/health/)
      assert.match(run.r.stderr, why, name)
    }
  })

  test('a Content-Length far beyond any honest reply is refused without reading it', {timeout: 60_000}, async () => {
    const run = await capture('health-huge-length', pipeline({
      health: (_req, res) => {
        res.writeHead(200, {'content-type': 'application/json', 'content-length': String(2 ** 40)})
        res.write('{"ok":true')
      },
    }))
    assertClearError('huge length', run, /larger than \d+ bytes/)
  })
})

describe('/health is fine, /tracing is not', {timeout: 300_000}, () => {
  const garbage: [string, Handler, RegExp][] = [
    ['html', (_req, res) => send(res, 200, 'text/html', '<html><body>Admin console</body></html>'), /HTML/],
    ['truncated', (_req, res) => send(res, 200, 'application/json', '{"supported": true, "vers'), /not valid JSON/],
    ['supported-string', (_req, res) => send(res, 200, 'application/json', '{"supported":"yes","version":1}'), /"supported": true/],
    ['malformed', (_req, res) => send(res, 200, 'application/json', '{"supported":true,"version":"1","max_duration_secs":-5,"levels":{}}'), /malformed/],
  ]
  // Two captures per test: each is a whole (metrics-only) capture, ~10 s on a loaded machine.
  for (const pair of [garbage.slice(0, 2), garbage.slice(2)]) {
    test(`garbage on GET /tracing (${pair.map(([n]) => n).join(', ')}): a clean metrics-only capture that says why`, {timeout: 60_000}, async () => {
      for (const [name, handler, why] of pair) {
        const run = await capture(`tracing-${name}`, pipeline({tracing: handler}))
        assertMetricsOnly(name, run, why)
        assert.ok(!run.fake.seen.includes('POST /tracing'), `${name}: no window may be requested`)
      }
    })
  }

  test('GET /tracing hangs or never ends: a clear error within the timeout', {timeout: 60_000}, async () => {
    for (const [name, handler, why] of [
      ['hang', hang, /gave up after \d+ ms/],
      ['endless', endless, /larger than \d+ bytes/],
    ] as const) {
      const run = await capture(`tracing-get-${name}`, pipeline({tracing: handler}))
      assertClearError(name, run, /\/tracing/)
      assert.match(run.r.stderr, why, name)
    }
  })

  test('GET /tracing fine, POST /tracing hangs or answers garbage: a clear error, and no window left behind by vdiag', {timeout: 60_000}, async () => {
    const status = JSON.stringify({supported: true, version: 1, max_duration_secs: 600, levels: ['info', 'debug'], window: null})
    for (const [name, post, why] of [
      ['hang', hang, /POST .*\/tracing.*gave up after \d+ ms/],
      ['garbage', ((_req, res) => send(res, 201, 'application/json', '{"window":{"id":7}}')) as Handler, /POST .*\/tracing.*malformed/],
    ] as const) {
      const run = await capture(`tracing-post-${name}`, pipeline({tracing: (req, res) => (req.method === 'DELETE' ? send(res, 404, 'application/json', '{}') : send(res, 200, 'application/json', status)), tracingPost: post}))
      assertClearError(name, run, why)
      // The POST may have opened a window the reply never told us about: vdiag asks for it to end.
      assert.ok(run.fake.seen.includes('DELETE /tracing'), `${name}: no DELETE after a failed POST: ${run.fake.seen.join(', ')}`)
    }
  })
})
