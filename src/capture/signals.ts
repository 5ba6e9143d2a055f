/**
 * First Ctrl-C (or SIGTERM): stop collecting, close the window, write what we
 * have. Second: give up at once, after one last short attempt to close the
 * window (the pipeline's own expiry is the backstop if even that fails).
 */
export interface InterruptHandle {
  signal: AbortSignal
  /** Which signal stopped us, if any. */
  readonly reason: NodeJS.Signals | null
  dispose(): void
}

/** The last-chance DELETE must not keep a user who pressed Ctrl-C twice waiting. */
export const FORCE_EXIT_CLEANUP_MS = 1_500

export function installInterruptHandlers(opts: {onFirst?: (sig: NodeJS.Signals) => void; onForce: () => Promise<void>}): InterruptHandle {
  const controller = new AbortController()
  let reason: NodeJS.Signals | null = null
  let forcing = false
  const handler = (sig: NodeJS.Signals) => {
    if (!reason) {
      reason = sig
      opts.onFirst?.(sig)
      controller.abort(new Error(`interrupted by ${sig}`))
      return
    }
    if (forcing) return
    forcing = true
    const timer = setTimeout(() => process.exit(130), FORCE_EXIT_CLEANUP_MS)
    opts.onForce().finally(() => {
      clearTimeout(timer)
      process.exit(130)
    })
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return {
    signal: controller.signal,
    get reason() {
      return reason
    },
    dispose() {
      process.off('SIGINT', handler)
      process.off('SIGTERM', handler)
    },
  }
}

/** Resolves after `ms`, or early (without throwing) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, {once: true})
  })
}
