/**
 * `GET /health`, the first probe for every Vector version: it tells "nothing
 * there" from "something else there" from "pipeline shutting down" before any
 * protocol-specific call is made.
 */
import {attachError, HINT_API, quote} from './api-errors.js'
import {isObject, readJson, replyText, request, type ApiTarget} from './http.js'

export const HEALTH_PATH = '/health'

export async function checkHealth(target: ApiTarget, signal?: AbortSignal): Promise<{ok: true; status: number}> {
  const reply = await request(target, {path: HEALTH_PATH, signal})
  const what = reply.request
  const parsed = readJson(reply)
  const ok = parsed.ok && isObject(parsed.value) ? parsed.value.ok : undefined

  if (ok === true && reply.status >= 200 && reply.status < 300) return {ok: true, status: reply.status}

  if (ok === false || reply.status === 503) {
    // Vector answers 503 {"ok":false} while it drains on shutdown.
    const said = ok === false ? '{"ok":false}' : 'Service Unavailable'
    throw attachError('api_unhealthy', `vdiag tried ${what} and the pipeline reported itself unhealthy (HTTP ${reply.status}, ${said}): it is most likely shutting down (draining).`, target.token, {
      hint: 'Wait until the pipeline is running again, then retry; if it keeps failing, check the pipeline\'s own logs.',
      details: {request: what, http: reply.status},
    })
  }

  let why: string
  if (reply.status === 404) {
    why = 'the server there has no /health endpoint, so it is probably not a pipeline admin API (the Prometheus exporter or another service?)'
  } else if (reply.status === 401 || reply.status === 403) {
    why = `access was refused (HTTP ${reply.status}); Vector's /health needs no token, so a proxy or another service answers there`
  } else if (!parsed.ok) {
    why = `HTTP ${reply.status}, and ${parsed.reason}`
  } else if (!isObject(parsed.value) || !('ok' in parsed.value)) {
    why = `HTTP ${reply.status} with JSON that has no "ok" field: ${quote(replyText(reply), target.token)}`
  } else {
    why = `HTTP ${reply.status} with "ok" set to ${quote(JSON.stringify(parsed.value.ok), target.token)} instead of true or false`
  }
  throw attachError('api_bad_reply', `vdiag tried ${what} and did not get a pipeline health answer: ${why}.`, target.token, {
    hint: HINT_API,
    details: {request: what, http: reply.status},
  })
}
