/** The manifest of a capture: what was asked, what happened, what was kept, and what went missing. */
import type {AgentRecord, CollectorReport, Manifest, PipelineFacts, TracingRecord} from '../bundle/format.js'
import {ENTRY, FORMAT_NAME, FORMAT_VERSION} from '../bundle/format.js'
import type {Redactor} from '../bundle/redaction.js'
import type {StoreCounts} from '../intake/store.js'
import {VDIAG_VERSION} from '../util/version.js'
import type {CaptureOptions} from './options.js'
import type {WindowOutcome} from './window.js'

export function buildManifest(p: {
  opts: CaptureOptions
  api: string
  facts: PipelineFacts
  tracing: TracingRecord
  outcome: WindowOutcome
  interrupted: string | null
  collectors: Record<string, CollectorReport>
  counts: StoreCounts | null
  intakeUrl: string | null
  /** --via agent: how forwarding to the Agent went. */
  agent?: AgentRecord | null
  redactor: Redactor
  warn: (message: string) => void
}): Omit<Manifest, 'files'> {
  const {opts, tracing, outcome, redactor} = p
  const sc = p.counts ?? {payloads: 0, bad_payloads: 0, oversized_payloads: 0, spans_kept: 0, spans_dropped_vdiag: 0, traces: 0}
  // The pipeline's figures are final only once the window is `ended`.
  const ended = tracing.final?.state === 'ended' ? tracing.final : null
  const started = ended ? ended.spans_started : null
  const pdropped = ended ? ended.spans_dropped : null
  const lost = started === null || pdropped === null ? null : started - pdropped - sc.spans_kept - sc.spans_dropped_vdiag
  if (lost !== null && lost > 0) p.warn(`${lost} spans the pipeline started never reached vdiag`)
  // Negative: payloads the pipeline gave up on (and counted as dropped) still arrived.
  if (lost !== null && lost < 0) p.warn(`the pipeline counted ${-lost} spans as dropped that did reach vdiag (a delivery it gave up waiting for arrived after all); nothing is missing`)

  const reasons: string[] = []
  if (p.interrupted) reasons.push(`interrupted by ${p.interrupted}`)
  if (outcome.pipelineLost) reasons.push(outcome.pipelineLost)
  if (tracing.opened && !tracing.ended_cleanly && !outcome.pipelineLost) reasons.push(tracing.close_error ?? 'the tracing window did not end cleanly')
  const complete = reasons.length === 0
  return {
    format: FORMAT_NAME,
    format_version: FORMAT_VERSION,
    vdiag_version: VDIAG_VERSION,
    created_at: new Date().toISOString(),
    complete,
    incomplete_reason: complete ? null : reasons.join('; '),
    command_line: ['vdiag', ...redactor.redactArgv(opts.argv)],
    capture: {
      api: redactor.redactText(p.api, ENTRY.manifest, 'capture.api'),
      duration_ms: opts.durationMs,
      interval_ms: opts.intervalMs,
      level: opts.level,
      max_spans: opts.maxSpans,
      via: opts.via ?? 'local',
      intake: p.intakeUrl,
      ...(p.agent ? {agent: p.agent} : {}),
    },
    pipeline: redactor.redactJson({api_generation: p.facts.api.generation, version: p.facts.version, hostname: p.facts.hostname}, ENTRY.manifest, {pathPrefix: 'pipeline'}),
    window: {start: tracing.opened?.started_at ?? outcome.startedAt.toISOString(), end: tracing.final?.ended_at ?? outcome.endedAt.toISOString()},
    collectors: redactor.redactJson(p.collectors, ENTRY.manifest, {pathPrefix: 'collectors'}),
    counts: {
      payloads: sc.payloads,
      bad_payloads: sc.bad_payloads,
      oversized_payloads: sc.oversized_payloads,
      spans_kept: sc.spans_kept,
      spans_dropped_vdiag: sc.spans_dropped_vdiag,
      spans_started: started,
      spans_dropped_pipeline: pdropped,
      spans_lost: lost,
      traces: sc.traces,
    },
    redaction: redactor.audit(),
  }
}
