/**
 * How a running capture looks. --json: one event per line on stdout and
 * nothing else there. A terminal: the plan, one live status line, warnings as
 * they happen, the result. Anything else (a pipe, a CI log): plain lines, no
 * animation.
 */
import type {CaptureEvent, CaptureListener} from '../capture/events.js'
import {formatBytes} from '../util/format.js'

export interface CaptureView {
  listener: CaptureListener
  /** Clear the live line before printing something else. */
  finish(): void
}

export function createCaptureView(mode: {
  json: boolean
  tty: boolean
  out?: NodeJS.WritableStream
  err?: NodeJS.WritableStream
  /** False when the consent prompt shows the plan itself (src/cli/guided/consent.ts), so it is not printed twice. */
  showPlan?: boolean
}): CaptureView {
  const out = mode.out ?? process.stdout
  const err = mode.err ?? process.stderr
  if (mode.json) {
    return {listener: (e) => out.write(JSON.stringify(e) + '\n'), finish() {}}
  }
  let live = false
  let lastPlainProgress = -1
  const clearLive = () => {
    if (live) {
      err.write('\r\x1b[2K')
      live = false
    }
  }
  const line = (s: string) => {
    clearLive()
    out.write(s + '\n')
  }
  const listener = (e: CaptureEvent) => {
    switch (e.event) {
      case 'started':
        if (mode.showPlan === false) break
        line(`vdiag will collect from ${e.api}:`)
        for (const p of e.plan) line(`  - ${p}`)
        break
      case 'attached':
        line(`attached: ${e.generation} API, Vector ${e.version ?? 'unknown version'} on ${e.hostname ?? 'unknown host'}, ${e.components} components`)
        break
      case 'window_opened':
        line(`tracing window ${e.window.id} open until ${e.window.expires_at}`)
        break
      case 'progress': {
        const text = `${Math.ceil(e.remaining_ms / 1000)} s left · ${e.spans} spans in ${e.payloads} payloads · ${e.dropped} dropped · ${e.snapshots} snapshots`
        if (mode.tty) {
          err.write(`\r\x1b[2K${text}`)
          live = true
        } else {
          // One line every ten seconds is enough for a log.
          const bucket = Math.floor(e.elapsed_ms / 10_000)
          if (bucket !== lastPlainProgress) {
            lastPlainProgress = bucket
            line(text)
          }
        }
        break
      }
      case 'warning':
        clearLive()
        err.write(`warning: ${e.message}\n`)
        break
      case 'window_closed':
        line(e.ended ? `tracing window ended: the pipeline started ${e.spans_started} spans, dropped ${e.spans_dropped}` : 'tracing window: not confirmed ended (see warnings)')
        break
      case 'bundle_written':
        line(`\nwrote ${e.path} (${formatBytes(e.size)}, ${e.spans} spans${e.complete ? '' : ', INCOMPLETE'})`)
        line(`sha256 ${e.sha256}`)
        line(`next: send this file to support; they replay it with: vdiag replay ${e.path}`)
        break
      case 'done':
        // No bundle (--dry-run): say so in as many words, so nobody wonders whether tracing was switched on.
        if (e.path === null) line(e.reason ?? 'nothing was written')
        break
    }
  }
  return {listener, finish: clearLive}
}
