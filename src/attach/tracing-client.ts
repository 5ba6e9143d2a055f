/**
 * Client for the `/tracing` admin-API extension (docs/tracing-control.md):
 * status, open a window, end it early, and wait until it has `ended` (only
 * then are `spans_started`/`spans_dropped` final and every span sent).
 */
import {setTimeout as sleep} from 'node:timers/promises'
import {errorMessage, isVdiagError, type VdiagError} from '../errors.js'
import {TRACING_PATH, type OpenWindowRequest, type TracingLevel, type TracingStatus, type TracingWindow, type WindowState} from '../protocol/tracing-control.js'
import {attachError, HINT_API, HINT_TOKEN, quote} from './api-errors.js'
import {isObject, readJson, request, timeoutOf, type ApiTarget, type HttpReply} from './http.js'

/** Between status polls while waiting for `ended`: cheap on loopback, and small against the 2 s the spec allows after the last span. */
export const DEFAULT_POLL_MS = 250

/** Shortest timeout for one poll near the deadline, so the last poll can still succeed on a loaded host. */
export const MIN_POLL_TIMEOUT_MS = 250

/** Consecutive refused connections after which the pipeline is taken for dead (a restart would have lost the window anyway). */
export const MAX_REFUSED_POLLS = 3

export type TracingStatusResult =
  | {supported: true; status: TracingStatus; http: number}
  | {supported: false; reason: string; http: number | null}

export interface WaitForEndedOptions {
  /** Give up at this wall-clock time (epoch ms). */
  deadlineMs: number
  pollMs?: number
  signal?: AbortSignal
  /** The window we opened: a different id means ours is gone. */
  windowId?: string
}

export interface WaitForEndedResult {
  /** The last window seen (final when `ended`). */
  window: TracingWindow | null
  ended: boolean
  error?: string
}

const STATES: readonly WindowState[] = ['active', 'ending', 'ended']

/**
 * `GET /tracing`. Any answer that is not JSON with `"supported": true` means
 * "this pipeline cannot turn on tracing", with the reason in plain words; only
 * failing to reach the pipeline at all throws.
 */
export async function getTracingStatus(target: ApiTarget, signal?: AbortSignal): Promise<TracingStatusResult> {
  const reply = await request(target, {path: TRACING_PATH, signal})
  const http = reply.status
  const unsupported = (reason: string): TracingStatusResult => ({supported: false, reason, http})

  if (http === 401 || http === 403) {
    return unsupported(`the pipeline requires an admin token for /tracing (HTTP ${http}); pass it with --token or VDIAG_API_TOKEN`)
  }
  if (http === 404) return unsupported('the pipeline has no /tracing endpoint (HTTP 404), so it cannot turn on internal tracing')
  const parsed = readJson(reply)
  if (!parsed.ok) {
    if (reply.contentType === 'application/grpc') {
      return unsupported(`the pipeline answered /tracing with a gRPC "not implemented" reply (grpc-status ${reply.headers.get('grpc-status') ?? 'unset'}), as stock Vector does: it has no /tracing extension`)
    }
    return unsupported(`GET /tracing answered HTTP ${http}, and ${parsed.reason}`)
  }
  const body = parsed.value
  if (!isObject(body) || body.supported !== true) {
    const said = isObject(body) && body.supported === false ? 'the pipeline says tracing is not supported' : 'the reply does not say "supported": true'
    return unsupported(`GET /tracing answered HTTP ${http}: ${said}`)
  }
  if (http !== 200) return unsupported(`GET /tracing answered HTTP ${http} instead of 200`)
  const status = parseStatus(body)
  if (typeof status === 'string') return unsupported(`the /tracing reply says "supported": true but is malformed: ${status}`)
  return {supported: true, status, http}
}

