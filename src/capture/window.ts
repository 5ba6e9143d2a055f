/**
 * The capture window: open tracing, sample metrics on one clock until the
 * duration is up (or we are interrupted, or the pipeline goes away), then end
 * the window and wait until every span the pipeline started is accounted for.
 * Ending the window is attempted on every path out of here.
 */
import type {ApiTarget} from '../attach/http.js'
import type {TracingRecord} from '../bundle/format.js'
import {VdiagError, errorMessage, isVdiagError} from '../errors.js'
import type {TracingLevel, TracingWindow} from '../protocol/tracing-control.js'
import type {CaptureListener} from './events.js'
import {END_WAIT_GRACE_MS, SPAN_DRAIN_WAIT_MS} from './options.js'
import {sleep} from './signals.js'
import type {Phase} from './recorder.js'

/** Live progress is for humans; once a second is smooth enough and costs nothing. */
const PROGRESS_EVERY_MS = 1_000
const DRAIN_POLL_MS = 100
/** A best-effort DELETE after a failed POST: the pipeline's own expiry is the backstop, so do not keep the user waiting. */
const LAST_CHANCE_DELETE_MS = 2_000

export interface SpanCounter {
  received(): {spans: number; payloads: number; dropped: number}
}

export interface WindowPlan {
  target: ApiTarget
  durationMs: number
  intervalMs: number
  level: TracingLevel
  /** null: tracing unavailable or declined; metrics only. */
  intakeUrl: string | null
  tracing: TracingRecord
}

export interface WindowOutcome {
  startedAt: Date
  endedAt: Date
  interrupted: boolean
  pipelineLost: string | null
}

export async function runWindow(plan: WindowPlan, deps: {
  /** Takes every interval sample; returns the admin API's error if its sample failed. */
  sample: (phase: Phase) => Promise<{error: string | null; taken: number}>
  spans: SpanCounter
  signal: AbortSignal
  emit: CaptureListener
  healthy: () => Promise<boolean>
}): Promise<WindowOutcome> {
  const {openWindow, endWindow, waitForEnded} = await import('../attach/tracing-client.js')
  const {sample, spans, signal, emit} = deps
  let taken = 0
  const tracing = plan.tracing
  const t0 = performance.now()
  const startedAt = new Date()
  let pipelineLost: string | null = null

  if (plan.intakeUrl) {
    let window: TracingWindow
    try {
      window = await openWindow(plan.target, {duration_secs: plan.durationMs / 1000, endpoint: plan.intakeUrl, level: plan.level})
    } catch (e) {
      // A POST that timed out or got an unusable 2xx may still have opened a window: ask for it to end
      // rather than leave tracing on until it expires. Refusals (409, 400, 401, 404) opened nothing.
      if (!(isVdiagError(e) && (e.code === 'tracing_conflict' || e.code === 'tracing_rejected'))) {
        await endWindow({...plan.target, timeoutMs: LAST_CHANCE_DELETE_MS}).catch(() => undefined)
      }
      throw e
    }
    tracing.opened = window
    tracing.final = window
    emit({event: 'window_opened', window})
  }
  const openedAtEpoch = Date.now()

  try {
    taken = (await sample('start')).taken
    let nextSnapshot = plan.intervalMs
    while (!signal.aborted) {
      const elapsed = performance.now() - t0
      if (elapsed >= plan.durationMs) break
      const wake = Math.min(plan.durationMs, nextSnapshot, Math.ceil((elapsed + 1) / PROGRESS_EVERY_MS) * PROGRESS_EVERY_MS)
      await sleep(wake - elapsed, signal)
      if (signal.aborted) break
      const now = performance.now() - t0
      if (now >= nextSnapshot && now < plan.durationMs) {
        nextSnapshot += plan.intervalMs
        const snap = await sample('interval')
        taken = snap.taken
        if (snap.error && !(await deps.healthy())) {
          pipelineLost = `the pipeline stopped answering ${Math.round(now / 1000)} s into the window: ${snap.error}`
          emit({event: 'warning', code: 'pipeline_lost', message: pipelineLost})
          break
        }
      }
      const r = spans.received()
      emit({event: 'progress', elapsed_ms: Math.round(now), remaining_ms: Math.max(0, Math.round(plan.durationMs - now)), spans: r.spans, payloads: r.payloads, dropped: r.dropped, snapshots: taken})
    }
    if (!pipelineLost) {
      const snap = await sample('end')
      if (snap.error && !(await deps.healthy())) pipelineLost = `the pipeline stopped answering at the end of the window: ${snap.error}`
    }
  } finally {
    if (tracing.opened) await closeWindow()
  }
  return {startedAt, endedAt: new Date(), interrupted: signal.aborted, pipelineLost}

  async function closeWindow(): Promise<void> {
    const early = signal.aborted || pipelineLost !== null || performance.now() - t0 < plan.durationMs
    if (early && !pipelineLost) {
      try {
        const w = await endWindow(plan.target)
        if (w) tracing.final = w
      } catch (e) {
        const why = `DELETE /tracing failed: ${errorMessage(e)}; the pipeline ends the window by itself at ${tracing.opened?.expires_at}`
        tracing.close_error = why
        emit({event: 'warning', code: 'window_delete_failed', message: why})
      }
    }
    if (pipelineLost) {
      tracing.close_error = pipelineLost
      emit({event: 'window_closed', ended: false, spans_started: tracing.final?.spans_started ?? null, spans_dropped: tracing.final?.spans_dropped ?? null})
      return
    }
    // The window ends by itself at expires_at; the protocol promises `ended` within 5 s of it.
    const deadlineMs = Math.max(openedAtEpoch + plan.durationMs, Date.now()) + END_WAIT_GRACE_MS
    const res = await waitForEnded(plan.target, {deadlineMs})
    if (res.window) tracing.final = res.window
    tracing.ended_cleanly = res.ended
    if (!res.ended) {
      const why = res.error ?? `the window was not reported ended ${END_WAIT_GRACE_MS / 1000} s after it expired`
      tracing.close_error = why
      emit({event: 'warning', code: 'window_not_ended', message: why})
    }
    if (res.ended && tracing.final) await drain(tracing.final)
    emit({event: 'window_closed', ended: res.ended, spans_started: tracing.final?.spans_started ?? null, spans_dropped: tracing.final?.spans_dropped ?? null})
  }

  /** `ended` means the pipeline handed everything over; give the last requests time to land. */
  async function drain(final: TracingWindow): Promise<void> {
    const expected = final.spans_started - final.spans_dropped
    const until = performance.now() + SPAN_DRAIN_WAIT_MS
    while (performance.now() < until) {
      const r = spans.received()
      if (r.spans + r.dropped >= expected) return
      await sleep(DRAIN_POLL_MS)
    }
  }
}

export function tracingUnavailable(reason: string, http: number | null): TracingRecord {
  return {supported: false, reason, status_http: http, max_duration_secs: null, requested: null, opened: null, final: null, ended_cleanly: false, close_error: null}
}

export function assertDurationAllowed(durationMs: number, maxSecs: number): void {
  if (durationMs / 1000 > maxSecs) {
    throw new VdiagError('usage', `--duration ${durationMs / 1000}s is longer than this pipeline allows (max_duration_secs: ${maxSecs})`, {
      hint: `use --duration ${maxSecs}s or less`,
      exitCode: 2,
    })
  }
}
