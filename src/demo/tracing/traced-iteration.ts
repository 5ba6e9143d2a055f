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
import {CpuAccount, sliceCpuNs} from './cpu-account.js'
import type {ComponentIdentity, IterationTrace, SpanDetail, SubSpan} from './iteration-tracer.js'
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

function setCpu(span: BackendSpan, account: CpuAccount): void {
  const ns = account.close()
  if (ns !== undefined) span.setTag(SPAN.metrics.cpuNs, ns)
}

class TracedSub implements SubSpan {
  readonly cpu: CpuAccount
  private done = false
  constructor(
    private readonly span: BackendSpan,
    private readonly owner: TracedIteration,
    parents: readonly CpuAccount[],
  ) {
    this.cpu = new CpuAccount(parents)
  }

  end(events?: number, bytes?: number, metrics?: Record<string, number>): void {
    if (this.done) return
    this.done = true
    setCpu(this.span, this.cpu)
    if (events !== undefined) this.span.setTag(SPAN.metrics.events, events)
    if (bytes !== undefined) this.span.setTag(SPAN.metrics.bytes, bytes)
    if (metrics !== undefined) for (const [key, value] of Object.entries(metrics)) this.span.setTag(key, value)
    this.span.finish()
    this.owner.subEnded(this)
  }
}

export class TracedIteration implements IterationTrace {
  private readonly root: BackendSpan
  private readonly rootCpu: CpuAccount
  private stageSpan: BackendSpan | null = null
  private stageName = ''
  private stageCpu: CpuAccount | null = null
  /** True while an `onCpu` slice runs: a nested one is already counted. */
  private inSlice = false
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
    this.rootCpu = new CpuAccount([])
  }

  stage(name: string, detail?: SpanDetail): void {
    if (this.closed) return
    this.finishStage()
    if (!this.owner.accepting) {
      this.close()
      return
    }
    this.stageName = name
    this.stageSpan = this.start(name, this.root, {
      ...detail,
      'resource.name': this.component.id,
      [SPAN.meta.componentId]: this.component.id,
      [SPAN.meta.stage]: name,
    })
    this.stageCpu = new CpuAccount([this.rootCpu])
  }

  count(events: number, bytes: number): void {
    this.stageEvents += events
    this.stageBytes += bytes
  }

  sub(name: string, detail?: SpanDetail): SubSpan | null {
    if (this.closed || this.stageSpan === null || this.stageCpu === null || !this.owner.debug || !this.owner.accepting) return null
    if (this.started >= MAX_SPANS_PER_ITERATION) {
      this.omitted++
      return null
    }
    const tags: SpanTags = {
      ...detail,
      'resource.name': this.component.id,
      [SPAN.meta.componentId]: this.component.id,
      [SPAN.meta.stage]: this.stageName,
      [SPAN.meta.substage]: name,
    }
    const sub = new TracedSub(this.start(name, this.stageSpan, tags), this, [this.stageCpu, this.rootCpu])
    this.openSubs.add(sub)
    return sub
  }

  onCpu<T>(work: () => T): T {
    if (this.closed || this.inSlice) return work()
    this.inSlice = true
    const wall0 = performance.now()
    const cpu0 = process.cpuUsage()
    try {
      return work()
    } finally {
      const ns = sliceCpuNs(cpu0, wall0)
      this.inSlice = false
      this.rootCpu.add(ns)
      this.stageCpu?.add(ns)
      for (const sub of this.openSubs) sub.cpu.add(ns)
    }
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
    if (this.stageCpu !== null) setCpu(span, this.stageCpu)
    this.stageCpu = null
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
    setCpu(this.root, this.rootCpu)
    // Exports the whole tree (dd-trace hands a trace over when its root finishes).
    this.root.finish()
    this.owner.iterationClosed(this)
  }
}
