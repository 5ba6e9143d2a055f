/**
 * Validation of a `POST /tracing` body (docs/tracing-control.md, "Opening a
 * window"). Every rejection is a 400 with a message naming the field.
 */
import {TRACING_LEVELS, type TracingLevel} from '../../protocol/tracing-control.js'

export const ALL_COMPONENTS = '*'

export interface ValidOpenRequest {
  durationSecs: number
  /** Normalised base URL, without a trailing slash. */
  endpoint: string
  level: TracingLevel
  /** As given (deduplicated); `["*"]` when absent. */
  components: string[]
  sampleRate: number
}

export type Validation = {ok: true; request: ValidOpenRequest} | {ok: false; error: string}

export function validateOpenRequest(body: unknown, maxDurationSecs: number, componentIds: readonly string[]): Validation {
  const fail = (error: string): Validation => ({ok: false, error})
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return fail('request body must be a JSON object')
  const b = body as Record<string, unknown>

  if (!('duration_secs' in b)) return fail('duration_secs is required')
  const duration = b.duration_secs
  if (typeof duration !== 'number' || !Number.isFinite(duration)) return fail('duration_secs must be a number')
  if (duration <= 0) return fail('duration_secs must be greater than 0')
  if (duration > maxDurationSecs) return fail(`duration_secs must be at most max_duration_secs (${maxDurationSecs})`)

  if (!('endpoint' in b)) return fail('endpoint is required')
  const parsed = parseEndpoint(b.endpoint)
  if ('error' in parsed) return fail(parsed.error)
  const endpoint = parsed.url

  let level: TracingLevel = 'info'
  if (b.level !== undefined) {
    if (typeof b.level !== 'string' || !(TRACING_LEVELS as readonly string[]).includes(b.level)) {
      return fail(`level must be one of ${TRACING_LEVELS.map((l) => `"${l}"`).join(', ')}`)
    }
    level = b.level as TracingLevel
  }

  let components = [ALL_COMPONENTS]
  if (b.components !== undefined) {
    if (!Array.isArray(b.components) || b.components.length === 0 || !b.components.every((c) => typeof c === 'string')) {
      return fail('components must be a non-empty array of component ids (or ["*"])')
    }
    const unknown = (b.components as string[]).filter((c) => c !== ALL_COMPONENTS && !componentIds.includes(c))
    if (unknown.length > 0) return fail(`unknown component id: ${unknown.map((c) => JSON.stringify(c)).join(', ')}`)
    components = [...new Set(b.components as string[])]
  }

  let sampleRate = 1
  if (b.sample_rate !== undefined) {
    const rate = b.sample_rate
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0 || rate > 1) {
      return fail('sample_rate must be a number greater than 0 and at most 1')
    }
    sampleRate = rate
  }

  return {ok: true, request: {durationSecs: duration, endpoint, level, components, sampleRate}}
}

function parseEndpoint(value: unknown): {url: string} | {error: string} {
  if (typeof value !== 'string' || value.length === 0) return {error: 'endpoint must be a non-empty string'}
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return {error: 'endpoint must be an absolute http:// or https:// URL'}
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return {error: `endpoint scheme must be http or https, not ${url.protocol.replace(/:$/, '')}`}
  }
  if (url.username || url.password) return {error: 'endpoint must not contain credentials'}
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    return {error: 'endpoint must be a base URL (scheme, host and port only); the trace paths /v0.4/traces and /v0.5/traces are appended'}
  }
  return {url: `${url.protocol}//${url.host}`}
}
