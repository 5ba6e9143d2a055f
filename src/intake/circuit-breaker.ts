/**
 * Whether the tee should wait for the Agent. Closed: every request goes to
 * the Agent and the pipeline gets its answer. Open (the Agent just failed):
 * the pipeline is answered at once, and every `probeIntervalMs` one request
 * is also sent to the Agent in the background (half-open); its success
 * closes the breaker, its failure keeps it open for another interval.
 */

export type BreakerState = 'closed' | 'open' | 'half-open'

/** What to do with one request: wait for the Agent, answer locally and probe with it, or answer locally only. */
export type Admission = 'try' | 'probe' | 'skip'

export interface BreakerOptions {
  probeIntervalMs: number
  /** Start open: the Agent was not there before the window; the first request probes. */
  startOpen?: boolean
  /** Monotonic ms; injectable for tests. */
  now?: () => number
}

export class CircuitBreaker {
  private current: BreakerState
  private openedAt = -Infinity
  private readonly now: () => number

  constructor(private readonly opts: BreakerOptions) {
    this.current = opts.startOpen ? 'open' : 'closed'
    this.now = opts.now ?? (() => performance.now())
  }

  get state(): BreakerState {
    return this.current
  }

  admit(): Admission {
    if (this.current === 'closed') return 'try'
    if (this.current === 'open' && this.now() - this.openedAt >= this.opts.probeIntervalMs) {
      this.current = 'half-open'
      return 'probe'
    }
    return 'skip'
  }

  /** The Agent answered. Returns true when that closed the breaker. */
  success(): boolean {
    if (this.current === 'closed') return false
    this.current = 'closed'
    return true
  }

  /** The Agent did not answer. Returns true when that opened a closed breaker (a new outage). */
  failure(): boolean {
    const was = this.current
    this.current = 'open'
    this.openedAt = this.now()
    return was === 'closed'
  }
}
