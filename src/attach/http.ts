/**
 * The one way vdiag talks HTTP/1.1 to a pipeline's admin API: Node's global
 * fetch with a deadline on the whole exchange (headers and body), a cap on the
 * body read as a stream, the admin token as a bearer header, and errors that
 * say what was tried without ever containing the token.
 */
import {ExitCode, usageError, VdiagError} from '../errors.js'
import {attachError, describeNetworkError, displayUrl, HINT_API} from './api-errors.js'

export interface ApiTarget {
  /** Base URL of the admin API, e.g. `http://127.0.0.1:8686`. */
  url: string
  /** Sent as `Authorization: Bearer <token>` on every request. */
  token?: string
  /** Deadline for one whole request (connect, headers and body). */
  timeoutMs?: number
}

/**
 * The admin API answers from memory within milliseconds; 5 s still tolerates
 * a heavily loaded host, yet a person waiting sees a failure quickly.
 */
export const DEFAULT_TIMEOUT_MS = 5_000

/**
 * Admin replies are small JSON (a GraphQL page of 100 components with their
 * relations is tens of KiB). 8 MiB is far above any honest reply and stops an
 * endless or hostile body from filling memory.
 */
export const MAX_REPLY_BYTES = 8 * 1024 * 1024

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'DELETE'

export interface RequestOptions {
  method?: HttpMethod
  /** Path under the target URL, e.g. `/health`. */
  path: string
  /** Sent as a JSON body with `content-type: application/json`. */
  json?: unknown
  timeoutMs?: number
  maxBytes?: number
  /** Aborts the request early (e.g. Ctrl-C); reported as `interrupted`. */
  signal?: AbortSignal
}

export interface HttpReply {
  status: number
  /** Lower-cased media type without parameters, '' when absent. */
  contentType: string
  headers: Headers
  body: Buffer
  /** What was requested, for messages: `GET http://127.0.0.1:8686/health`. */
  request: string
}

export function timeoutOf(target: ApiTarget): number {
  return target.timeoutMs !== undefined && target.timeoutMs > 0 ? target.timeoutMs : DEFAULT_TIMEOUT_MS
}

/** Resolves a path against the target; a URL that is not http(s) is a usage error. */
export function endpointUrl(target: ApiTarget, path: string): URL {
  let base: URL
  try {
    base = new URL(target.url)
  } catch {
    throw usageError(`--api: "${displayUrl(target.url)}" is not a URL`, 'use the admin API base URL, e.g. --api http://127.0.0.1:8686')
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw usageError(`--api: "${displayUrl(target.url)}" must start with http:// or https://`, 'e.g. --api http://127.0.0.1:8686')
  }
  // fetch refuses URLs with credentials, and they would leak into messages.
  base.username = ''
  base.password = ''
  const prefix = base.pathname.replace(/\/+$/, '')
  return new URL(`${prefix}${path}`, base)
}

/** Headers sent on every admin request. */
export function adminHeaders(target: ApiTarget): Record<string, string> {
  const headers: Record<string, string> = {accept: 'application/json', 'user-agent': 'vdiag'}
  if (target.token) {
    // Checked here so a bad token fails with our message, not one from fetch that might echo it.
    if (!/^[\x21-\x7e]+$/.test(target.token)) {
      throw usageError('--token: the admin token contains spaces or characters that cannot be sent in an HTTP header', 'check the value of --token / VDIAG_API_TOKEN')
    }
    headers.authorization = `Bearer ${target.token}`
  }
  return headers
}

/**
 * Sends one request and reads the whole body (up to the cap) within the
 * deadline. Any status is returned; only failing to get a complete reply
 * throws: `api_unreachable` (network, timeout), `api_bad_reply` (too large),
 * `interrupted` (the caller's signal).
 */
