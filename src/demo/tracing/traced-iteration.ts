/**
 * The spans of one component iteration: a level-1 `iteration` span, one
 * level-2 span per stage, and (debug windows) level-3 sub-stage spans.
 *
 * Once the window leaves `active`, no new span starts: the iteration closes at
 * its next stage boundary (the running stage span ends at its natural end, then
 * the iteration span). A "ghost" iteration (the exporter's buffer is full)
 * counts the spans it would have started as started and dropped, and creates
 * none.
 */
import {SPAN} from '../../protocol/tracing-control.js'
import type {ComponentIdentity, IterationTrace, SubSpan} from './iteration-tracer.js'
import type {BackendSpan, SpanBackend, SpanTags} from './span-backend.js'

/**
 * Spans one iteration may start. Bounds the memory one trace holds (dd-trace
 * keeps a trace until its root finishes) and keeps it far below dd-trace's
 * partial-flush threshold. Sub-stages beyond it are not started; the stage span
 * records how many were left out (metric `substages_omitted`).
 */
export const MAX_SPANS_PER_ITERATION = 200

/** The window-side hooks an iteration reports to. */
export interface IterationOwner {
  /** The window is still `active` (new spans may start). */
  readonly accepting: boolean
  readonly debug: boolean
  spanStarted(): void
  spanDropped(count: number): void
  iterationClosed(iteration: TracedIteration): void
}

const GHOST_SPAN: BackendSpan = {setTag: () => undefined, finish: () => undefined}

function cpuNs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since)
  return (d.user + d.system) * 1000
}

class TracedSub implements SubSpan {
  private readonly cpu = process.cpuUsage()
  private done = false
  constructor(
    private readonly span: BackendSpan,
    private readonly owner: TracedIteration,
  ) {}

  end(events?: number, bytes?: number): void {
    if (this.done) return
    this.done = true
    this.span.setTag(SPAN.metrics.cpuNs, cpuNs(this.cpu))
    if (events !== undefined) this.span.setTag(SPAN.metrics.events, events)
    if (bytes !== undefined) this.span.setTag(SPAN.metrics.bytes, bytes)
    this.span.finish()
    this.owner.subEnded(this)
  }
}

export class TracedIteration implements IterationTrace {
  private readonly root: BackendSpan
  private readonly rootCpu = process.cpuUsage()
  private stageSpan: BackendSpan | null = null
  private stageName = ''
  private stageCpu: NodeJS.CpuUsage = this.rootCpu
  private stageEvents = 0
  private stageBytes = 0
  private omitted = 0
  private readonly openSubs = new Set<TracedSub>()
  private started = 0
  private closed = false

  constructor(
    private readonly owner: IterationOwner,
    private readonly component: ComponentIdentity,
    /** Null for a ghost iteration. */
    private readonly backend: SpanBackend | null,
  ) {
    this.root = this.start(SPAN.iteration, null, {
      'resource.name': component.id,
      [SPAN.meta.componentId]: component.id,
      [SPAN.meta.componentKind]: component.kind,
      [SPAN.meta.componentType]: component.type,
    })
  }

  stage(name: string): void {
    if (this.closed) return
    this.finishStage()
    if (!this.owner.accepting) {
      this.close()
      return
    }
    this.stageName = name
    this.stageCpu = process.cpuUsage()
    this.stageSpan = this.start(name, this.root, {
      'resource.name': this.component.id,
      [SPAN.meta.componentId]: this.component.id,
      [SPAN.meta.stage]: name,
    })
  }

  count(events: number, bytes: number): void {
    this.stageEvents += events
    this.stageBytes += bytes
  }

  sub(name: string, detailKey?: string, detailValue?: string): SubSpan | null {
    if (this.closed || this.stageSpan === null || !this.owner.debug || !this.owner.accepting) return null
    if (this.started >= MAX_SPANS_PER_ITERATION) {
      this.omitted++
      return null
    }
    const tags: SpanTags = {
      'resource.name': this.component.id,
      [SPAN.meta.componentId]: this.component.id,
      [SPAN.meta.stage]: this.stageName,
      [SPAN.meta.substage]: name,
    }
    if (detailKey !== undefined && detailValue !== undefined) tags[detailKey] = detailValue
    const sub = new TracedSub(this.start(name, this.stageSpan, tags), this)
    this.openSubs.add(sub)
    return sub
  }

  subEnded(sub: TracedSub): void {
    this.openSubs.delete(sub)
  }

  end(): void {
    if (this.closed) return
    this.finishStage()
    this.close()
  }

  /**
   * The window must end now: its spans will never be exported (the root stays
   * unfinished, so dd-trace never hands the trace to the exporter), so they
   * all count as dropped.
   */
  abandon(): void {
    if (this.closed) return
    this.closed = true
    if (this.backend !== null) this.owner.spanDropped(this.started)
  }

  private start(name: string, parent: BackendSpan | null, tags: SpanTags): BackendSpan {
    this.started++
    this.owner.spanStarted()
    if (this.backend === null) {
      this.owner.spanDropped(1)
      return GHOST_SPAN
    }
    return this.backend.startSpan(name, parent, tags)
  }

  private finishStage(): void {
    const span = this.stageSpan
    if (span === null) return
    this.stageSpan = null
    for (const sub of [...this.openSubs]) sub.end()
    span.setTag(SPAN.metrics.cpuNs, cpuNs(this.stageCpu))
    if (this.stageEvents > 0) span.setTag(SPAN.metrics.events, this.stageEvents)
    if (this.stageBytes > 0) span.setTag(SPAN.metrics.bytes, this.stageBytes)
    if (this.omitted > 0) span.setTag(SPAN.metrics.substagesOmitted, this.omitted)
    this.stageEvents = 0
    this.stageBytes = 0
    this.omitted = 0
    span.finish()
  }

  private close(): void {
    this.closed = true
    this.root.setTag(SPAN.metrics.cpuNs, cpuNs(this.rootCpu))
    // Exports the whole tree (dd-trace hands a trace over when its root finishes).
    this.root.finish()
    this.owner.iterationClosed(this)
  }
}
