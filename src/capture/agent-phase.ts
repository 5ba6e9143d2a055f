/**
 * capture --via agent around the tee (src/intake/tee.ts): the Agent's /info
 * is asked before the window (bounded, never fatal: the spans are kept in
 * the bundle whatever the Agent does), the tee runs during the window and
 * reports outages as they happen, and the manifest gets what became of the
 * forwarded requests.
 */
import type {AgentInfoRecord, AgentRecord, CollectorReport, PayloadRecord} from '../bundle/format.js'
import type {AgentClient} from '../intake/agent-client.js'
import type {AgentUrl} from '../intake/agent-url.js'
import type {AgentForwarder, AgentTee} from '../intake/tee.js'
import type {CaptureListener} from './events.js'

/** Seqs of re-encoded payloads listed in the manifest; the payload index flags every one of them anyway. */
const MAX_REENCODED_LISTED = 1_000

export interface AgentCheck {
  url: AgentUrl
  client: AgentClient
  info: AgentInfoRecord
}

/** Asks the Agent's /info, records it as the `agent` collector and warns when the Agent is not there. */
export async function checkAgent(url: AgentUrl, collectors: Record<string, CollectorReport>, log: CaptureListener): Promise<AgentCheck> {
  const {AgentClient, fetchAgentInfo} = await import('../intake/agent-client.js')
  const client = new AgentClient(url)
  const info = await fetchAgentInfo(client)
  if (!url.loopback) log({event: 'warning', code: 'agent_url', message: `the Datadog Agent at ${url.origin} is not on this machine: the pipeline's spans are forwarded there unredacted, as the pipeline itself would send them`})
  if (!info.reachable) {
    log({event: 'warning', code: 'agent_unreachable', message: `the Datadog Agent does not answer: ${info.error}. Capturing anyway: the spans are kept in the bundle, and forwarded once the Agent answers`})
  } else if (info.error) {
    log({event: 'warning', code: 'agent_info', message: `the Datadog Agent at ${url.origin} answers, but ${info.error}: forwarding to it anyway`})
  }
  collectors.agent = {
    status: !info.reachable ? 'failed' : info.error ? 'partial' : 'ok',
    duration_ms: info.duration_ms,
    ...(info.error ? {error: info.error} : {}),
    detail: info.reachable ? `Agent ${info.version ?? '(version unknown)'} at ${url.origin}` : `no Agent at ${url.origin}`,
  }
  return {url, client, info}
}

export interface CaptureAgent {
  readonly forwarder: AgentForwarder
  /** For IntakeOptions.onPayload: notes the payloads redaction re-encoded. */
  onPayload(p: PayloadRecord): void
  /** After the intake closed: settles the tee, warns about what the Agent missed, returns the manifest's record. */
  finish(collectors: Record<string, CollectorReport>): Promise<AgentRecord>
  /** Closes the tee's connections on any path out. Idempotent. */
  close(): Promise<void>
}

export async function startCaptureAgent(check: AgentCheck, log: CaptureListener): Promise<CaptureAgent> {
  const {createAgentTee, AGENT_PROBE_INTERVAL_MS} = await import('../intake/tee.js')
  const origin = check.url.origin
  const tee: AgentTee = createAgentTee({
    client: check.client,
    startDown: !check.info.reachable,
    onEvent: (e) => {
      if (e.kind === 'agent_down') {
        log({event: 'warning', code: 'agent_down', message: `the Datadog Agent stopped answering: ${e.reason}. vdiag answers the pipeline itself and retries the Agent every ${AGENT_PROBE_INTERVAL_MS / 1000} s; the spans are still kept in the bundle`})
      } else {
        log({event: 'warning', code: 'agent_back', message: `the Datadog Agent at ${origin} answers again; it missed ${e.missed_payloads} trace payloads (${e.missed_spans} spans) meanwhile, which the bundle has`})
      }
    },
  })
  const reencoded: number[] = []
  let reencodedTotal = 0
  return {
    forwarder: tee,
    onPayload(p) {
      if (!p.reencoded) return
      reencodedTotal++
      if (reencoded.length < MAX_REENCODED_LISTED) reencoded.push(p.seq)
    },
    async finish(collectors) {
      await tee.close()
      const c = tee.counts()
      if (c.trace_payloads_missed > 0) {
        log({event: 'warning', code: 'agent_missed', message: `the Datadog Agent at ${origin} missed ${c.trace_payloads_missed} of ${c.trace_payloads} trace payloads (${c.spans_missed} spans); the bundle has them all`})
      }
      collectors.agent_forward = {
        status: c.trace_payloads_missed > 0 || c.failed + c.not_tried > 0 ? 'partial' : 'ok',
        duration_ms: 0,
        detail: `${c.forwarded_ok + c.agent_errors} of ${c.requests} requests answered by the Agent, ${c.answered_locally} by vdiag; ${c.trace_payloads - c.trace_payloads_missed} of ${c.trace_payloads} trace payloads accepted`,
        ...(c.last_error ? {error: c.last_error} : {}),
      }
      return {url: origin, info: check.info, deadline_ms: tee.deadlineMs, forwarding: c, reencoded_payloads: reencoded, reencoded_payloads_total: reencodedTotal}
    },
    close: () => tee.close(),
  }
}
