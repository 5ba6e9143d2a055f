/**
 * The `/tracing` window state machine (docs/tracing-control.md, "Lifecycle
 * and guarantees"), transport-free: the admin server maps HTTP onto it.
 *
 *   active ──(expires_at, or end())──▶ ending ──(flushed)──▶ ended
 *
 * While `active`, components trace their iterations. At `ending` no new span
 * starts; in-flight iterations close at their next stage boundary; once the
 * last one closed, everything buffered is flushed and the window is `ended`.
 * Two timers make the guarantees hold even if an iteration is stuck or the
 * intake is slow: in-flight iterations are abandoned (counted as dropped)
 * ABANDON_AFTER_MS after ending began, and a flush is waited on for at most
 * FINAL_FLUSH_BUDGET_MS.
 */
import {randomUUID} from 'node:crypto'
import {setTimeout as sleep} from 'node:timers/promises'
import {
  ENDED_AT_LATEST_MS_AFTER_EXPIRY,
  ENDED_WITHIN_MS_AFTER_LAST_SPAN,
  TRACING_LEVELS,
  TRACING_PROTOCOL_VERSION,
  type TracingStatus,
  type TracingWindow,
} from '../../protocol/tracing-control.js'
import type {OpenWindowResult, TracingController} from '../types.js'
import type {ComponentIdentity, IterationTrace, IterationTracer} from './iteration-tracer.js'
import type {SpanBackend} from './span-backend.js'
import {TracedIteration, type IterationOwner} from './traced-iteration.js'
import {ALL_COMPONENTS, validateOpenRequest, type ValidOpenRequest} from './validate.js'

/** Periodic flush while a window runs, so the intake sees spans as they happen and memory stays flat. */
export const FLUSH_INTERVAL_MS = 1000
/** Flush early when this many finished spans are buffered (~1 MB in v0.4; dd-trace's own soft limit is 8 MB). */
export const FLUSH_AT_SPANS = 2000
/**
 * Most spans the exporter may hold (buffered + in flight, ~10 MB in v0.4).
 * Beyond it, new iterations start as ghosts: their spans count as started and
 * dropped, and cost no memory.
 */
export const MAX_PENDING_SPANS = 20_000
/** After ending begins, in-flight iterations get this long to reach a stage boundary. */
export const ABANDON_AFTER_MS = 2500
/** The final flush is waited on this long at most; what it has not confirmed by then counts as dropped. */
export const FINAL_FLUSH_BUDGET_MS = 1500

// The two budgets must fit the promise made to clients (with margin for a busy event loop).
const _budgetCheck: true = (ABANDON_AFTER_MS + FINAL_FLUSH_BUDGET_MS < ENDED_AT_LATEST_MS_AFTER_EXPIRY &&
  FINAL_FLUSH_BUDGET_MS < ENDED_WITHIN_MS_AFTER_LAST_SPAN) as true
void _budgetCheck

export interface ControllerOptions {
  maxDurationSecs: number
  componentIds: readonly string[]
  /** Loads the span library (lazily; called at the first window). */
  loadBackend(): Promise<SpanBackend>
  log(message: string): void
}

interface PendingFlush {
  /** Spans in the payload, known when the flush starts. */
  spans: number
  settled: boolean
  done: Promise<void>
}

class Window implements IterationOwner {
  readonly data: TracingWindow
  readonly filter: Set<string> | null
  readonly debug: boolean
  readonly sampleRate: number
  accepting = true
  readonly inFlight = new Set<TracedIteration>()
  readonly flushes = new Set<PendingFlush>()
  /** Counts are final. */
  frozen = false
  finalizing = false
  expiryTimer: NodeJS.Timeout | null = null
  abandonTimer: NodeJS.Timeout | null = null
  flushTimer: NodeJS.Timeout | null = null
  readonly ended: Promise<void>
  resolveEnded!: () => void

  constructor(request: ValidOpenRequest, private readonly controller: WindowController) {
    const now = Date.now()
    this.data = {
      id: randomUUID(),
      state: 'active',
      started_at: new Date(now).toISOString(),
      expires_at: new Date(now + request.durationSecs * 1000).toISOString(),
      ended_at: null,
      level: request.level,
      endpoint: request.endpoint,
      components: request.components,
      sample_rate: request.sampleRate,
      spans_started: 0,
      spans_dropped: 0,
    }
    this.filter = request.components.includes(ALL_COMPONENTS) ? null : new Set(request.components)
    this.debug = request.level === 'debug'
    this.sampleRate = request.sampleRate
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve))
  }

  snapshot(): TracingWindow {
    return {...this.data, components: [...this.data.components]}
  }

  spanStarted(): void {
    if (!this.frozen) this.data.spans_started++
  }

  spanDropped(count: number): void {
    if (!this.frozen) this.data.spans_dropped += count
  }

  iterationClosed(iteration: TracedIteration): void {
    this.inFlight.delete(iteration)
    this.controller.iterationClosed(this)
  }
}

export class WindowController implements TracingController, IterationTracer {
  on = false
  private current: Window | null = null
  private backend: SpanBackend | null = null
  private backendLoading: Promise<SpanBackend | null> | null = null

  constructor(private readonly opts: ControllerOptions) {}

  status(): TracingStatus {
    return {
      supported: true,
      version: TRACING_PROTOCOL_VERSION,
      max_duration_secs: this.opts.maxDurationSecs,
      levels: [...TRACING_LEVELS],
      window: this.current?.snapshot() ?? null,
    }
  }

