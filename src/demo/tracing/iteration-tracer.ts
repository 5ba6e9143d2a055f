/**
 * What a pipeline component sees of tracing: one check per iteration, and,
 * only inside a window, an object that turns stages into spans.
 */
import type {ComponentKind} from '../../protocol/tracing-control.js'

export interface ComponentIdentity {
  id: string
  kind: ComponentKind
  /** plugin type: `file`, `remap`, `http` */
  type: string
}

/** Extra span meta (e.g. `file.path`, `http.url`). */
export type SpanDetail = Record<string, string>

/** A level-3 span (sub-stage). */
export interface SubSpan {
  /** `metrics` adds span metrics beside `events` and `bytes` (e.g. `files`). */
  end(events?: number, bytes?: number, metrics?: Record<string, number>): void
}

/** The spans of one component iteration (level 1 and its children). */
export interface IterationTrace {
  /** Ends the current stage span (if any) and starts the next one. */
  stage(name: string, detail?: SpanDetail): void
  /** Adds to the current stage's `events` / `bytes` span metrics. */
  count(events: number, bytes: number): void
  /** A sub-stage of the current stage; null unless the window's level is `debug`. */
  sub(name: string, detail?: SpanDetail): SubSpan | null
  /**
   * Runs `work`, which must be synchronous, and counts its CPU time toward
   * `cpu_ns` of every open span of this iteration (see cpu-account.ts).
   */
  onCpu<T>(work: () => T): T
  end(): void
}

export interface IterationTracer {
  /**
   * True only while a window is active and the tracer is ready. A plain
   * field, so the untraced path costs one property read per iteration.
   */
  readonly on: boolean
  /** Null when this iteration is not traced (component filtered out, sampled out). */
  begin(component: ComponentIdentity): IterationTrace | null
}

/** For `--no-tracing`: never on. */
export const NO_TRACING: IterationTracer = {
  on: false,
  begin: () => null,
}