export async function request(target: ApiTarget, opts: RequestOptions): Promise<HttpReply> {
  const method = opts.method ?? 'GET'
  const url = endpointUrl(target, opts.path)
  const what = `${method} ${displayUrl(url.toString())}`
  const headers = adminHeaders(target)
  const timeoutMs = opts.timeoutMs ?? timeoutOf(target)
  const maxBytes = opts.maxBytes ?? MAX_REPLY_BYTES
  let body: string | undefined
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json)
    headers['content-type'] = 'application/json'
  }

  if (opts.signal?.aborted) throw interrupted(what)
  const ac = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    ac.abort()
  }, timeoutMs)
  const onAbort = () => ac.abort()
  opts.signal?.addEventListener('abort', onAbort, {once: true})
  let phase: 'connect' | 'body' = 'connect'
  let received = 0
  try {
    const res = await fetch(url, {method, headers, body, signal: ac.signal, redirect: 'manual'})
    phase = 'body'
    const declared = Number(res.headers.get('content-length'))
    if (Number.isFinite(declared) && declared > maxBytes) {
      await res.body?.cancel().catch(() => {})
      throw tooLarge(target, what, maxBytes)
    }
    const chunks: Buffer[] = []
    if (res.body) {
      const reader = res.body.getReader()
      for (;;) {
        const {done, value} = await reader.read()
        if (done) break
        received += value.byteLength
        if (received > maxBytes) {
          await reader.cancel().catch(() => {})
          throw tooLarge(target, what, maxBytes)
        }
        chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength))
      }
    }
    return {
      status: res.status,
      contentType: (res.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase(),
      headers: res.headers,
      body: Buffer.concat(chunks),
      request: what,
    }
  } catch (e) {
    if (e instanceof VdiagError) throw e
    if (timedOut) {
      const during = phase === 'connect' ? 'no reply arrived' : `the reply did not finish (${received} bytes received)`
      throw attachError('api_unreachable', `vdiag tried ${what} and gave up after ${timeoutMs} ms: ${during}. The pipeline may be overloaded, stuck, or something else is listening on that port.`, target.token, {
        hint: HINT_API,
        details: {request: what, timeout_ms: timeoutMs, cause_code: 'TIMEOUT', reason: `no complete reply within ${timeoutMs} ms`},
      })
    }
    if (opts.signal?.aborted) throw interrupted(what)
    const failure = describeNetworkError(e, target.token)
    if (failure.reason === 'bad port') {
      // The fetch standard blocks some ports (e.g. 1, 6000, 6667); Node's fetch enforces it.
      failure.reason = `Node's fetch refuses to connect to port ${url.port} (a port the fetch standard blocks); run the admin API on another port`
    }
    const how = phase === 'connect' ? 'could not get a reply' : `got the start of a reply, but it broke off after ${received} bytes`
    throw attachError('api_unreachable', `vdiag tried ${what} and ${how}: ${failure.reason}.`, target.token, {
      hint: HINT_API,
      details: {request: what, cause_code: failure.code, reason: failure.reason},
    })
  } finally {
    clearTimeout(timer)
    opts.signal?.removeEventListener('abort', onAbort)
  }
}

export function replyText(reply: HttpReply): string {
  return reply.body.toString('utf8')
}

export type JsonResult = {ok: true; value: unknown} | {ok: false; reason: string}

/**
 * Parses a reply as JSON without throwing; `reason` says in plain words what
 * it was instead (HTML page, gRPC answer, truncated JSON, empty body).
 */
export function readJson(reply: HttpReply): JsonResult {
  if (reply.contentType === 'application/grpc' || reply.contentType.startsWith('application/grpc+')) {
    const status = reply.headers.get('grpc-status')
    return {ok: false, reason: `the server answered with a gRPC reply (content-type application/grpc${status ? `, grpc-status ${status}` : ''}), not JSON`}
  }
  const text = replyText(reply)
  if (text.trim() === '') return {ok: false, reason: 'the reply body is empty'}
  try {
    return {ok: true, value: JSON.parse(text)}
  } catch {
    if (/^\s*</.test(text)) return {ok: false, reason: `the reply is HTML or XML (content-type ${reply.contentType || 'not set'}), not JSON`}
    return {ok: false, reason: `the reply is not valid JSON (${reply.body.length} bytes, content-type ${reply.contentType || 'not set'}; truncated or another service?)`}
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function tooLarge(target: ApiTarget, what: string, maxBytes: number): VdiagError {
  return attachError('api_bad_reply', `vdiag tried ${what} and stopped reading: the reply is larger than ${maxBytes} bytes, far more than the admin API ever sends. Something other than the pipeline's admin API may be listening there.`, target.token, {
    hint: HINT_API,
    details: {request: what, max_bytes: maxBytes, reason: `the reply is larger than ${maxBytes} bytes`},
  })
}

function interrupted(what: string): VdiagError {
  return new VdiagError('interrupted', `${what} was canceled.`, {exitCode: ExitCode.Interrupted})
}
