/**
 * capture --via agent: the intake as a tee in front of the user's Datadog
 * Agent. Every request the pipeline sends (trace payloads and side traffic
 * alike) is forwarded with its method, path, headers and body, and the
 * Agent's status, headers and body go back to the pipeline unchanged; the
 * intake keeps its copy of trace payloads exactly as in local mode.
 *
 * The ORIGINAL bytes go to the Agent, never the redacted ones: the Agent is
 * the user's own infrastructure, which the pipeline would send to anyway;
 * redaction is for the bundle, which leaves the user's hands.
 *
 * The pipeline must never wait on a dead Agent: dd-trace sends its exports
 * one after another on one connection with a 2 s timeout, so a tee that
 * waits backs the tracer up and spans are lost. The Agent gets AGENT_DEADLINE_MS;
 * after a failure the breaker opens and the pipeline is answered at once
 * (200 with a rate_by_service body, the intake's own answer), while one request
 * every AGENT_PROBE_INTERVAL_MS is also sent to the Agent in the background
 * to find out when it is back.
 */
import type {IncomingHttpHeaders, OutgoingHttpHeaders} from 'node:http'
import type {AgentForwardCounts} from '../bundle/format.js'
import {errorMessage} from '../errors.js'
import {AgentRequestError, type AgentClient, type AgentReply} from './agent-client.js'
import {CircuitBreaker, type BreakerState} from './circuit-breaker.js'

/**
 * How long the pipeline waits for the Agent's answer to one request. A local
 * Agent answers a payload in milliseconds (it decodes before replying, ~10 ms
 * per MB), and a busy host can add tens of ms of scheduling; 500 ms is ample
 * for both, yet leaves three quarters of dd-trace's 2 s request timeout for
 * reading the body and answering locally. Only the request that discovers an
 * outage waits this long: the breaker answers the rest at once.
 */
export const AGENT_DEADLINE_MS = 500
/** While the Agent is failing, how often one request is also tried on it in the background: often enough to notice its return within a flush or two, rarely enough to cost nothing. */
export const AGENT_PROBE_INTERVAL_MS = 1_000
/** close(): longest wait for a background probe to settle (it has the same deadline, so this is a safety margin). */
const PROBE_SETTLE_MS = 2 * AGENT_DEADLINE_MS + 1_000

/** Connection-level headers (RFC 9110 §7.6.1) and those the forwarder sets itself: never forwarded either way. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect'])

export interface ForwardRequest {
  method: string
  /** Path and query as received. */
  url: string
  headers: IncomingHttpHeaders
  /** The body as received; only read until relay() settles (the intake reuses its buffer). */
  body: Buffer
  /** Set for trace payloads: how many spans it holds (0 when undecodable). */
  trace?: {spans: number}
}

/** What the intake would answer by itself. */
export interface LocalReply {
  status: number
  body: string
  type: string
}

export interface RelayedReply {
  status: number
  headers: OutgoingHttpHeaders
  body: Buffer | string
  from: 'agent' | 'local'
}

/** The seam the intake calls when --via agent (IntakeOptions.forward). */
export interface AgentForwarder {
  /** The reply to give the pipeline: the Agent's, or `local` when it did not answer in time. Never rejects. */
  relay(req: ForwardRequest, local: LocalReply): Promise<RelayedReply>
}

export type TeeEvent =
  /** The Agent stopped answering; the pipeline is answered locally from now on. */
  | {kind: 'agent_down'; reason: string}
  /** A probe got through: requests go to the Agent again. */
  | {kind: 'agent_back'; missed_payloads: number; missed_spans: number}

export interface AgentTeeOptions {
  client: AgentClient
  deadlineMs?: number
  probeIntervalMs?: number
  /** The Agent did not answer /info before the window: answer locally until a probe gets through. */
  startDown?: boolean
  onEvent?: (e: TeeEvent) => void
  /** Monotonic ms, for the breaker; injectable for tests. */
  now?: () => number
}

export interface AgentTee extends AgentForwarder {
  readonly deadlineMs: number
  counts(): AgentForwardCounts
  state(): BreakerState
  /** Waits (bounded) for a background probe, then closes the connections to the Agent. Idempotent. */
  close(): Promise<void>
}

export function forwardHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {}
  const listed = connectionListed(headers.connection)
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue
    out[name] = value
  }
  return out
}

