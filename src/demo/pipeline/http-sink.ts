/**
 * The demo's `http` sink: collects a batch (up to batch size or a timeout),
 * encodes it as NDJSON and POSTs it to the receiver over one keep-alive
 * connection, retrying failed requests with capped exponential backoff.
 *
 * Stages: `wait` (idle, for input), `encode`, `send` (the request, own work
 * for a sink), `backoff` (after a failed request).
 */
import http from 'node:http'
import {setTimeout as sleep} from 'node:timers/promises'
import type {BoundedQueue} from './queue.js'
import {INGEST_PATH} from './receiver.js'
import type {ComponentRuntime} from './runtime.js'

/** Vector's http sink flushes a partial batch after `batch.timeout_secs` (1 s default). */
const BATCH_TIMEOUT_MS = 1000
const REQUEST_TIMEOUT_MS = 30_000
const BACKOFF_START_MS = 100
const BACKOFF_MAX_MS = 2000
/** After this many failed attempts the batch is dropped and counted as errors. */
const MAX_ATTEMPTS = 5

/** HTTP basic auth credentials (`--sink-auth USER:PASS`). */
export interface BasicAuth {
  user: string
  password: string
}

export interface HttpSinkOptions {
  /** The receiver's base URL (no path, no credentials). */
  url: string
  batchSize: number
  auth?: BasicAuth
  log(message: string): void
}

/** The `Authorization` header value for basic auth. */
export function basicAuthorization(auth: BasicAuth): string {
  return `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`
}

/**
 * Meta on every `send` span, as an HTTP client instrumentation would record
 * it: the request URL (with the credentials in its userinfo, the way users
 * write them into a sink's `uri`) and the authorization header. Both are
 * secrets a support bundle must not carry: vdiag's redaction has to remove them.
 */
function sendDetail(target: string, auth: BasicAuth | undefined): Record<string, string> {
  const url = new URL(target)
  if (auth === undefined) return {'http.method': 'POST', 'http.url': url.href}
  url.username = auth.user
  url.password = auth.password
  return {'http.method': 'POST', 'http.url': url.href, 'http.request.headers.authorization': basicAuthorization(auth)}
}

export class HttpSink {
  private running = false
  private loop: Promise<void> | null = null
  /** One connection, like Vector's http sink at concurrency 1: a slow destination is felt in full. */
  private readonly agent = new http.Agent({keepAlive: true, maxSockets: 1})
  private readonly target: string
  private readonly headers: http.OutgoingHttpHeaders
  private readonly detail: Record<string, string>

  constructor(
    private readonly rt: ComponentRuntime,
    private readonly input: BoundedQueue,
    private readonly opts: HttpSinkOptions,
  ) {
    this.target = `${opts.url}${INGEST_PATH}`
    this.headers = {'content-type': 'application/x-ndjson'}
    if (opts.auth !== undefined) this.headers.authorization = basicAuthorization(opts.auth)
    this.detail = sendDetail(this.target, opts.auth)
  }

  start(): void {
    this.running = true
    this.loop = this.run()
  }

  async stop(): Promise<void> {
    this.running = false
    this.input.close()
    await this.loop
    this.agent.destroy()
  }

  private async run(): Promise<void> {
    const rt = this.rt
    while (this.running) {
      rt.beginIteration()
      try {
        rt.stage('wait')
        const batch = await this.input.pop(this.opts.batchSize, BATCH_TIMEOUT_MS)
        if (batch === null) continue
        rt.stats.counters.received_events += batch.lines.length
        rt.stats.counters.received_bytes += batch.bytes
        rt.stage('encode')
        const body = Buffer.from(batch.lines.join('\n'))
        rt.count(batch.lines.length, body.length)
        await this.deliver(body, batch.lines.length)
      } catch (err) {
        rt.stats.counters.errors++
        this.opts.log(`${rt.identity.id}: ${(err as Error).message}`)
      } finally {
        rt.endIteration()
      }
    }
  }

  private async deliver(body: Buffer, events: number): Promise<void> {
    const rt = this.rt
    let backoff = BACKOFF_START_MS
    for (let attempt = 1; ; attempt++) {
      rt.stage('send', this.detail)
      const error = await this.post(body)
      if (error === null) {
        rt.count(events, body.length)
        rt.stats.counters.sent_events += events
        rt.stats.counters.sent_bytes += body.length
        return
      }
      rt.stats.counters.errors++
      if (attempt >= MAX_ATTEMPTS || !this.running) {
        this.opts.log(`${rt.identity.id}: dropped ${events} events after ${attempt} attempts: ${error}`)
        return
      }
      rt.stage('backoff')
      await sleep(backoff)
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS)
    }
  }

  /** Null on a 2xx answer, else the reason. */
  private post(body: Buffer): Promise<string | null> {
    return new Promise((resolve) => {
      const req = http.request(
        this.target,
        {
          method: 'POST',
          agent: this.agent,
          timeout: REQUEST_TIMEOUT_MS,
          headers: {...this.headers, 'content-length': body.length},
        },
        (res) => {
          res.resume()
          res.on('end', () => resolve(res.statusCode !== undefined && res.statusCode < 300 ? null : `HTTP ${res.statusCode}`))
          res.on('error', (err) => resolve(err.message))
        },
      )
      req.on('timeout', () => req.destroy(new Error('request timed out')))
      req.on('error', (err) => resolve(err.message))
      req.end(body)
    })
  }
}
