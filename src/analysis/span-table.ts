import {SPAN} from '../protocol/tracing-control.js'
import {relativeNs, splitU64, type SplitU64} from './decimal.js'
import {StringTable} from './string-table.js'

/** What a span is in the RFC 8025 hierarchy, as far as its own fields tell. */
export const Level = {other: 0, iteration: 1, stage: 2, substage: 3} as const

/** Distinct component ids kept; a real pipeline has tens to hundreds. */
export const MAX_COMPONENTS = 10_000
/** Distinct stage/sub-stage/span names kept; the protocol's vocabulary is a dozen. */
export const MAX_LABELS = 10_000
/** Distinct error messages kept; reports show the most common few. */
export const MAX_ERROR_MESSAGES = 1_000

const INITIAL_CAPACITY = 1 << 16
/** Spans per trace are few (one iteration tree); this keeps the trace-id map's keys exact doubles. */
const TRACE_KEY_HI_MOD = 2 ** 23

/**
 * The spans of a bundle as columns (typed arrays + interned strings): about
 * 70 bytes per span instead of the ~1.2 KB a parsed span object costs, so a
 * million spans fit in well under 100 MB.
 */
export class SpanTable {
  length = 0
  capacity = 0
  malformed = 0
  /** Epoch seconds all `start` values are relative to (first span's). */
  baseSec = Number.NaN

  traceOf = new Int32Array(0)
  idHi = new Float64Array(0)
  idLo = new Uint32Array(0)
  parentHi = new Float64Array(0)
  parentLo = new Uint32Array(0)
  /** ns since baseSec */
  start = new Float64Array(0)
  /** ns */
  dur = new Float64Array(0)
  error = new Uint8Array(0)
  level = new Uint8Array(0)
  /** Interned stage, sub-stage or span name (see `labels`). */
  label = new Int32Array(0)
  /** Interned `component_id` meta, -1 when absent. */
  component = new Int32Array(0)
  /** `cpu_ns` metric, NaN when absent. */
  cpu = new Float64Array(0)
  /** Interned `error.message` of error spans, -1 otherwise. */
  errorMessage = new Int32Array(0)

  readonly labels = new StringTable(MAX_LABELS, '(other)')
  readonly components = new StringTable(MAX_COMPONENTS, '(other components)')
  readonly errorMessages = new StringTable(MAX_ERROR_MESSAGES, '(other messages)')
  /** kind/type per interned component, from its iteration spans' meta. */
  readonly componentKind: (string | undefined)[] = []
  readonly componentType: (string | undefined)[] = []

  /** Trace ids as two exact doubles per trace. */
  traceCount = 0
  private traceHi: number[] = []
  private traceLo: number[] = []
  private readonly traceIds = new Map<number, number>()
  private readonly traceCollisions = new Map<string, number>()

  private readonly scratch: SplitU64 = {hi: 0, lo: 0}

