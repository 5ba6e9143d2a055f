/**
 * Client for Vector >= 0.55's gRPC ObservabilityService (plaintext HTTP/2 on
 * the admin port). Only unary calls: GetMeta, GetComponents and the counter
 * snapshot built from GetComponents. Every call has a deadline; the channel
 * lives until close().
 */
import type * as grpcTypes from '@grpc/grpc-js'
import type {ComponentCounters, ComponentInfo} from '../bundle/format.js'
import type {ComponentKind} from '../protocol/tracing-control.js'
import {ExitCode, VdiagError, type ErrorCode} from '../errors.js'
import {attachError, displayUrl, HINT_API, HINT_TOKEN, quote} from './api-errors.js'
import {adminHeaders, endpointUrl, isObject, timeoutOf, type ApiTarget} from './http.js'

/** A whole component list with counters is well under 1 MiB even for thousands of components; 16 MiB bounds a hostile reply. */
export const GRPC_MAX_RECEIVE_BYTES = 16 * 1024 * 1024

const KIND_BY_ENUM: Record<string, ComponentKind> = {
  COMPONENT_TYPE_SOURCE: 'source',
  COMPONENT_TYPE_TRANSFORM: 'transform',
  COMPONENT_TYPE_SINK: 'sink',
}

export interface GrpcMeta {
  versionString: string
  hostname: string | null
}

export interface GrpcComponents {
  components: ComponentInfo[]
  counters: Record<string, ComponentCounters>
  /** Components left out of `components`, with why (e.g. an unknown kind from a newer Vector). */
  skipped: string[]
}

type UnaryMethod = (
  req: unknown,
  md: grpcTypes.Metadata,
  opts: grpcTypes.CallOptions,
  cb: (err: grpcTypes.ServiceError | null, res?: unknown) => void,
) => grpcTypes.ClientUnaryCall

export class GrpcAdminClient {
  private closed = false

  private constructor(
    private readonly target: ApiTarget,
    private readonly grpc: typeof grpcTypes,
    private readonly client: grpcTypes.Client,
    /** `host:port` the channel dials. */
    readonly address: string,
  ) {}

  /** Creates the channel; nothing is sent until the first call. */
  static async open(target: ApiTarget): Promise<GrpcAdminClient> {
    const url = endpointUrl(target, '/')
    adminHeaders(target) // validates the token before anything is sent
    const {loadObservability} = await import('../protocol/observability.js')
    const {grpc, Service} = await loadObservability()
    const port = url.port || (url.protocol === 'https:' ? '443' : '80')
    const address = `${url.hostname}:${port}`
    const creds = url.protocol === 'https:' ? grpc.credentials.createSsl() : grpc.credentials.createInsecure()
    const client = new Service(address, creds, {
      // Loopback only: never route the admin API through an HTTP proxy from the environment.
      'grpc.enable_http_proxy': 0,
      'grpc.max_receive_message_length': GRPC_MAX_RECEIVE_BYTES,
      // A failed call is reported, not silently retried past what the user asked for.
      'grpc.enable_retries': 0,
    })
    return new GrpcAdminClient(target, grpc, client, address)
  }

  async getMeta(deadlineMs?: number, signal?: AbortSignal): Promise<GrpcMeta> {
    const res = await this.unary('GetMeta', {}, deadlineMs, signal)
    if (!isObject(res) || typeof res.version !== 'string' || res.version === '') {
      throw this.badReply('GetMeta', `the reply has no version string: ${quote(JSON.stringify(res) ?? 'undefined', this.target.token)}`)
    }
    const hostname = typeof res.hostname === 'string' && res.hostname !== '' ? res.hostname : null
    return {versionString: res.version, hostname}
  }

  async getComponents(deadlineMs?: number, signal?: AbortSignal): Promise<GrpcComponents> {
    // limit 0 = all components (observability.proto).
    const res = await this.unary('GetComponents', {limit: 0}, deadlineMs, signal)
    if (!isObject(res) || !Array.isArray(res.components)) {
      throw this.badReply('GetComponents', 'the reply has no component list')
    }
    const out: GrpcComponents = {components: [], counters: {}, skipped: []}
    for (const c of res.components as unknown[]) {
      if (!isObject(c) || typeof c.component_id !== 'string' || c.component_id === '') {
        throw this.badReply('GetComponents', `a component has no id: ${quote(JSON.stringify(c) ?? 'undefined', this.target.token)}`)
      }
      const id = c.component_id
      out.counters[id] = countersOf(c.metrics)
      const kind = KIND_BY_ENUM[String(c.component_type)]
      if (!kind) {
        out.skipped.push(`component ${id} has unknown kind ${String(c.component_type)}; left out of the component list`)
        continue
      }
      const outputs = Array.isArray(c.outputs)
        ? (c.outputs as unknown[]).flatMap((o) => (isObject(o) && typeof o.output_id === 'string' ? [o.output_id] : []))
        : []
      out.components.push({id, kind, type: typeof c.on_type === 'string' ? c.on_type : '', outputs})
    }
    return out
  }

