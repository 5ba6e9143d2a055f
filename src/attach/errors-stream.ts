/**
 * Per-component error totals over the capture window. Vector publishes
 * `component_errors_total` through its admin API only as a stream: gRPC
 * `StreamComponentMetrics(ERRORS_TOTAL)` on >= 0.55, and the GraphQL
 * `componentErrorsTotals` subscription over WebSocket (legacy `graphql-ws`
 * protocol) on <= 0.54. Both are held open until the caller's signal fires.
 * Every network step has a deadline and every failure ends up in the result:
 * this never throws and never leaves a rejection unhandled.
 */
import type * as grpcTypes from '@grpc/grpc-js'
import type {WebSocket as WsSocket} from 'ws'
import type {ApiGeneration, CollectorStatus} from '../bundle/format.js'
import {errorMessage, isVdiagError} from '../errors.js'
import {describeNetworkError, displayUrl, quote} from './api-errors.js'
import {COMPONENT_ERRORS_SUBSCRIPTION} from './graphql-documents.js'
import {GRPC_MAX_RECEIVE_BYTES} from './grpc-client.js'
import {adminHeaders, endpointUrl, isObject, MAX_REPLY_BYTES, timeoutOf, type ApiTarget} from './http.js'

/** Vector >= 0.55 answers INVALID_ARGUMENT below this (its MIN_INTERVAL_MS). */
export const GRPC_MIN_INTERVAL_MS = 100
/** Vector <= 0.54's bounds on a subscription's `interval`. */
export const GRAPHQL_MIN_INTERVAL_MS = 10
export const GRAPHQL_MAX_INTERVAL_MS = 60_000
/**
 * After `stop` and a close frame, how long to wait for the server's close
 * before dropping the socket: the window has ended and must not be held open
 * by a server that does not answer.
 */
export const CLOSE_GRACE_MS = 1_000
/**
 * gRPC sends one message per component per tick; the messages of one tick
 * arrive together, so a tick is complete once this long has passed without a
 * new message (or a component repeats). Capped so a long interval does not
 * delay a sample.
 */
const MAX_TICK_GATHER_MS = 250

const SUBSCRIPTION_ID = '1'
const LEGACY_SUBPROTOCOL = 'graphql-ws'
const ERRORS_METRIC = 'METRIC_NAME_ERRORS_TOTAL'

export interface ErrorsSample {
  /** Wall clock of the tick, RFC 3339. */
  at: string
  /** Cumulative error count per component id. */
  components: Record<string, number>
}

export interface StreamErrorsOptions {
  /** Asked-for tick interval; clamped to what the API accepts (gRPC >= 100 ms, GraphQL 10..60000 ms). */
  intervalMs: number
  /** The window: the stream is stopped and closed when it fires. */
  signal: AbortSignal
  onSample(sample: ErrorsSample): void
  /** Deadline to connect (and, for GraphQL, to get `connection_ack`); the target's timeout by default. */
  timeoutMs?: number
}

export interface ErrorsStreamResult {
  /**
   * ok: ran until the window ended with samples; partial: samples, then a
   * failure or an early end; failed / timeout: no sample because of one;
   * canceled: the window ended before the stream was up; skipped: no API
   * generation to stream from.
   */
  status: CollectorStatus
  samples: number
  transport: 'grpc' | 'graphql-ws' | null
  /** The interval actually requested from the server. */
  interval_ms: number
  error?: string
}

export interface ErrorsSource {
  target: ApiTarget
  /** `AdminClient.generation` from connectAdmin. */
  generation: ApiGeneration
}

export async function streamErrors(source: ErrorsSource, opts: StreamErrorsOptions): Promise<ErrorsStreamResult> {
  try {
    if (source.generation === 'grpc') return await viaGrpc(source.target, opts)
    if (source.generation === 'graphql') return await viaGraphqlWs(source.target, opts)
    return {status: 'skipped', samples: 0, transport: null, interval_ms: opts.intervalMs, error: 'the admin API generation is unknown'}
  } catch (e) {
    // Only set-up can throw here (a bad URL or token, a module that fails to load).
    return {status: 'failed', samples: 0, transport: null, interval_ms: opts.intervalMs, error: isVdiagError(e) ? e.message : quote(errorMessage(e), source.target.token)}
  }
}

/** Collects the pieces every transport shares: sample counting, the outcome, and delivering samples safely. */
class Outcome {
  samples = 0
  connected = false
  settled = false
  constructor(
    private readonly opts: StreamErrorsOptions,
    readonly transport: 'grpc' | 'graphql-ws',
    readonly intervalMs: number,
    private readonly token: string | undefined,
  ) {}

