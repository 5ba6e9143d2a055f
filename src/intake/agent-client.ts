/**
 * HTTP to a Datadog Agent: one request at a time with a hard deadline, over
 * keep-alive connections (dd-trace keeps one open too, and a new connection
 * per payload would add a handshake to every forward), and the Agent's
 * `/info`. Used by the tee (capture --via agent) and replay --to-agent.
 */
import http, {type IncomingHttpHeaders, type OutgoingHttpHeaders} from 'node:http'
import {errorMessage} from '../errors.js'
import type {AgentInfoRecord} from '../bundle/format.js'
import type {AgentUrl} from './agent-url.js'

/** /info before the window: a local Agent answers in milliseconds; 2 s tolerates a busy one without holding up the capture. */
export const AGENT_INFO_TIMEOUT_MS = 2_000
/** Largest Agent reply read: rate_by_service and /info are a few KB, remote-config replies can reach a few MB. */
export const MAX_AGENT_REPLY_BYTES = 8 * 1024 * 1024
/** Connections kept to the Agent: dd-trace sends traces on one, side traffic (telemetry, stats) may take a few more. */
const MAX_SOCKETS = 8

export interface AgentReply {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

export type AgentFailure = 'timeout' | 'network' | 'too_large'

/** The Agent gave no usable answer: it did not answer in time, the connection failed, or the reply was too large. */
export class AgentRequestError extends Error {
  constructor(
    readonly kind: AgentFailure,
    message: string,
  ) {
    super(message)
    this.name = 'AgentRequestError'
  }
}

export interface AgentRequest {
  method: string
  /** Path and query, as the client sent them. */
  path: string
  headers?: OutgoingHttpHeaders
  body?: Buffer
  /** The whole exchange (connect, send, reply) must fit in it. */
  timeoutMs: number
}

export class AgentClient {
  private readonly agent = new http.Agent({keepAlive: true, maxSockets: MAX_SOCKETS, scheduling: 'lifo'})

  constructor(readonly url: AgentUrl) {}

  /**
   * Resolves with the Agent's reply once it is read in full and the request
   * body has been handed to the OS (so the caller may reuse the body's buffer);
   * rejects with an AgentRequestError otherwise. After a rejection nothing more
   * is read from the body either: the request is destroyed first.
   */
  request(r: AgentRequest): Promise<AgentReply> {
    return new Promise((resolve, reject) => {
      let settled = false
      let current: http.ClientRequest | null = null
      let early: AgentReply | null = null
      const timer = setTimeout(() => {
        // A reply that came before the body was all sent (an early 413) is still the Agent's answer;
        // destroying the request first guarantees nothing more is read from the body.
        if (early) {
          current?.destroy()
          succeed(early)
        } else {
          fail(new AgentRequestError('timeout', `no answer from the Agent within ${r.timeoutMs} ms`))
        }
      }, r.timeoutMs)
      const fail = (e: AgentRequestError): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        current?.destroy()
        reject(e)
      }
      const succeed = (reply: AgentReply): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(reply)
      }
      const attempt = (mayRetry: boolean): void => {
        let sent = false
        let reply: AgentReply | null = null
        const maybeDone = (): void => {
          if (sent && reply) succeed(reply)
        }
        const headers: OutgoingHttpHeaders = {...r.headers}
        if (r.body !== undefined) headers['content-length'] = r.body.length
        let req: http.ClientRequest
        try {
          req = http.request({host: this.url.host, port: this.url.port, method: r.method, path: r.path, headers, agent: this.agent})
        } catch (e) {
          // an invalid header value or path: no request left the process
          return fail(new AgentRequestError('network', `cannot send to the Agent: ${errorMessage(e)}`))
        }
        current = req
        const bodyReleased = (): void => {
          sent = true
          maybeDone()
        }
        req.on('finish', bodyReleased)
        req.on('close', bodyReleased)
        req.on('error', (e: NodeJS.ErrnoException) => {
          if (settled || current !== req) return
          // The Agent closed an idle keep-alive connection just as we reused it: once more on a new one.
          if (mayRetry && req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) return attempt(false)
          fail(new AgentRequestError('network', describeNetworkError(e, this.url.origin)))
        })
        req.on('response', (res) => {
          const chunks: Buffer[] = []
          let size = 0
          res.on('data', (c: Buffer) => {
            size += c.length
            if (size > MAX_AGENT_REPLY_BYTES) fail(new AgentRequestError('too_large', `the Agent's reply is over ${MAX_AGENT_REPLY_BYTES} bytes`))
            else chunks.push(c)
          })
          res.on('end', () => {
            early = reply = {status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, size)}
            maybeDone()
          })
          res.on('error', (e) => fail(new AgentRequestError('network', `the Agent's reply broke off: ${errorMessage(e)}`)))
        })
        req.end(r.body)
      }
      attempt(true)
    })
  }

  /** Closes the kept connections. In-flight requests end on their own deadline. */
  close(): void {
    this.agent.destroy()
  }
}

function describeNetworkError(e: NodeJS.ErrnoException, origin: string): string {
  if (e.code === 'ECONNREFUSED') return `nothing listens at ${origin} (connection refused)`
  if (e.code === 'ECONNRESET') return `the Agent at ${origin} closed the connection`
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return `cannot resolve the Agent's host in ${origin}`
  return `cannot reach the Agent at ${origin}: ${e.code ?? e.message}`
}

/** Asks the Agent's /info once. Never throws: an Agent that cannot be asked is recorded as such. */
export async function fetchAgentInfo(client: AgentClient, timeoutMs = AGENT_INFO_TIMEOUT_MS): Promise<AgentInfoRecord> {
  const checkedAt = new Date()
  const t0 = performance.now()
  const record = (r: Partial<AgentInfoRecord>): AgentInfoRecord => ({
    reachable: false,
    http_status: null,
    version: null,
    endpoints: null,
    error: null,
    ...r,
    checked_at: checkedAt.toISOString(),
    duration_ms: Math.round(performance.now() - t0),
  })
  let reply: AgentReply
  try {
    reply = await client.request({method: 'GET', path: '/info', headers: {accept: 'application/json'}, timeoutMs})
  } catch (e) {
    return record({error: errorMessage(e)})
  }
  // Something answers: the Agent's receiver is up even when /info is not (Agents before 7.28 answer 404).
  if (reply.status !== 200) return record({reachable: true, http_status: reply.status, error: `/info answered ${reply.status}`})
  let info: unknown
  try {
    info = JSON.parse(reply.body.toString('utf8'))
  } catch {
    return record({reachable: true, http_status: 200, error: '/info is not JSON'})
  }
  const o = (typeof info === 'object' && info !== null ? info : {}) as {version?: unknown; endpoints?: unknown}
  return record({
    reachable: true,
    http_status: 200,
    version: typeof o.version === 'string' ? o.version : null,
    endpoints: Array.isArray(o.endpoints) ? o.endpoints.filter((x): x is string => typeof x === 'string') : null,
  })
}
