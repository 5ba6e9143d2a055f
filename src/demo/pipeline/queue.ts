/**
 * A bounded async queue of event batches, counted in events. A full queue
 * makes `push` wait: that wait is the backpressure a source or transform sees
 * as its `send` stage.
 */

export interface Batch {
  lines: string[]
  /** Sum of the lines' UTF-8 byte lengths. */
  bytes: number
  /** performance.now() when the batch entered the queue (component latency). */
  enqueuedAt: number
}

interface Waiter {
  resolve(): void
}

export class BoundedQueue {
  private readonly items: Batch[] = []
  private size = 0
  private closed = false
  private readonly pushWaiters: Waiter[] = []
  private popWaiter: {resolve(): void; timer: NodeJS.Timeout} | null = null

  constructor(readonly capacityEvents: number) {}

  /** Events currently queued. */
  get length(): number {
    return this.size
  }

  /**
   * Resolves once the batch is queued. A batch larger than the whole capacity
   * is accepted into an empty queue, so an oversized batch cannot deadlock.
   */
  async push(batch: Batch): Promise<void> {
    while (!this.closed && this.size > 0 && this.size + batch.lines.length > this.capacityEvents) {
      await new Promise<void>((resolve) => this.pushWaiters.push({resolve}))
    }
    if (this.closed) return
    batch.enqueuedAt = performance.now()
    this.items.push(batch)
    this.size += batch.lines.length
    this.wakePopper()
  }

  /**
   * Takes queued batches, merged up to `maxEvents` (at least one whole batch),
   * waiting at most `timeoutMs` for the first one. Null on timeout or close.
   * Only one consumer may wait at a time (each queue has exactly one reader).
   */
  async pop(maxEvents: number, timeoutMs: number): Promise<Batch | null> {
    if (this.items.length === 0 && !this.closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.popWaiter = null
          resolve()
        }, timeoutMs)
        this.popWaiter = {resolve, timer}
      })
    }
    const first = this.items.shift()
    if (first === undefined) return null
    let lines = first.lines
    let bytes = first.bytes
    while (this.items.length > 0 && lines.length + this.items[0].lines.length <= maxEvents) {
      const next = this.items.shift() as Batch
      lines = lines.concat(next.lines)
      bytes += next.bytes
    }
    this.size -= lines.length
    this.wakePushers()
    // The oldest batch's enqueue time: latency is measured for the events that waited longest.
    return {lines, bytes, enqueuedAt: first.enqueuedAt}
  }

  /** Releases every waiter; later pushes are discarded and pops return what is left, then null. */
  close(): void {
    this.closed = true
    this.wakePushers()
    this.wakePopper()
  }

  private wakePopper(): void {
    const waiter = this.popWaiter
    if (waiter === null) return
    this.popWaiter = null
    clearTimeout(waiter.timer)
    waiter.resolve()
  }

  private wakePushers(): void {
    for (const waiter of this.pushWaiters.splice(0)) waiter.resolve()
  }
}
