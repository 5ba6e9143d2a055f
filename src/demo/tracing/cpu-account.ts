/**
 * `cpu_ns` of one span: CPU time spent by the span's own work
 * (docs/tracing-control.md, "Span metrics").
 *
 * Node has one JavaScript thread and, before Node 23, only a process-wide CPU
 * clock. Measured across an `await`, that clock also counts whatever other
 * components ran on the thread meanwhile (and the thread pool's work for them),
 * which made a `send` blocked on a queue look busy and a `discover` full of
 * I/O waits exceed 100% CPU. So CPU is only ever measured over synchronous
 * stretches, where nothing else can run on the thread:
 *
 * - a span that finishes without having yielded (no `await` or callback
 *   boundary between its start and its finish) is measured whole;
 * - a span that yields gets the sum of the synchronous stretches measured
 *   inside it: slices the component marks with `onCpu()`, and whole
 *   measurements of synchronous child spans;
 * - a span with neither has no `cpu_ns` (idle stages, waits on queues or the
 *   network): not measured, rather than wrong.
 *
 * Every measurement is capped at its own wall time, so the process-wide clock
 * cannot credit a stretch with CPU that other threads (GC helpers, the libuv
 * pool) used in parallel beyond that, and `cpu_ns` never exceeds the span's
 * duration.
 */

const NS_PER_MS = 1e6

/** A synchronous stretch's CPU time since (cpu0, wall0), in ns, capped at its wall time. */
export function sliceCpuNs(cpu0: NodeJS.CpuUsage, wall0: number): number {
  const d = process.cpuUsage(cpu0)
  const wallNs = Math.floor((performance.now() - wall0) * NS_PER_MS)
  return Math.max(0, Math.min((d.user + d.system) * 1000, wallNs))
}

export class CpuAccount {
  private readonly wall0 = performance.now()
  private readonly cpu0 = process.cpuUsage()
  /** Set by a microtask queued at the start: any `await` lets it run before the span continues. */
  private yielded = false
  private measuredNs = 0
  private measured = false

  /** `parents`: the open accounts of the enclosing spans, innermost first. */
  constructor(private readonly parents: readonly CpuAccount[]) {
    queueMicrotask(() => {
      this.yielded = true
    })
  }

  /** A measured synchronous stretch inside this span. */
  add(ns: number): void {
    this.measuredNs += ns
    this.measured = true
  }

  /**
   * The span's `cpu_ns` (undefined when nothing was measured). Call once,
   * just before the span finishes. A synchronous span hands its parents the
   * part of its measurement they did not already get through `add`.
   */
  close(): number | undefined {
    if (!this.yielded) {
      const whole = sliceCpuNs(this.cpu0, this.wall0)
      const residual = Math.max(0, whole - this.measuredNs)
      for (const parent of this.parents) parent.add(residual)
      return whole
    }
    if (!this.measured) return undefined
    return Math.min(this.measuredNs, Math.floor((performance.now() - this.wall0) * NS_PER_MS))
  }
}