  /** Hands a sample to the caller; returns why it failed when the callback threw (the stream then ends). */
  deliver(sample: ErrorsSample): string | undefined {
    // Counted first: the callback may end the window, and the result is taken right then.
    this.samples++
    try {
      this.opts.onSample(sample)
      return undefined
    } catch (e) {
      this.samples--
      return `recording a sample failed: ${errorMessage(e)}`
    }
  }

  /** The result for an end caused by `error` (or by the window when undefined). */
  result(error?: string, timedOut = false): ErrorsStreamResult {
    const base = {samples: this.samples, transport: this.transport, interval_ms: this.intervalMs}
    if (error === undefined) {
      if (!this.connected) return {...base, status: 'canceled', error: 'the window ended before the stream was connected'}
      if (this.samples === 0) return {...base, status: 'timeout', error: 'no sample arrived before the window ended'}
      return {...base, status: 'ok'}
    }
    const text = quote(error, this.token)
    if (this.samples > 0) return {...base, status: 'partial', error: text}
    return {...base, status: timedOut ? 'timeout' : 'failed', error: text}
  }
}

// ---------- gRPC (Vector >= 0.55) ----------

type StreamMethod = (req: unknown, md: grpcTypes.Metadata) => grpcTypes.ClientReadableStream<unknown>

async function viaGrpc(target: ApiTarget, opts: StreamErrorsOptions): Promise<ErrorsStreamResult> {
  const intervalMs = Math.max(GRPC_MIN_INTERVAL_MS, Math.round(opts.intervalMs))
  const timeoutMs = opts.timeoutMs ?? timeoutOf(target)
  const url = endpointUrl(target, '/')
  const auth = adminHeaders(target).authorization
  const outcome = new Outcome(opts, 'grpc', intervalMs, target.token)
  if (opts.signal.aborted) return outcome.result()

  const {loadObservability} = await import('../protocol/observability.js')
  const {grpc, Service} = await loadObservability()
  const port = url.port || (url.protocol === 'https:' ? '443' : '80')
  const address = `${url.hostname}:${port}`
  const client = new Service(address, url.protocol === 'https:' ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(), {
    // Same channel settings as GrpcAdminClient: no proxy from the environment, bounded replies, no silent retries.
    'grpc.enable_http_proxy': 0,
    'grpc.max_receive_message_length': GRPC_MAX_RECEIVE_BYTES,
    'grpc.enable_retries': 0,
  })
  const what = `gRPC StreamComponentMetrics on ${displayUrl(target.url)}`

  return new Promise<ErrorsStreamResult>((resolve) => {
    let call: grpcTypes.ClientReadableStream<unknown> | undefined
    let batch: ErrorsSample | undefined
    let gatherTimer: NodeJS.Timeout | undefined

    const flush = (): string | undefined => {
      if (gatherTimer !== undefined) clearTimeout(gatherTimer)
      gatherTimer = undefined
      const sample = batch
      batch = undefined
      return sample === undefined ? undefined : outcome.deliver(sample)
    }
    const finish = (error?: string, timedOut = false) => {
      if (outcome.settled) return
      outcome.settled = true
      const failedDelivery = flush()
      opts.signal.removeEventListener('abort', onAbort)
      call?.cancel()
      client.close()
      resolve(outcome.result(error ?? failedDelivery, timedOut))
    }
    const onAbort = () => finish()
    opts.signal.addEventListener('abort', onAbort, {once: true})

    client.waitForReady(Date.now() + timeoutMs, (err) => {
      if (outcome.settled) return
      if (err) {
        finish(`vdiag tried ${what} and could not connect within ${timeoutMs} ms (is the admin API at ${displayUrl(target.url)} up?)`, true)
        return
      }
      outcome.connected = true
      const md = new grpc.Metadata()
      if (auth) md.set('authorization', auth)
      const method = (client as unknown as Record<string, StreamMethod>).StreamComponentMetrics.bind(client)
      call = method({interval_ms: intervalMs, metric: ERRORS_METRIC}, md)
      call.on('data', (m: unknown) => {
        if (outcome.settled) return
        const id = isObject(m) && typeof m.component_id === 'string' ? m.component_id : undefined
        const total = isObject(m) && isObject(m.total) ? Number(m.total.value) : NaN
        if (id === undefined || !Number.isFinite(total)) {
          finish(`vdiag tried ${what} and could not use a message: ${JSON.stringify(m) ?? 'undefined'}`)
          return
        }
        // A component seen twice means a new tick has begun.
        if (batch !== undefined && Object.hasOwn(batch.components, id)) {
          const failed = flush()
          if (failed !== undefined) return finish(failed)
          // Delivering may have ended the window.
          if (outcome.settled) return
        }
        if (batch === undefined) {
          batch = {at: new Date().toISOString(), components: {}}
          gatherTimer = setTimeout(() => {
            const failed = flush()
            if (failed !== undefined) finish(failed)
          }, Math.min(intervalMs / 2, MAX_TICK_GATHER_MS))
        }
        batch.components[id] = total
      })
      call.on('error', (e: grpcTypes.ServiceError) => {
        if (outcome.settled) return
        finish(`vdiag tried ${what} and it failed: ${grpcReason(grpc, e)}`)
      })
      call.on('end', () => {
        if (outcome.settled) return
        finish(`the server ended ${what} before the window ended`)
      })
    })
  })
}

