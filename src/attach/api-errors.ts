/**
 * The wording of every admin-API failure: hints, URL display, token redaction
 * and the mapping of low-level network errors to plain words. Shared by the
 * HTTP and gRPC clients so a user sees the same advice whichever one failed.
 */
import {VdiagError, type ErrorCode, type VdiagErrorOptions} from '../errors.js'

export const HINT_API =
  "Check that the pipeline's admin API is enabled (`api.enabled: true` in the pipeline config) and that vdiag looks at the right address: compare `api.address` in the pipeline config with --api."
export const HINT_TOKEN = 'Pass the admin token with --token or the VDIAG_API_TOKEN environment variable.'

const REDACTED = '[redacted]'

/** Longest piece of a server's own text quoted in a message: enough to read the error, not a page of HTML. */
export const MAX_QUOTED_CHARS = 300

/** Removes every occurrence of the token (and of a `Bearer <token>` form) from text meant for a person or a log. */
export function redact(text: string, token?: string): string {
  if (!token) return text
  return text.split(token).join(REDACTED)
}

/** The URL as shown to the user: credentials in `user:pass@` never leave this function. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.username || u.password) {
      u.username = ''
      u.password = ''
    }
    return u.toString().replace(/\/$/, '')
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//')
  }
}

/** A short, single-line, redacted quote of a server's reply text. */
export function quote(text: string, token?: string): string {
  const oneLine = redact(text, token).replace(/\s+/g, ' ').trim()
  return oneLine.length > MAX_QUOTED_CHARS ? `${oneLine.slice(0, MAX_QUOTED_CHARS)}…` : oneLine
}

/** Plain words for the errors Node's fetch and sockets raise, keyed by errno-style code. */
const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'the connection was refused (nothing is listening on that port)',
  ECONNRESET: 'the connection was reset by the other side',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ENOTFOUND: 'the host name could not be resolved',
  EAI_AGAIN: 'the host name could not be resolved (temporary DNS failure)',
  ETIMEDOUT: 'the connection timed out',
  EADDRNOTAVAIL: 'the address is not available on this host',
  EPIPE: 'the connection was closed while sending',
  UND_ERR_SOCKET: 'the other side closed the connection',
  UND_ERR_CLOSED: 'the connection was closed',
  HPE_INVALID_CONSTANT: 'the reply is not HTTP/1.1 (is this port speaking another protocol?)',
  HPE_INVALID_VERSION: 'the reply is not HTTP/1.1 (is this port speaking another protocol?)',
  UND_ERR_HEADERS_OVERFLOW: 'the reply headers are too large',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'the reply was cut short (shorter than its Content-Length)',
}

export interface NetworkFailure {
  /** errno-style code when one was found, e.g. ECONNREFUSED. */
  code: string | null
  reason: string
}

/** Walks an error's `cause` chain (fetch wraps the socket error) for a code and readable text. */
export function describeNetworkError(e: unknown, token?: string): NetworkFailure {
  let cur: unknown = e
  for (let depth = 0; depth < 5 && cur; depth++) {
    const code = (cur as {code?: unknown}).code
    if (typeof code === 'string' && NETWORK_REASONS[code]) return {code, reason: NETWORK_REASONS[code]}
    const next = (cur as {cause?: unknown}).cause
    if (!next) break
    cur = next
  }
  const deepest = cur instanceof Error ? cur.message : String(cur)
  const code = typeof (cur as {code?: unknown})?.code === 'string' ? ((cur as {code: string}).code) : null
  return {code, reason: quote(deepest || 'unknown network error', token)}
}

/**
 * Builds an attach error. The message and details pass through redaction here,
 * once, so no caller can forget it. No `cause` is attached: a low-level error
 * object can carry request headers, and causes end up in logs.
 */
export function attachError(code: ErrorCode, message: string, token: string | undefined, options: Omit<VdiagErrorOptions, 'cause'> = {}): VdiagError {
  const details = options.details ? (redactDeep(options.details, token) as Record<string, unknown>) : undefined
  return new VdiagError(code, redact(message, token), {...options, hint: options.hint === undefined ? undefined : redact(options.hint, token), details})
}

function redactDeep(value: unknown, token: string | undefined): unknown {
  if (typeof value === 'string') return redact(value, token)
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, token))
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [redact(k, token), redactDeep(v, token)]))
  }
  return value
}
