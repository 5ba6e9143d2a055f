/**
 * vdiag's embedded Datadog-Agent-compatible trace intake: the HTTP side.
 * Reads trace payloads (v0.4 / v0.5) up to the body limit, has them decoded
 * and hands them to the span store; answers dd-trace's side traffic so the
 * tracer stays quiet. Every refusal is an HTTP status, counted and reported,
 * never an exception out of the handler.
 */
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import type {PayloadRecord, WireVersion} from '../bundle/format.js'
import {VdiagError, errorMessage} from '../errors.js'
import {decodePayload} from './decode.js'
import {CLOSE_GRACE_MS, MAX_CONNECTIONS, MAX_REUSED_BODY_BYTES, REQUEST_TIMEOUT_MS, TIMEOUT_CHECK_INTERVAL_MS, resolveLimits, type IntakeLimits} from './limits.js'
import {discardBody, readBody} from './read-body.js'
import type {SpanStore, StoreCounts} from './store.js'
import type {AgentForwarder, LocalReply, RelayedReply} from './tee.js'

export const DEFAULT_INTAKE_HOST = '127.0.0.1'

const TRACE_PATHS: Readonly<Record<string, WireVersion>> = {'/v0.4/traces': 'v0.4', '/v0.5/traces': 'v0.5'}

/** Keeps the tracer's default sampling priority (1): every span is sent, P0 included. */
const RATES_BODY = '{"rate_by_service":{"service:,env:":1}}'

const RATES_REPLY: LocalReply = {status: 200, body: RATES_BODY, type: 'application/json'}

const MSGPACK_TYPES = new Set(['application/msgpack', 'application/x-msgpack', 'application/vnd.msgpack'])

export interface RejectInfo {
  status: number
  reason: string
  path: string
}

export interface IntakeOptions {
  store: SpanStore
  host?: string
  port?: number
  limits?: Partial<IntakeLimits>
  onPayload?: (p: PayloadRecord) => void
  onReject?: (r: RejectInfo) => void
  /**
   * --via agent (tee.ts): every request whose body was read is also forwarded,
   * and the pipeline gets the forwarder's reply (the Agent's, or this intake's
   * own when the Agent did not answer in time). Trace payloads are still
   * decoded and stored as without it.
   */
  forward?: AgentForwarder
}

export interface IntakeStats {
  requests: number
  /** Trace requests whose body was read in full. */
  trace_payloads: number
  /** Trace payloads answered 200 (stored, or dropped over --max-spans). */
  accepted: number
  bad_requests: number
  oversized: number
  not_found: number
  side_requests: number
  /** Requests that ended before their body did (client gone, read timeout). */
  aborted: number
  /** Trace body bytes read. */
  bytes_received: number
  last_payload_at: string | null
  store: StoreCounts
}

export interface Intake {
  /** `http://127.0.0.1:<port>`, for dd-trace's `url`. */
  url: string
  stats(): IntakeStats
  /** Stops accepting, lets requests in progress finish (up to a grace period), closes the server. Does not close the store. Idempotent. */
  close(): Promise<void>
}

function infoBody(limits: IntakeLimits): string {
  return JSON.stringify({
    version: 'vdiag',
    endpoints: ['/v0.4/traces', '/v0.5/traces', '/v0.6/stats', '/telemetry/proxy/', '/dogstatsd/v2/proxy'],
    feature_flags: [],
    // false: a tracer that asks must still send P0 chunks; vdiag wants every span
    client_drop_p0s: false,
    span_meta_structs: true,
    long_running_spans: false,
    span_events: false,
    config: {max_request_bytes: limits.maxBodyBytes},
  })
}

/** What the Agent answers on the endpoints dd-trace calls besides traces (null: not one of them). */
function sideReply(path: string, info: string): {status: number; body: string; type: string} | null {
  if (path === '/info') return {status: 200, body: info, type: 'application/json'}
  if (path.startsWith('/telemetry/proxy/')) return {status: 200, body: '{}', type: 'application/json'}
  // 200 matters here: on 404 dd-trace falls back to sending DogStatsD over UDP
  if (path === '/dogstatsd/v2/proxy' || path === '/v0.6/stats') return {status: 200, body: '', type: 'text/plain'}
  // remote configuration: 404 is how an Agent says it is off, and dd-trace then polls quietly
  if (path === '/v0.7/config') return {status: 404, body: '404 page not found\n', type: 'text/plain'}
  return null
}

/**
 * Bounds how many request bodies are in memory at once. Each slot keeps the
 * buffer its last body was read into, to read the next one into it.
 */
class Slots {
  private readonly free: number[]
  private readonly waiting: ((slot: number) => void)[] = []
  readonly scratch: (Buffer | null)[]

  constructor(n: number) {
    this.free = Array.from({length: n}, (_, i) => i)
    this.scratch = Array.from({length: n}, () => null)
  }