function connectionListed(value: string | string[] | undefined): Set<string> {
  if (value === undefined) return new Set()
  const text = Array.isArray(value) ? value.join(',') : value
  return new Set(text.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean))
}

function localReply(local: LocalReply): RelayedReply {
  return {status: local.status, headers: {'content-type': local.type}, body: local.body, from: 'local'}
}

function agentReply(r: AgentReply): RelayedReply {
  return {status: r.status, headers: forwardHeaders(r.headers), body: r.body, from: 'agent'}
}

export function createAgentTee(opts: AgentTeeOptions): AgentTee {
  const deadlineMs = opts.deadlineMs ?? AGENT_DEADLINE_MS
  const breaker = new CircuitBreaker({probeIntervalMs: opts.probeIntervalMs ?? AGENT_PROBE_INTERVAL_MS, startOpen: opts.startDown, now: opts.now})
  const c: AgentForwardCounts = {
    requests: 0,
    forwarded_ok: 0,
    agent_errors: 0,
    failed: 0,
    not_tried: 0,
    answered_locally: 0,
    trace_payloads: 0,
    trace_payloads_missed: 0,
    spans_missed: 0,
    outages: opts.startDown ? 1 : 0,
    probes: 0,
    last_error: null,
  }
  // what the Agent missed since it went down, for the agent_back event
  let missedSinceDown = {payloads: 0, spans: 0}
  let probe: Promise<void> | null = null
  let closing: Promise<void> | null = null

  const emit = (e: TeeEvent): void => {
    try {
      opts.onEvent?.(e)
    } catch {
      // a listener's failure is not the pipeline's problem
    }
  }

  const missed = (req: ForwardRequest): void => {
    if (!req.trace) return
    c.trace_payloads_missed++
    c.spans_missed += req.trace.spans
    missedSinceDown.payloads++
    missedSinceDown.spans += req.trace.spans
  }

  const answered = (req: ForwardRequest, reply: AgentReply): void => {
    if (reply.status >= 200 && reply.status < 300) c.forwarded_ok++
    else {
      c.agent_errors++
      missed(req)
    }
    if (breaker.success()) {
      emit({kind: 'agent_back', missed_payloads: missedSinceDown.payloads, missed_spans: missedSinceDown.spans})
      missedSinceDown = {payloads: 0, spans: 0}
    }
  }

  const failedOn = (req: ForwardRequest, e: unknown): void => {
    c.failed++
    missed(req)
    const reason = e instanceof AgentRequestError ? e.message : `the Agent request failed: ${errorMessage(e)}`
    c.last_error = reason
    if (breaker.failure()) {
      c.outages++
      emit({kind: 'agent_down', reason})
    }
  }

  const send = (req: ForwardRequest, body: Buffer): Promise<AgentReply> =>
    opts.client.request({method: req.method, path: req.url, headers: forwardHeaders(req.headers), body, timeoutMs: deadlineMs})

  const relay = async (req: ForwardRequest, local: LocalReply): Promise<RelayedReply> => {
    c.requests++
    if (req.trace) c.trace_payloads++
    const admission = closing ? 'skip' : breaker.admit()
    if (admission === 'try') {
      try {
        const reply = await send(req, req.body)
        answered(req, reply)
        return agentReply(reply)
      } catch (e) {
        failedOn(req, e)
        c.answered_locally++
        return localReply(local)
      }
    }
    c.answered_locally++
    if (admission === 'probe') {
      c.probes++
      // The pipeline is answered now; the probe carries a copy (the intake reuses the body's buffer), so a probe that gets through also delivers its payload.
      const copy = Buffer.from(req.body)
      probe = send(req, copy)
        .then((reply) => answered(req, reply), (e: unknown) => failedOn(req, e))
        .finally(() => {
          probe = null
        })
    } else {
      c.not_tried++
      missed(req)
    }
    return localReply(local)
  }

  const close = async (): Promise<void> => {
    let timer: NodeJS.Timeout | undefined
    if (probe) await Promise.race([probe, new Promise<void>((resolve) => (timer = setTimeout(resolve, PROBE_SETTLE_MS)))])
    clearTimeout(timer)
    opts.client.close()
  }

  return {
    deadlineMs,
    relay,
    counts: () => ({...c}),
    state: () => breaker.state,
    close: () => (closing ??= close()),
  }
}
