import type {Manifest, TracingRecord} from '../bundle/format.js'
import {isoToRelativeNs, relativeNsToIso} from './decimal.js'

/**
 * Spans starting this long before the recorded window start mean the pipeline's
 * clock and vdiag's disagree (capture via a remote Agent); the spans win then.
 */
const CLOCK_SKEW_TOLERANCE_NS = 1e9

export type WindowSource = 'tracing' | 'manifest' | 'spans' | 'none'

export interface AnalysisWindow {
  /** ns relative to the span table's baseSec */
  startNs: number
  endNs: number
  startIso: string | null
  endIso: string | null
  durationNs: number
  source: WindowSource
}

/**
 * The window shares are measured over. Its start is when tracing was opened;
 * its end is when it stopped admitting new spans (expiry, or the early end
 * when that came first), not `ended_at`, which adds the flush tail. In-flight
 * iterations may run past the end; busy shares are capped at 1 for that.
 */
export function analysisWindow(
  manifest: Manifest,
  tracing: TracingRecord | null,
  spans: {minStartNs: number; maxEndNs: number; baseSec: number} | null,
): AnalysisWindow {
  const base = spans ? spans.baseSec : Math.floor(Date.parse(manifest.created_at) / 1000)
  const baseSec = Number.isFinite(base) ? base : 0
  const firstOf = (...isos: (string | null | undefined)[]) => {
    for (const iso of isos) {
      const ns = isoToRelativeNs(iso, baseSec)
      if (Number.isFinite(ns)) return ns
    }
    return Number.NaN
  }
  const opened = tracing?.opened ?? null
  const final = tracing?.final ?? null
  let source: WindowSource = opened ? 'tracing' : 'manifest'
  let start = firstOf(opened?.started_at, manifest.window.start)
  const expires = firstOf(final?.expires_at, opened?.expires_at)
  const ended = firstOf(final?.ended_at)
  let end = Number.isFinite(expires) && Number.isFinite(ended) ? Math.min(expires, ended) : firstOf(final?.expires_at, opened?.expires_at, final?.ended_at, manifest.window.end)

  if (spans) {
    if (!Number.isFinite(start) || spans.minStartNs < start - CLOCK_SKEW_TOLERANCE_NS) {
      start = spans.minStartNs
      source = 'spans'
    }
    if (!Number.isFinite(end) || end <= start || spans.minStartNs > end) {
      end = spans.maxEndNs
      source = 'spans'
    }
    // An interrupted capture stopped receiving before the window's planned end: measure up to the last span.
    if (manifest.complete === false && spans.maxEndNs < end) end = spans.maxEndNs
  }
  if (!Number.isFinite(start) || !Number.isFinite(end) || end < start) {
    return {startNs: 0, endNs: 0, startIso: manifest.window.start, endIso: manifest.window.end, durationNs: 0, source: 'none'}
  }
  return {
    startNs: start,
    endNs: end,
    startIso: relativeNsToIso(start, baseSec),
    endIso: relativeNsToIso(end, baseSec),
    durationNs: end - start,
    source,
  }
}