  /** Every component's cumulative counters now. Errors are not in GetComponents (Vector streams them only). */
  async snapshot(deadlineMs?: number, signal?: AbortSignal): Promise<Record<string, ComponentCounters>> {
    return (await this.getComponents(deadlineMs, signal)).counters
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.client.close()
  }

  private unary(method: 'GetMeta' | 'GetComponents', req: unknown, deadlineMs: number | undefined, signal?: AbortSignal): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error(`gRPC client for ${this.address} is closed`))
    const ms = deadlineMs ?? timeoutOf(this.target)
    const md = new this.grpc.Metadata()
    const auth = adminHeaders(this.target).authorization
    if (auth) md.set('authorization', auth)
    const fn = (this.client as unknown as Record<string, UnaryMethod>)[method].bind(this.client)
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(new VdiagError('interrupted', `gRPC ${method} was canceled.`, {exitCode: ExitCode.Interrupted}))
        return
      }
      const onAbort = () => call.cancel()
      const call = fn(req, md, {deadline: Date.now() + ms}, (err, res) => {
        signal?.removeEventListener('abort', onAbort)
        if (!err) return resolve(res)
        if (signal?.aborted) return reject(new VdiagError('interrupted', `gRPC ${method} was canceled.`, {exitCode: ExitCode.Interrupted}))
        reject(this.callError(method, err, ms))
      })
      signal?.addEventListener('abort', onAbort, {once: true})
    })
  }

  private what(method: string): string {
    return `gRPC ${method} on ${displayUrl(this.target.url)}`
  }

  private callError(method: string, err: grpcTypes.ServiceError, ms: number): VdiagError {
    const S = this.grpc.status
    const detail = quote(err.details || err.message || '', this.target.token)
    let code: ErrorCode = 'api_bad_reply'
    let hint = HINT_API
    let reason: string
    switch (err.code) {
      case S.DEADLINE_EXCEEDED:
        code = 'api_unreachable'
        reason = `no answer within ${ms} ms`
        break
      case S.UNAVAILABLE:
        code = 'api_unreachable'
        reason = unavailableReason(detail)
        break
      case S.UNIMPLEMENTED:
        reason = `the server does not implement ${method} (gRPC status UNIMPLEMENTED: not Vector >= 0.55's ObservabilityService)`
        break
      case S.UNAUTHENTICATED:
      case S.PERMISSION_DENIED:
        reason = `access was refused (gRPC status ${S[err.code]})`
        hint = HINT_TOKEN
        break
      case S.RESOURCE_EXHAUSTED:
        reason = `the reply is larger than ${GRPC_MAX_RECEIVE_BYTES} bytes or the server is overloaded (${detail})`
        break
      default:
        reason = `gRPC status ${S[err.code] ?? err.code}${detail ? ` (${detail})` : ''}`
    }
    return attachError(code, `vdiag tried ${this.what(method)} and it failed: ${reason}.`, this.target.token, {
      hint,
      details: {request: this.what(method), grpc_code: err.code, reason},
    })
  }

  private badReply(method: string, why: string): VdiagError {
    return attachError('api_bad_reply', `vdiag tried ${this.what(method)} and could not use the reply: ${why}.`, this.target.token, {
      hint: HINT_API,
      details: {request: this.what(method), reason: why},
    })
  }
}

/** grpc-js says "No connection established. Last error: <e> (<timestamp>). Resolution note: "; keep the cause in plain words. */
function unavailableReason(detail: string): string {
  const cause = detail
    .replace(/^No connection established\. Last error: /, '')
    .replace(/\s*Resolution note:.*$/, '')
    .replace(/\s*\(\d{4}-\d\d-\d\dT[^)]*\)\.?$/, '')
    .trim()
  if (/ECONNREFUSED/.test(cause)) return 'the connection was refused (nothing is listening on that port)'
  if (/Protocol error/i.test(cause)) return 'the server does not speak HTTP/2 (gRPC); an HTTP/1.1-only server such as Vector <= 0.54 answers like this'
  return `no HTTP/2 (gRPC) connection could be made${cause ? ` (${cause})` : ''}`
}

/** int64 counters arrive as decimal strings (longs: String); absent optional fields stay absent. */
function countersOf(metrics: unknown): ComponentCounters {
  const out: ComponentCounters = {}
  if (!isObject(metrics)) return out
  const map: [keyof ComponentCounters, string][] = [
    ['received_events', 'received_events_total'],
    ['sent_events', 'sent_events_total'],
    ['received_bytes', 'received_bytes_total'],
    ['sent_bytes', 'sent_bytes_total'],
  ]
  for (const [key, field] of map) {
    const v = metrics[field]
    if (v === undefined || v === null) continue
    const n = Number(v)
    if (Number.isFinite(n)) out[key] = n
  }
  return out
}
