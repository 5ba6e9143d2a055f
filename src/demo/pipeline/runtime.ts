/**
 * The per-component bookkeeping every loop goes through: stage time for the
 * utilization gauge (always) and spans (only inside a tracing window).
 *
 * A component loop calls `beginIteration()`, then `stage(name)` at each stage
 * boundary, then `endIteration()`. Outside a window the only tracing cost is
 * one boolean read in `beginIteration()` and one null check per call.
 */
import {IDLE_STAGES} from '../../protocol/tracing-control.js'
import type {ComponentIdentity, IterationTrace, IterationTracer, SpanDetail, SubSpan} from '../tracing/iteration-tracer.js'
import {ComponentStats} from './stats.js'

export class ComponentRuntime {
  readonly stats = new ComponentStats()
  private stageName: string | null = null
  private stageStart = 0
  private stageIdle = false
  private trace: IterationTrace | null = null

  constructor(
    readonly identity: ComponentIdentity,
    private readonly tracer: IterationTracer,
  ) {}

  beginIteration(): void {
    this.trace = this.tracer.on ? this.tracer.begin(this.identity) : null
  }

  /** `detail`: extra meta on the stage span. */
  stage(name: string, detail?: SpanDetail): void {
    const now = performance.now()
    this.closeStage(now)
    this.stageName = name
    this.stageStart = now
    this.stageIdle = IDLE_STAGES.has(name)
    if (this.trace !== null) this.trace.stage(name, detail)
  }


  /** Events/bytes handled in the current stage (span metrics only). */
  count(events: number, bytes: number): void {
    if (this.trace !== null) this.trace.count(events, bytes)
  }

  /** A level-3 span; null (and free) unless a debug window traces this iteration. */
  sub(name: string, detail?: SpanDetail): SubSpan | null {
    return this.trace === null ? null : this.trace.sub(name, detail)
  }

  /**
   * Runs `work` (synchronous: no await inside) and, in a traced iteration,
   * counts its CPU toward the open spans' `cpu_ns`. Components wrap the
   * synchronous chunks of their own work that sit inside stages that also
   * wait (I/O, yields), so those stages report CPU their own code used and
   * nothing else. Call it per chunk of work, not per event.
   */
  cpu<T>(work: () => T): T {
    return this.trace === null ? work() : this.trace.onCpu(work)
  }

  endIteration(): void {
    this.closeStage(performance.now())
    this.stageName = null
    if (this.trace !== null) {
      const trace = this.trace
      this.trace = null
      trace.end()
    }
  }

  /** Called every utilization period: counts the running stage up to now, then rolls the gauge. */
  rollUtilization(): void {
    if (this.stageName !== null) {
      const now = performance.now()
      this.closeStage(now)
      this.stageStart = now
    }
    this.stats.rollUtilization()
  }

  private closeStage(now: number): void {
    if (this.stageName !== null) this.stats.addStageTime(this.stageIdle, now - this.stageStart)
  }
}