/** `POST /tracing`: opens a window, or throws `tracing_conflict` (409) / `tracing_rejected` (400, 401, 404). */
export async function openWindow(target: ApiTarget, req: OpenWindowRequest, signal?: AbortSignal): Promise<TracingWindow> {
  const reply = await request(target, {method: 'POST', path: TRACING_PATH, json: req, signal})
  const what = reply.request
  const body = readJson(reply)
  const value = body.ok ? body.value : undefined
  const serverError = isObject(value) && typeof value.error === 'string' ? quote(value.error, target.token) : null

  if (reply.status === 201 || reply.status === 200) {
    const w = isObject(value) ? parseWindow(value.window) : 'the reply is not JSON'
    if (typeof w === 'string') throw badReply(target, reply, `the window in the reply is malformed: ${w}`)
    return w
  }
  if (reply.status === 409) {
    const w = isObject(value) ? parseWindow(value.window) : 'missing'
    const window = typeof w === 'string' ? null : w
    const until = window ? `until ${window.expires_at} (window ${window.id}, ${window.state})` : 'for an unknown time (the pipeline did not say)'
    throw attachError('tracing_conflict', `Another tracing window is already active on the pipeline, ${until}. Only one window can be open at a time.`, target.token, {
      hint: 'Wait until that window ends, then retry.',
      details: {request: what, http: 409, window, until: window?.expires_at ?? null, server_error: serverError},
    })
  }
  if (reply.status === 400) {
    throw attachError('tracing_rejected', `The pipeline refused to open a tracing window: ${serverError ?? 'no reason given'} (HTTP 400).`, target.token, {
      hint: 'Check the requested duration against the pipeline\'s max_duration_secs, and the level and components asked for.',
      details: {request: what, http: 400, server_error: serverError},
    })
  }
  if (reply.status === 401 || reply.status === 403) throw tokenRefused(target, reply)
  if (reply.status === 404) {
    throw attachError('tracing_rejected', `vdiag tried ${what} and the pipeline has no /tracing endpoint (HTTP 404), so it cannot turn on internal tracing.`, target.token, {
      hint: 'Capture without spans, or run a pipeline that implements the /tracing extension.',
      details: {request: what, http: 404},
    })
  }
  throw badReply(target, reply, serverError ? `HTTP ${reply.status}: ${serverError}` : `HTTP ${reply.status}`)
}

/** `DELETE /tracing`: ends the active window early; null when none is active or ending (404). */
export async function endWindow(target: ApiTarget, signal?: AbortSignal): Promise<TracingWindow | null> {
  const reply = await request(target, {method: 'DELETE', path: TRACING_PATH, signal})
  if (reply.status === 404) return null
  if (reply.status === 401 || reply.status === 403) throw tokenRefused(target, reply)
  const body = readJson(reply)
  if (reply.status !== 200) throw badReply(target, reply, `HTTP ${reply.status}`)
  const w = body.ok && isObject(body.value) ? parseWindow(body.value.window) : body.ok ? 'the reply is not an object' : body.reason
  if (typeof w === 'string') throw badReply(target, reply, `the window in the reply is malformed: ${w}`)
  return w
}

/**
 * Polls `GET /tracing` until the window is `ended` or the deadline passes.
 * Never throws: transient failures are retried, and a pipeline that is gone,
 * restarted, or stopped answering is reported through `error`.
 */
export async function waitForEnded(target: ApiTarget, opts: WaitForEndedOptions): Promise<WaitForEndedResult> {
  const pollMs = opts.pollMs !== undefined && opts.pollMs > 0 ? opts.pollMs : DEFAULT_POLL_MS
  let last: TracingWindow | null = null
  let lastError: string | undefined
  let refusedInRow = 0
  const canceled = (): WaitForEndedResult => ({window: last, ended: false, error: 'canceled while waiting for the tracing window to end'})

  for (;;) {
    if (opts.signal?.aborted) return canceled()
    const remaining = opts.deadlineMs - Date.now()
    if (remaining <= 0) {
      const state = last ? `still ${last.state}` : 'never seen'
      return {window: last, ended: false, error: `the tracing window was ${state} at the deadline${lastError ? `; last error: ${lastError}` : ''}`}
    }
    const pollTimeout = Math.max(MIN_POLL_TIMEOUT_MS, Math.min(timeoutOf(target), remaining))
    try {
      const st = await getTracingStatus({...target, timeoutMs: pollTimeout}, opts.signal)
      refusedInRow = 0
      if (!st.supported) {
        lastError = `GET /tracing stopped working: ${st.reason}`
      } else {
        const w = st.status.window
        if (!w) return {window: last, ended: false, error: 'the pipeline no longer reports any tracing window (was it restarted?)'}
        if (opts.windowId !== undefined && w.id !== opts.windowId) {
          return {window: last, ended: false, error: `the pipeline now reports another window (${w.id}) instead of ${opts.windowId} (was it restarted?)`}
        }
        last = w
        lastError = undefined
        if (w.state === 'ended') return {window: w, ended: true}
      }
    } catch (e) {
      if (isVdiagError(e) && e.code === 'interrupted') return canceled()
      lastError = errorMessage(e)
      if (isVdiagError(e) && e.details?.cause_code === 'ECONNREFUSED') {
        if (++refusedInRow >= MAX_REFUSED_POLLS) {
          return {window: last, ended: false, error: `the pipeline stopped answering before the window ended: ${lastError}`}
        }
      } else {
        refusedInRow = 0
      }
    }
    const wait = Math.min(pollMs, opts.deadlineMs - Date.now())
    if (wait > 0) {
      try {
        await sleep(wait, undefined, {signal: opts.signal})
      } catch {
        return canceled()
      }
    }
  }
}

