/**
 * A stand-in for the Datadog Agent in tests: a real HTTP server on
 * 127.0.0.1 that records every request (method, path, headers, body) and
 * answers as told: `ok` (a chosen status/body per request), `slow` (reads the
 * request, never answers), or `dead` (the port is closed: connection
 * refused). It can come back on the same port.
 */
import {createServer, type IncomingHttpHeaders, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

export interface Received {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: Buffer
  /** The status the stub answered with; null while (or because) it hung. */
  status: number | null
}

export interface StubReply {
  status: number
  body: string
  headers?: Record<string, string>
}

export type StubMode = 'ok' | 'slow' | 'dead'

export const STUB_INFO = {version: '7.99.0-stub', endpoints: ['/v0.4/traces', '/v0.5/traces', '/v0.6/stats', '/telemetry/proxy/'], feature_flags: [], config: {}}

export interface StubAgent {
  url: string
  port: number
  received: Received[]
  /** Trace requests only. */
  traces(): Received[]
  /** What the next requests get in `ok` mode (per request: called with it). */
  reply: (r: Received) => StubReply
  mode(): StubMode
  setMode(m: StubMode): Promise<void>
  close(): Promise<void>
}

export const RATES_OK = '{"rate_by_service":{"service:,env:":1}}'

export async function startStubAgent(opts: {port?: number; reply?: (r: Received) => StubReply} = {}): Promise<StubAgent> {
  const received: Received[] = []
  const held = new Set<ServerResponse>()
  let current: StubMode = 'ok'
  let server: Server | null = null
  let port = opts.port ?? 0

  const stub: StubAgent = {
    url: '',
    port: 0,
    received,
    traces: () => received.filter((r) => r.url.endsWith('/traces')),
    reply:
      opts.reply ??
      ((r) => (r.url === '/info' ? {status: 200, body: JSON.stringify(STUB_INFO), headers: {'content-type': 'application/json'}} : {status: 200, body: RATES_OK, headers: {'content-type': 'application/json'}})),
    mode: () => current,
    setMode,
    close: () => setMode('dead'),
  }

  async function listen(): Promise<void> {
    const s = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const r: Received = {method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), status: null}
        received.push(r)
        if (current === 'slow') {
          held.add(res)
          res.on('close', () => held.delete(res))
          return
        }
        const answer = stub.reply(r)
        r.status = answer.status
        res.writeHead(answer.status, {'content-type': 'application/json', ...answer.headers})
        res.end(answer.body)
      })
    })
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject)
      s.listen(port, '127.0.0.1', () => resolve())
    })
    port = (s.address() as AddressInfo).port
    stub.port = port
    stub.url = `http://127.0.0.1:${port}`
    server = s
  }

  async function stop(): Promise<void> {
    const s = server
    server = null
    if (!s) return
    for (const res of held) res.destroy()
    const closed = new Promise<void>((resolve) => s.close(() => resolve()))
    s.closeAllConnections()
    await closed
  }

  async function setMode(m: StubMode): Promise<void> {
    if (m === 'dead') {
      current = m
      await stop()
      return
    }
    if (server === null) await listen()
    current = m
  }

  await listen()
  return stub
}