  /** Adds one parsed span line; counts and skips anything that is not a usable span. */
  add(rec: unknown): boolean {
    if (typeof rec !== 'object' || rec === null) return this.reject()
    const r = rec as Record<string, unknown>
    const s = this.scratch
    const meta = (typeof r.meta === 'object' && r.meta !== null ? r.meta : {}) as Record<string, unknown>
    const metrics = (typeof r.metrics === 'object' && r.metrics !== null ? r.metrics : {}) as Record<string, unknown>
    const name = typeof r.name === 'string' ? r.name : ''
    const duration = typeof r.duration === 'string' ? Number(r.duration) : typeof r.duration === 'number' ? r.duration : Number.NaN
    if (!(duration >= 0)) return this.reject()

    if (!splitU64(r.start, s)) return this.reject()
    if (Number.isNaN(this.baseSec)) this.baseSec = s.hi
    const start = relativeNs(s, this.baseSec)

    if (!splitU64(r.trace_id, s)) return this.reject()
    const trace = this.internTrace(s.hi, s.lo)

    if (!splitU64(r.span_id, s)) return this.reject()
    const idHi = s.hi
    const idLo = s.lo
    let parentHi = 0
    let parentLo = 0
    if (r.parent_id !== undefined && r.parent_id !== null) {
      if (!splitU64(r.parent_id, s)) return this.reject()
      parentHi = s.hi
      parentLo = s.lo
    }

    const i = this.length
    if (i === this.capacity) this.grow()
    this.traceOf[i] = trace
    this.idHi[i] = idHi
    this.idLo[i] = idLo
    this.parentHi[i] = parentHi
    this.parentLo[i] = parentLo
    this.start[i] = start
    this.dur[i] = duration
    const isError = r.error === 1 || r.error === true ? 1 : 0
    this.error[i] = isError

    // An iteration without component_id still names its component in `resource` (the protocol's level-1 rule).
    const componentId = meta[SPAN.meta.componentId] ?? (name === SPAN.iteration ? r.resource : undefined)
    const component = typeof componentId === 'string' ? this.components.intern(componentId) : -1
    this.component[i] = component

    const stage = meta[SPAN.meta.stage]
    const substage = meta[SPAN.meta.substage]
    if (name === SPAN.iteration) {
      this.level[i] = Level.iteration
      this.label[i] = this.labels.intern(name)
      if (component >= 0 && this.componentKind[component] === undefined) {
        const kind = meta[SPAN.meta.componentKind]
        const type = meta[SPAN.meta.componentType]
        this.componentKind[component] = typeof kind === 'string' ? kind : undefined
        this.componentType[component] = typeof type === 'string' ? type : undefined
      }
    } else if (typeof substage === 'string') {
      this.level[i] = Level.substage
      this.label[i] = this.labels.intern(substage)
    } else if (typeof stage === 'string') {
      this.level[i] = Level.stage
      this.label[i] = this.labels.intern(stage)
    } else {
      this.level[i] = Level.other
      this.label[i] = this.labels.intern(name)
    }

    const cpu = metrics[SPAN.metrics.cpuNs]
    this.cpu[i] = typeof cpu === 'number' && cpu >= 0 ? cpu : Number.NaN
    if (isError) {
      const msg = meta['error.message'] ?? meta['error.msg'] ?? meta['error.type']
      this.errorMessage[i] = this.errorMessages.intern(typeof msg === 'string' && msg.length > 0 ? msg : '(no message)')
    } else {
      this.errorMessage[i] = -1
    }
    this.length = i + 1
    return true
  }

  /** The exact trace id of trace index `t`, as a decimal string. */
  traceIdString(t: number): string {
    const hi = this.traceHi[t]
    return hi === 0 ? String(this.traceLo[t]) : `${hi}${String(this.traceLo[t]).padStart(9, '0')}`
  }

  private reject(): false {
    this.malformed++
    return false
  }

  /**
   * Trace ids are keyed by a double built from both halves; keys can collide
   * only when high halves differ by a multiple of 2^23, which the stored high
   * half detects, and then a string key takes over.
   */
  private internTrace(hi: number, lo: number): number {
    const key = (hi % TRACE_KEY_HI_MOD) * 1e9 + lo
    const t = this.traceIds.get(key)
    if (t === undefined) {
      const n = this.newTrace(hi, lo)
      this.traceIds.set(key, n)
      return n
    }
    if (this.traceHi[t] === hi && this.traceLo[t] === lo) return t
    const exact = `${hi}:${lo}`
    const c = this.traceCollisions.get(exact)
    if (c !== undefined) return c
    const n = this.newTrace(hi, lo)
    this.traceCollisions.set(exact, n)
    return n
  }

  private newTrace(hi: number, lo: number): number {
    this.traceHi.push(hi)
    this.traceLo.push(lo)
    return this.traceCount++
  }

  private grow(): void {
    const cap = this.capacity === 0 ? INITIAL_CAPACITY : this.capacity * 2
    this.traceOf = resize(this.traceOf, new Int32Array(cap))
    this.idHi = resize(this.idHi, new Float64Array(cap))
    this.idLo = resize(this.idLo, new Uint32Array(cap))
    this.parentHi = resize(this.parentHi, new Float64Array(cap))
    this.parentLo = resize(this.parentLo, new Uint32Array(cap))
    this.start = resize(this.start, new Float64Array(cap))
    this.dur = resize(this.dur, new Float64Array(cap))
    this.error = resize(this.error, new Uint8Array(cap))
    this.level = resize(this.level, new Uint8Array(cap))
    this.label = resize(this.label, new Int32Array(cap))
    this.component = resize(this.component, new Int32Array(cap))
    this.cpu = resize(this.cpu, new Float64Array(cap))
    this.errorMessage = resize(this.errorMessage, new Int32Array(cap))
    this.capacity = cap
  }
}

function resize<T extends Float64Array | Int32Array | Uint32Array | Uint8Array>(from: T, to: T): T {
  to.set(from as never)
  return to
}
