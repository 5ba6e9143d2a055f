/**
 * A minimal Datadog-Agent-compatible trace intake for the demo's tests:
 * decodes v0.4 (array of chunks of span maps) and v0.5 (dictionary + span
 * arrays) msgpack, ids as BigInt, and records every request it got.
 */
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {Unpackr} from 'msgpackr'

export interface IntakeSpan {
  trace_id: bigint
  span_id: bigint
  parent_id: bigint
  name: string
  resource: string
  service: string
  start: bigint
  duration: bigint
  error: number
  meta: Record<string, string>
  metrics: Record<string, number>
  /** When the intake received it (Date.now()). */
  receivedAt: number
}

export interface IntakeRequest {
  method: string
  path: string
  receivedAt: number
  spans: number
}

const unpackr = new Unpackr({int64AsType: 'bigint', mapsAsObjects: true, useRecords: false})

function big(v: unknown): bigint {
  if (typeof v === 'bigint') return v
  if (typeof v === 'number') return BigInt(Math.round(v))
  return 0n
}

function decodeV04(body: Buffer, receivedAt: number): IntakeSpan[] {
  const chunks = unpackr.unpack(body) as Record<string, unknown>[][]
  return chunks.flat().map((s) => ({
    trace_id: big(s.trace_id),
    span_id: big(s.span_id),
    parent_id: big(s.parent_id),
    name: String(s.name),
    resource: String(s.resource),
    service: String(s.service),
    start: big(s.start),
    duration: big(s.duration),
    error: Number(s.error ?? 0),
    meta: (s.meta ?? {}) as Record<string, string>,
    metrics: Object.fromEntries(Object.entries((s.metrics ?? {}) as Record<string, number | bigint>).map(([k, v]) => [k, Number(v)])),
    receivedAt,
  }))
}

function decodeV05(body: Buffer, receivedAt: number): IntakeSpan[] {
  const [dict, traces] = unpackr.unpack(body) as [string[], unknown[][][]]
  const str = (i: unknown) => dict[Number(i)]
  return traces.flat().map((s) => {
    const meta: Record<string, string> = {}
    for (const [k, v] of Object.entries(s[9] as Record<string, unknown>)) meta[str(k)] = str(v)
    const metrics: Record<string, number> = {}
    for (const [k, v] of Object.entries(s[10] as Record<string, unknown>)) metrics[str(k)] = Number(v)
    return {
      service: str(s[0]),
      name: str(s[1]),
      resource: str(s[2]),
      trace_id: big(s[3]),
      span_id: big(s[4]),
      parent_id: big(s[5]),
      start: big(s[6]),
      duration: big(s[7]),
      error: Number(s[8]),
      meta,
      metrics,
      receivedAt,
    }
  })
}

export class TraceIntake {
  readonly spans: IntakeSpan[] = []
  readonly requests: IntakeRequest[] = []
  readonly errors: string[] = []
  private server: http.Server | null = null
  url = ''

  async start(): Promise<this> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const receivedAt = Date.now()
        const path = req.url ?? '/'
        let decoded: IntakeSpan[] = []
        if (path === '/v0.4/traces' || path === '/v0.5/traces') {
          try {
            decoded = (path === '/v0.4/traces' ? decodeV04 : decodeV05)(Buffer.concat(chunks), receivedAt)
          } catch (err) {
            this.errors.push(`${path}: ${(err as Error).message}`)
            res.writeHead(400).end()
            return
          }
          this.spans.push(...decoded)
        }
        this.requests.push({method: req.method ?? '', path, receivedAt, spans: decoded.length})
        if (path.endsWith('/traces')) {
          res.writeHead(200, {'content-type': 'application/json'}).end('{"rate_by_service":{"service:,env:":1}}')
        } else {
          res.writeHead(404).end()
        }
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
    this.server = server
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    return this
  }

  async close(): Promise<void> {
    const server = this.server
    if (server === null) return
    this.server = null
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