  open(body: unknown): OpenWindowResult {
    const current = this.current
    if (current !== null && current.data.state !== 'ended') {
      return {ok: false, status: 409, error: `a tracing window is already ${current.data.state}`, window: current.snapshot()}
    }
    const v = validateOpenRequest(body, this.opts.maxDurationSecs, this.opts.componentIds)
    if (!v.ok) return {ok: false, status: 400, error: v.error}

    const w = new Window(v.request, this)
    this.current = w
    w.expiryTimer = setTimeout(() => this.beginEnding(w), v.request.durationSecs * 1000)
    w.flushTimer = setInterval(() => this.flush(w), FLUSH_INTERVAL_MS)
    if (this.backend !== null) this.activate(w, this.backend)
    else void this.ensureBackend().then((backend) => backend !== null && this.activate(w, backend))
    this.opts.log(`tracing: window ${w.data.id} opened for ${v.request.durationSecs}s (level ${w.data.level}) → ${w.data.endpoint}`)
    return {ok: true, window: w.snapshot()}
  }

  end(): TracingWindow | null {
    const w = this.current
    if (w === null || w.data.state === 'ended') return null
    this.beginEnding(w)
    return w.snapshot()
  }

  /**
   * Loads the span library ahead of the first window (it takes a few hundred
   * ms, more on a busy machine), so that a window traces from its first moment.
   */
  async preload(): Promise<void> {
    await this.ensureBackend()
  }

  /** For shutdown: ends the open window (if any) and resolves once it is `ended`. */
  async shutdown(): Promise<TracingWindow | null> {
    const w = this.current
    if (w === null) return null
    if (w.data.state === 'active') this.beginEnding(w)
    await w.ended
    return w.snapshot()
  }

  begin(component: ComponentIdentity): IterationTrace | null {
    const w = this.current
    if (w === null || !w.accepting || this.backend === null) return null
    if (w.filter !== null && !w.filter.has(component.id)) return null
    // Sampling decides per iteration, so a tree is kept or dropped whole.
    if (w.sampleRate < 1 && Math.random() >= w.sampleRate) return null
    const ghost = this.backend.pendingSpans() >= MAX_PENDING_SPANS
    const iteration = new TracedIteration(w, component, ghost ? null : this.backend)
    w.inFlight.add(iteration)
    return iteration
  }

  /** From Window: an iteration's tree was handed to the exporter (or abandoned). */
  iterationClosed(w: Window): void {
    if (this.backend !== null && this.backend.bufferedSpans() >= FLUSH_AT_SPANS) this.flush(w)
    if (w.data.state === 'ending' && w.inFlight.size === 0) void this.finalize(w)
  }

  private ensureBackend(): Promise<SpanBackend | null> {
    const started = performance.now()
    this.backendLoading ??= this.opts.loadBackend().then(
      (backend) => {
        this.opts.log(`tracing: dd-trace ready after ${Math.round(performance.now() - started)} ms`)
        this.backend = backend
        backend.onRejected = (spans) => this.current?.spanDropped(spans)
        if (!backend.exactAccounting) this.opts.log('tracing: dd-trace internals not found; spans_dropped will not count failed exports')
        return backend
      },
      (err: Error) => {
        this.opts.log(`tracing: cannot load dd-trace: ${err.message}`)
        return null
      },
    )
    return this.backendLoading
  }

  private activate(w: Window, backend: SpanBackend): void {
    if (!w.accepting) return
    backend.setEndpoint(w.data.endpoint)
    this.on = true
  }

  private beginEnding(w: Window): void {
    if (w.data.state !== 'active') return
    w.data.state = 'ending'
    w.accepting = false
    this.on = false
    if (w.expiryTimer !== null) clearTimeout(w.expiryTimer)
    w.abandonTimer = setTimeout(() => {
      for (const iteration of [...w.inFlight]) iteration.abandon()
      w.inFlight.clear()
      void this.finalize(w)
    }, ABANDON_AFTER_MS)
    if (w.inFlight.size === 0) void this.finalize(w)
  }

  private flush(w: Window): void {
    if (this.backend === null || this.backend.bufferedSpans() === 0) return
    const pending = this.startFlush(w, this.backend)
    w.flushes.add(pending)
    void pending.done.then(() => w.flushes.delete(pending))
  }

  /** Starts a flush whose verdict is booked on `w` (unless `w` is frozen by then). */
  private startFlush(w: Window, backend: SpanBackend): PendingFlush {
    const pending: PendingFlush = {spans: backend.bufferedSpans(), settled: false, done: Promise.resolve()}
    pending.done = backend.flush().then((result) => {
      pending.settled = true
      if (!result.delivered) {
        w.spanDropped(result.spans)
        this.opts.log(`tracing: ${result.spans} spans not delivered to ${w.data.endpoint}`)
      }
    })
    return pending
  }

  private async finalize(w: Window): Promise<void> {
    if (w.finalizing) return
    w.finalizing = true
    if (w.abandonTimer !== null) clearTimeout(w.abandonTimer)
    if (w.flushTimer !== null) clearInterval(w.flushTimer)
    const backend = this.backend
    if (backend !== null) {
      const flushes = [...w.flushes, this.startFlush(w, backend)]
      await Promise.race([Promise.all(flushes.map((f) => f.done)), sleep(FINAL_FLUSH_BUDGET_MS)])
      // Not confirmed in time: counted as not delivered, whatever happens later.
      w.spanDropped(flushes.reduce((sum, f) => sum + (f.settled ? 0 : f.spans), 0))
    }
    w.frozen = true
    w.data.state = 'ended'
    w.data.ended_at = new Date().toISOString()
    this.opts.log(`tracing: window ${w.data.id} ended: ${w.data.spans_started} spans started, ${w.data.spans_dropped} dropped`)
    w.resolveEnded()
  }
}