// ---------- reply validation ----------

function parseStatus(body: Record<string, unknown>): TracingStatus | string {
  if (typeof body.version !== 'number') return '"version" is not a number'
  if (typeof body.max_duration_secs !== 'number' || !(body.max_duration_secs > 0)) return '"max_duration_secs" is not a positive number'
  if (!Array.isArray(body.levels) || !body.levels.every((l) => typeof l === 'string')) return '"levels" is not a list of strings'
  let window: TracingWindow | null = null
  if (body.window !== null && body.window !== undefined) {
    const w = parseWindow(body.window)
    if (typeof w === 'string') return `"window": ${w}`
    window = w
  }
  return {supported: true, version: body.version, max_duration_secs: body.max_duration_secs, levels: body.levels as TracingLevel[], window}
}

/** A checked copy of a Window, or what is wrong with it. */
export function parseWindow(v: unknown): TracingWindow | string {
  if (!isObject(v)) return 'not an object'
  const str = (k: string) => typeof v[k] === 'string'
  const num = (k: string) => typeof v[k] === 'number' && Number.isFinite(v[k])
  for (const k of ['id', 'started_at', 'expires_at', 'level', 'endpoint']) if (!str(k)) return `"${k}" is not a string`
  if (!STATES.includes(v.state as WindowState)) return `"state" is ${quote(JSON.stringify(v.state) ?? 'missing')}, not active/ending/ended`
  if (v.ended_at !== null && !str('ended_at')) return '"ended_at" is neither a string nor null'
  for (const k of ['sample_rate', 'spans_started', 'spans_dropped']) if (!num(k)) return `"${k}" is not a number`
  if (!Array.isArray(v.components) || !v.components.every((c) => typeof c === 'string')) return '"components" is not a list of strings'
  return {
    id: v.id as string,
    state: v.state as WindowState,
    started_at: v.started_at as string,
    expires_at: v.expires_at as string,
    ended_at: (v.ended_at as string | null) ?? null,
    level: v.level as TracingLevel,
    endpoint: v.endpoint as string,
    components: [...(v.components as string[])],
    sample_rate: v.sample_rate as number,
    spans_started: v.spans_started as number,
    spans_dropped: v.spans_dropped as number,
  }
}

function tokenRefused(target: ApiTarget, reply: HttpReply): VdiagError {
  const had = target.token ? 'the token vdiag sent was not accepted' : 'no token was sent'
  return attachError('tracing_rejected', `vdiag tried ${reply.request} and the pipeline refused it (HTTP ${reply.status}): it requires an admin token, and ${had}.`, target.token, {
    hint: HINT_TOKEN,
    details: {request: reply.request, http: reply.status},
  })
}

function badReply(target: ApiTarget, reply: HttpReply, why: string): VdiagError {
  return attachError('api_bad_reply', `vdiag tried ${reply.request} and could not use the reply: ${why}.`, target.token, {
    hint: HINT_API,
    details: {request: reply.request, http: reply.status},
  })
}

