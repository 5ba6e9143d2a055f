/**
 * Real dd-trace 5 in a child process sending to the intake, in v0.4 and v0.5.
 * A recording proxy between them keeps the request bodies as sent, to check
 * the stored raw payloads byte for byte.
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {createServer, request, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {readFile} from 'node:fs/promises'
import {describe, it} from 'node:test'
import {unpack} from 'msgpackr'
import {packageRoot} from '../../src/util/paths.js'
import {startHarness, readIndex, readSpanFile, waitFor} from './helpers.js'

const FIXTURE = path.join(packageRoot, 'test', 'intake', 'fixtures', 'dd-child.mjs')
const TRACES = 20
const SPANS_PER_TRACE = 4

interface Made {
  name: string
  span_id: string
  trace_id: string
  trace_id_128: string
  parent_id: string
  resource: string
  type?: string
  error?: number
  meta?: Record<string, string>
  metrics?: Record<string, number>
}

/** Forwards everything to target, keeping the bodies sent to the trace endpoints. */
async function recordingProxy(target: string): Promise<{url: string; bodies: {path: string; body: Buffer}[]; close(): Promise<void>}> {
  const t = new URL(target)
  const bodies: {path: string; body: Buffer}[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      if (req.url?.endsWith('/traces')) bodies.push({path: req.url, body})
      const headers = {...req.headers}
      delete headers.host
      const out = request({host: t.hostname, port: t.port, method: req.method, path: req.url, headers, agent: false}, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
      })
      out.on('error', () => {
        res.writeHead(502)
        res.end()
      })
      out.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function runChild(url: string, protocol: '0.4' | '0.5'): Promise<Made[]> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      INTAKE_URL: url,
      FIXTURE_TRACES: String(TRACES),
      DD_TRACE_AGENT_PROTOCOL_VERSION: protocol,
      DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false',
      DD_REMOTE_CONFIGURATION_ENABLED: 'false',
      DD_TRACE_STARTUP_LOGS: 'false',
      DD_CRASHTRACKING_ENABLED: 'false',
    }
    const child = spawn(process.execPath, [FIXTURE], {env, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (code !== 0) return reject(new Error(`fixture exited ${code ?? signal}: ${err}`))
      try {
        resolve(JSON.parse(out.trim()) as Made[])
      } catch (e) {
        reject(new Error(`fixture printed no span list: ${out} ${err}`, {cause: e}))
      }
    })
  })
}

/** Spans of a raw body, decoded independently of src/intake (msgpackr unpack), in wire order. */
function rawSpans(body: Buffer, version: 'v0.4' | 'v0.5'): {span_id: string; trace_id: string; parent_id: string; name: string}[] {
  const v = unpack(body)
  if (version === 'v0.4') return (v as Record<string, unknown>[][]).flat().map((s) => ({span_id: String(s.span_id), trace_id: String(s.trace_id), parent_id: String(s.parent_id), name: s.name as string}))
  const [table, traces] = v as [string[], unknown[][][]]
  return traces.flat().map((s) => ({span_id: String(s[4]), trace_id: String(s[3]), parent_id: String(s[5]), name: table[s[1] as number]}))
}

for (const protocol of ['0.4', '0.5'] as const) {
  const version = protocol === '0.4' ? 'v0.4' : 'v0.5'
  describe(`dd-trace 5 → intake (${version})`, () => {
    it('receives every span with exact ids, links, tags and byte-identical raw payloads', {timeout: 60_000}, async () => {
      const h = await startHarness()
      const proxy = await recordingProxy(h.intake.url)
      try {
        const made = await runChild(proxy.url, protocol)
        assert.equal(made.length, TRACES * SPANS_PER_TRACE)
        assert.ok(await waitFor(() => h.intake.stats().store.spans_kept >= made.length, 10_000), `spans kept: ${h.intake.stats().store.spans_kept}`)
        await h.intake.close()
        await h.store.close()
        assert.equal(h.rejects.length, 0, JSON.stringify(h.rejects))

        const records = await readSpanFile(h.dir)
        assert.equal(records.length, made.length)
        const byId = new Map(records.map((r) => [r.span_id, r]))
        assert.equal(byId.size, records.length, 'span ids are unique')
        for (const m of made) {
          const r = byId.get(m.span_id)
          assert.ok(r, `span ${m.name} ${m.span_id} arrived`)
          assert.equal(r.trace_id, m.trace_id)
          assert.equal(r.parent_id, m.parent_id)
          // 128-bit ids: the upper half reaches every span of the chunk, not only the first
          assert.equal(m.trace_id_128.length, 32)
          assert.equal(r.trace_id_high, m.trace_id_128.slice(0, 16))
          assert.equal(BigInt(`0x${m.trace_id_128.slice(16)}`).toString(), r.trace_id)
          assert.equal(r.name, m.name)
          assert.equal(r.resource, m.resource)
          assert.equal(r.service, 'fixture-svc')
          assert.equal(r.type, m.type)
          assert.equal(r.error, m.error ?? 0)
          for (const [k, v] of Object.entries(m.meta ?? {})) assert.equal(r.meta[k], v, `meta ${k}`)
          for (const [k, v] of Object.entries(m.metrics ?? {})) assert.equal(r.metrics[k], v, `metric ${k}`)
          assert.match(r.start, /^\d{19}$/)
          assert.match(r.duration, /^\d+$/)
        }

        // the stored raw bodies are exactly what the tracer sent, in order
        const index = await readIndex(h.dir)
        assert.equal(index.length, proxy.bodies.length)
        assert.ok(index.length >= 2, 'spans arrived in several payloads')
        let expectedOrder: string[] = []
        for (const [i, p] of index.entries()) {
          assert.equal(p.seq, i)
          assert.equal(p.version, version)
          assert.equal(p.path, `/${version}/traces`)
          assert.equal(p.method, 'PUT')
          assert.equal(p.reencoded, false)
          assert.equal(p.headers['content-type'], 'application/msgpack')
          assert.equal(p.headers['datadog-meta-lang'], 'nodejs')
          assert.equal(p.headers['x-datadog-trace-count'], String(p.traces))
          const stored = await readFile(path.join(h.dir, p.file))
          assert.ok(stored.equals(proxy.bodies[i].body), `payload ${i} is byte-identical`)
          assert.equal(proxy.bodies[i].path, p.path)
          assert.equal(p.size, stored.length)
          const spans = rawSpans(stored, version)
          assert.equal(spans.length, p.spans)
          expectedOrder = expectedOrder.concat(spans.map((s) => s.span_id))
          for (const s of spans) {
            const r = byId.get(s.span_id)!
            assert.equal(r.payload, p.seq)
            assert.equal(r.trace_id, s.trace_id)
            assert.equal(r.parent_id, s.parent_id)
          }
        }
        // the span file follows arrival order
        assert.deepEqual(
          records.map((r) => r.span_id),
          expectedOrder,
        )
        const counts = h.store.counts()
        assert.equal(counts.payloads, index.length)
        assert.equal(counts.traces, TRACES)
        assert.equal(counts.bad_payloads, 0)
      } finally {
        await proxy.close()
        await h.dispose()
      }
    })
  })
}
