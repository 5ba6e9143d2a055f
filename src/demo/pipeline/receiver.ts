/**
 * The destination of the demo's `http` sink: a loopback HTTP server that
 * accepts NDJSON batches after a configurable latency (slow-sink's planted
 * cost), and, with `--sink-auth`, only with the right basic-auth header. It
 * also swallows dd-trace's DogStatsD proxy traffic, see tracing/dd-backend.ts.
 */
import http from 'node:http'
import type {AddressInfo} from 'node:net'

/** ±share of random jitter on the latency, so request times look like a real service. */
const LATENCY_JITTER = 0.1
export const INGEST_PATH = '/ingest'
export const DOGSTATSD_PROXY_PATH = '/dogstatsd/v2/proxy'

export class Receiver {
  receivedEvents = 0
  receivedBytes = 0
  /** Ingest requests refused for a missing or wrong Authorization header. */
  unauthorized = 0
  private server: http.Server | null = null
  private url = ''

  /** `authorization`: the exact header value required on ingest requests; none when undefined. */
  constructor(
    private readonly latencyMs: number,
    private readonly authorization?: string,
  ) {}

  get baseUrl(): string {
    return this.url
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => this.handle(req, res))
    // The sink holds one keep-alive connection; do not let idle sockets block close().
    server.keepAliveTimeout = 5000
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    this.server = server
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  async stop(): Promise<void> {
    const server = this.server
    if (server === null) return
    this.server = null
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let bytes = 0
    let newlines = 0
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length
      for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) newlines++
    })
    req.on('end', () => {
      if (req.url !== INGEST_PATH) {
        res.writeHead(req.url === DOGSTATSD_PROXY_PATH ? 200 : 404).end()
        return
      }
      if (this.authorization !== undefined && req.headers.authorization !== this.authorization) {
        this.unauthorized++
        res.writeHead(401, {'www-authenticate': 'Basic realm="vdiag-demo"', 'content-type': 'application/json'}).end('{"error":"unauthorized"}')
        return
      }
      const reply = () => {
        this.receivedEvents += newlines + (bytes > 0 ? 1 : 0)
        this.receivedBytes += bytes
        res.writeHead(200, {'content-type': 'application/json'}).end('{}')
      }
      if (this.latencyMs <= 0) reply()
      else setTimeout(reply, this.latencyMs * (1 + LATENCY_JITTER * (2 * Math.random() - 1)))
    })
  }
}