  acquire(): Promise<number> {
    const slot = this.free.pop()
    if (slot !== undefined) return Promise.resolve(slot)
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  release(slot: number, backing: Buffer | null): void {
    if (backing !== null && backing.length <= MAX_REUSED_BODY_BYTES && backing.length > (this.scratch[slot]?.length ?? 0)) this.scratch[slot] = backing
    const next = this.waiting.shift()
    if (next) next(slot)
    else this.free.push(slot)
  }
}

function payloadHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    if (name === 'content-type' || name === 'x-datadog-trace-count' || name.startsWith('datadog-meta-')) out[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return out
}

export async function startIntake(opts: IntakeOptions): Promise<Intake> {
  const limits = resolveLimits(opts.limits)
  const {store} = opts
  const slots = new Slots(limits.maxPayloadsInFlight)
  const info = infoBody(limits)
  const inFlight = new Set<Promise<void>>()
  const s = {requests: 0, trace_payloads: 0, accepted: 0, bad_requests: 0, oversized: 0, not_found: 0, side_requests: 0, aborted: 0, bytes_received: 0, last_payload_at: null as string | null}

  const notify = <T>(fn: ((x: T) => void) | undefined, x: T): void => {
    try {
      fn?.(x)
    } catch {
      // a listener's failure is not the tracer's problem
    }
  }

  const send = (res: ServerResponse, status: number, body: string, type: string, close = false): void => {
    if (res.headersSent || res.destroyed) return
    const headers: Record<string, string | number> = {'content-type': type, 'content-length': Buffer.byteLength(body)}
    // a body we stopped reading cannot be followed by another request on the same connection
    if (close) headers.connection = 'close'
    res.writeHead(status, headers)
    res.end(body)
  }

  const sendRelayed = (res: ServerResponse, r: RelayedReply, close = false): void => {
    if (res.headersSent || res.destroyed) return
    const headers = {...r.headers, 'content-length': Buffer.byteLength(r.body)}
    if (close) headers.connection = 'close'
    res.writeHead(r.status, headers)
    res.end(r.body)
  }

  const relay = (req: IncomingMessage, body: Buffer, local: LocalReply, trace?: {spans: number}): Promise<RelayedReply> =>
    opts.forward!.relay({method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body, ...(trace ? {trace} : {})}, local)

  const refuse = (res: ServerResponse, path: string, status: number, reason: string, close: boolean, relayed?: RelayedReply | null): void => {
    if (status === 413) s.oversized++
    else s.bad_requests++
    store.rejected({status, reason, path})
    notify(opts.onReject, {status, reason, path})
    if (relayed) sendRelayed(res, relayed, close)
    else send(res, status, JSON.stringify({error: reason}) + '\n', 'application/json', close)
  }

  async function traces(req: IncomingMessage, res: ServerResponse, path: string, version: WireVersion): Promise<void> {
    if (req.method !== 'PUT' && req.method !== 'POST') {
      res.setHeader('allow', 'PUT, POST')
      send(res, 405, 'method not allowed\n', 'text/plain', true)
      return
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
    // dd-trace always says msgpack; a missing type is read as msgpack too (the bytes decide)
    if (type !== '' && !MSGPACK_TYPES.has(type)) return refuse(res, path, 400, `unsupported content-type ${JSON.stringify(type)}: only msgpack trace payloads are accepted`, true)
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase()
    if (encoding !== 'identity' && encoding !== '') return refuse(res, path, 400, `unsupported content-encoding ${JSON.stringify(encoding)}`, true)
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > limits.maxBodyBytes) return refuse(res, path, 413, `body of ${declared} bytes is over the ${limits.maxBodyBytes}-byte limit`, true)

    const slot = await slots.acquire()
    let backing: Buffer | null = null
    try {
      if (req.destroyed) {
        s.aborted++
        return
      }
      const receivedAt = new Date()
      const read = await readBody(req, limits.maxBodyBytes, slots.scratch[slot])
      if (read.kind === 'aborted') {
        s.aborted++
        return
      }
      if (read.kind === 'too_large') return refuse(res, path, 413, `body is over the ${limits.maxBodyBytes}-byte limit`, true)
      backing = read.backing
      s.trace_payloads++
      s.bytes_received += read.body.length
      s.last_payload_at = receivedAt.toISOString()
      const decoded = decodePayload(version, read.body, limits)
      // --via agent: the pipeline gets the Agent's answer (the store's work starts only after it, so it never delays it)
      const undecodable = decoded.ok ? null : `undecodable ${version} payload: ${decoded.reason}`
      const relayed = opts.forward
        ? await relay(req, read.body, undecodable === null ? RATES_REPLY : {status: 400, body: JSON.stringify({error: undecodable}) + '\n', type: 'application/json'}, {spans: decoded.ok ? decoded.payload.spans : 0})
        : null
      if (!decoded.ok) return refuse(res, path, 400, `undecodable ${version} payload: ${decoded.reason}`, false, relayed)
      if (relayed) {
        // (the local replies below are then no-ops: send() skips a response already sent)
        sendRelayed(res, relayed)
        // Node writes a response out on the next tick, after pending promise callbacks, and storing
        // starts with a synchronous pass over the spans: let the reply leave first.
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
      const result = await store.accept({payload: decoded.payload, method: req.method, path, headers: payloadHeaders(req), receivedAt})
      if (result.status === 'failed') {
        notify(opts.onReject, {status: 500, reason: result.reason, path})
        send(res, 500, JSON.stringify({error: result.reason}) + '\n', 'application/json')
        return
      }
      s.accepted++
      if (result.status === 'stored') notify(opts.onPayload, result.record)
      send(res, 200, RATES_BODY, 'application/json')
    } finally {
      // the store is done with the body (written, decoded, re-encoded): its buffer can take the next one
      slots.release(slot, backing)
    }
  }

  async function side(req: IncomingMessage, res: ServerResponse, status: number, body: string, type: string): Promise<void> {
    if (opts.forward) return forwardSide(req, res, {status, body, type})
    const read = await discardBody(req, limits.maxBodyBytes)
    if (read === 'aborted') {
      s.aborted++
      return
    }
    if (read === 'too_large') {
      send(res, 413, JSON.stringify({error: 'body too large'}) + '\n', 'application/json', true)
      return
    }
    send(res, status, body, type)
  }

  /** --via agent: side traffic (and unknown paths) go to the Agent too, this intake's answer being the fallback; the body takes a slot like a payload's. */
  async function forwardSide(req: IncomingMessage, res: ServerResponse, local: LocalReply): Promise<void> {
    const slot = await slots.acquire()
    let backing: Buffer | null = null
    try {
      const read = await readBody(req, limits.maxBodyBytes, slots.scratch[slot])
      if (read.kind === 'aborted') {
        s.aborted++
        return
      }
      if (read.kind === 'too_large') {
        send(res, 413, JSON.stringify({error: 'body too large'}) + '\n', 'application/json', true)
        return
      }
      backing = read.backing
      sendRelayed(res, await relay(req, read.body, local))
    } finally {
      slots.release(slot, backing)
    }
  }

  function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]
    const version = TRACE_PATHS[path]
    if (version !== undefined) return traces(req, res, path, version)
    const reply = sideReply(path, info)
    if (reply === null) {
      s.not_found++
      return side(req, res, 404, '404 page not found\n', 'text/plain')
    }
    s.side_requests++
    return side(req, res, reply.status, reply.body, reply.type)
  }