function grpcReason(grpc: typeof grpcTypes, e: grpcTypes.ServiceError): string {
  const S = grpc.status
  const detail = e.details || e.message || ''
  switch (e.code) {
    case S.UNIMPLEMENTED:
      return 'the server does not implement StreamComponentMetrics (gRPC status UNIMPLEMENTED)'
    case S.INVALID_ARGUMENT:
      return `the server refused the request (gRPC status INVALID_ARGUMENT: ${detail})`
    case S.UNAVAILABLE:
      return `the connection was lost (gRPC status UNAVAILABLE: ${detail})`
    case S.UNAUTHENTICATED:
    case S.PERMISSION_DENIED:
      return `access was refused (gRPC status ${S[e.code]})`
    default:
      return `gRPC status ${S[e.code] ?? e.code}${detail ? ` (${detail})` : ''}`
  }
}

// ---------- GraphQL over WebSocket (Vector <= 0.54) ----------

async function viaGraphqlWs(target: ApiTarget, opts: StreamErrorsOptions): Promise<ErrorsStreamResult> {
  const intervalMs = Math.min(GRAPHQL_MAX_INTERVAL_MS, Math.max(GRAPHQL_MIN_INTERVAL_MS, Math.round(opts.intervalMs)))
  const timeoutMs = opts.timeoutMs ?? timeoutOf(target)
  const url = endpointUrl(target, '/graphql')
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  const headers = adminHeaders(target)
  const outcome = new Outcome(opts, 'graphql-ws', intervalMs, target.token)
  if (opts.signal.aborted) return outcome.result()
  const {WebSocket} = await import('ws')
  const what = `the GraphQL subscription componentErrorsTotals at ${displayUrl(url.toString())}`

  return new Promise<ErrorsStreamResult>((resolve) => {
    let phase: 'connect' | 'ack' | 'streaming' = 'connect'
    let ackTimer: NodeJS.Timeout | undefined
    const ws: WsSocket = new WebSocket(url, LEGACY_SUBPROTOCOL, {
      headers,
      handshakeTimeout: timeoutMs,
      perMessageDeflate: false,
      followRedirects: false,
      maxPayload: MAX_REPLY_BYTES,
    })

    const send = (message: unknown) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message), () => undefined)
    }
    const finish = (error?: string, timedOut = false) => {
      if (outcome.settled) return
      outcome.settled = true
      if (ackTimer !== undefined) clearTimeout(ackTimer)
      opts.signal.removeEventListener('abort', onAbort)
      const result = outcome.result(error, timedOut)
      if (ws.readyState === WebSocket.CONNECTING) {
        ws.terminate()
        resolve(result)
        return
      }
      if (ws.readyState === WebSocket.CLOSED) {
        resolve(result)
        return
      }
      if (phase === 'streaming') send({id: SUBSCRIPTION_ID, type: 'stop'})
      const grace = setTimeout(() => {
        ws.terminate()
        resolve(result)
      }, CLOSE_GRACE_MS)
      ws.once('close', () => {
        clearTimeout(grace)
        resolve(result)
      })
      if (ws.readyState === WebSocket.OPEN) ws.close(1000)
    }
    const onAbort = () => finish()
    opts.signal.addEventListener('abort', onAbort, {once: true})

    ws.on('unexpected-response', (req, res) => {
      res.resume()
      req.destroy()
      const hint = res.statusCode === 404 ? ' (no WebSocket at /graphql: the GraphQL API is off or this is not Vector <= 0.54)' : ''
      finish(`vdiag tried ${what} and the server answered the WebSocket upgrade with HTTP ${res.statusCode}${hint}`)
    })
    ws.on('error', (e: Error) => {
      if (outcome.settled) return
      const timedOut = /handshake has timed out/i.test(e.message)
      const reason = timedOut ? `no WebSocket handshake within ${timeoutMs} ms` : describeNetworkError(e, target.token).reason
      finish(`vdiag tried ${what} and it failed: ${reason}`, timedOut)
    })
    ws.on('close', (code: number, reason: Buffer) => {
      if (outcome.settled) return
      const why = reason.length > 0 ? `: ${reason.toString('utf8')}` : ''
      finish(`the server closed the WebSocket of ${what} (code ${code}${why}) before the window ended`)
    })
    ws.on('open', () => {
      if (outcome.settled) return
      // One connection_init per socket: a second one is an error in this protocol.
      send({type: 'connection_init', payload: {}})
      phase = 'ack'
      ackTimer = setTimeout(() => finish(`vdiag tried ${what}: the server accepted the WebSocket but sent no connection_ack within ${timeoutMs} ms`, true), timeoutMs)
    })
    ws.on('message', (raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      if (outcome.settled) return
      let msg: Record<string, unknown>
      try {
        const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : Array.isArray(raw) ? Buffer.concat(raw).toString('utf8') : Buffer.from(raw).toString('utf8')
        const parsed: unknown = JSON.parse(text)
        if (!isObject(parsed) || typeof parsed.type !== 'string') throw new Error('no "type"')
        msg = parsed
      } catch {
        finish(`vdiag tried ${what} and the server sent a ${isBinary ? 'binary ' : ''}message that is not a graphql-ws message`)
        return
      }
      switch (msg.type) {
        case 'connection_ack':
          if (phase !== 'ack') return
          clearTimeout(ackTimer)
          ackTimer = undefined
          phase = 'streaming'
          outcome.connected = true
          send({
            id: SUBSCRIPTION_ID,
            type: 'start',
            payload: {query: COMPONENT_ERRORS_SUBSCRIPTION, variables: {interval: intervalMs}, operationName: 'VdiagComponentErrors'},
          })
          return
        case 'connection_error':
          finish(`vdiag tried ${what} and the server refused the connection: ${messageOf(msg.payload)}`)
          return
        case 'data':
        case 'next':
          if (msg.id !== SUBSCRIPTION_ID) return
          onData(msg.payload)
          return
        case 'error':
          if (msg.id !== SUBSCRIPTION_ID) return
          finish(`vdiag tried ${what} and the server returned errors: ${messageOf(msg.payload)}`)
          return
        case 'complete':
          if (msg.id !== SUBSCRIPTION_ID) return
          finish(`the server completed ${what} before the window ended`)
          return
        default:
          // `ka` keep-alives and anything newer: nothing to do.
          return
      }
    })

    const onData = (payload: unknown) => {
      if (!isObject(payload)) return finish(`vdiag tried ${what} and got a data message without a payload`)
      if (Array.isArray(payload.errors) && payload.errors.length > 0) {
        return finish(`vdiag tried ${what} and the server returned errors: ${messageOf(payload.errors)}`)
      }
      const list = isObject(payload.data) ? payload.data.componentErrorsTotals : undefined
      if (!Array.isArray(list)) return finish(`vdiag tried ${what} and the data has no componentErrorsTotals list`)
      const sample: ErrorsSample = {at: new Date().toISOString(), components: {}}
      for (const item of list as unknown[]) {
        const id = isObject(item) && typeof item.componentId === 'string' ? item.componentId : undefined
        const total = isObject(item) && isObject(item.metric) ? item.metric.errorsTotal : undefined
        if (id === undefined || typeof total !== 'number' || !Number.isFinite(total)) {
          return finish(`vdiag tried ${what} and could not use an entry: ${JSON.stringify(item) ?? 'undefined'}`)
        }
        sample.components[id] = total
      }
      const failed = outcome.deliver(sample)
      if (failed !== undefined) finish(failed)
    }
  })
}

/** The `message`s of a GraphQL error payload (an error object or a list of them). */
function messageOf(payload: unknown): string {
  const list = Array.isArray(payload) ? payload : [payload]
  const messages = list.slice(0, 3).map((e) => (isObject(e) && typeof e.message === 'string' ? e.message : JSON.stringify(e) ?? 'undefined'))
  return messages.join('; ') || 'no message'
}