  const server = createServer({requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS}, (req, res) => {
    s.requests++
    // a client resetting the connection must not become an unhandled 'error'
    req.on('error', () => undefined)
    res.on('error', () => undefined)
    const handled = route(req, res)
      .catch((e: unknown) => {
        // a bug, but only this request's
        notify(opts.onReject, {status: 500, reason: `intake error: ${errorMessage(e)}`, path: req.url ?? ''})
        if (!res.headersSent) send(res, 500, 'internal error\n', 'text/plain', true)
        else res.destroy()
      })
      .finally(() => inFlight.delete(handled))
    inFlight.add(handled)
  })
  server.maxConnections = MAX_CONNECTIONS
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // malformed HTTP or a read timeout: answer as Node's default handler would if nothing was sent yet, never throw
    const current = (socket as {_httpMessage?: {headersSent?: boolean}})._httpMessage
    if (socket.writable && !current?.headersSent) {
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request'
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    } else {
      socket.destroy()
    }
  })

  const host = opts.host ?? DEFAULT_INTAKE_HOST
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({host, port: opts.port ?? 0}, () => {
      server.off('error', reject)
      resolve()
    })
  }).catch((e: unknown) => {
    throw new VdiagError('failed', `cannot start the span intake on ${host}:${opts.port ?? 0}: ${errorMessage(e)}`, {
      hint: opts.port ? 'choose another port, or leave it out for a free one' : 'check that the loopback interface is up',
      cause: e,
    })
  })
  // after listen, a server error (e.g. EMFILE on accept) must not crash the process
  server.on('error', () => undefined)
  const address = server.address() as AddressInfo
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`

  let closing: Promise<void> | null = null
  const close = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeIdleConnections()
    let timer: NodeJS.Timeout | undefined
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_GRACE_MS)
    })
    await Promise.race([Promise.allSettled([...inFlight]), grace])
    clearTimeout(timer)
    server.closeAllConnections()
    await closed
  }

  return {
    url,
    stats: () => ({...s, store: store.counts()}),
    close: () => (closing ??= close()),
  }
}
