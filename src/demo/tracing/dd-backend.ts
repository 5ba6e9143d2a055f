/**
 * The span backend built on dd-trace 5's public API (`init`, `startSpan`,
 * `setUrl`), plus the one thing it lacks: a flush that says when, and whether,
 * spans were delivered. dd-trace has no public flush; its agent exporter's
 * writer has `flush(done, {deadline})`, which calls `done(err)` once the intake
 * answered. We use that when the internals have the expected shape, and fall
 * back to the exporter's own `flush(done)` (no verdict) or, failing that, to
 * waiting out one flush interval plus the request timeout.
 *
 * dd-trace is loaded lazily (it costs ~300 ms) and configured so that nothing
 * leaves the process except spans to the window's endpoint: no
 * instrumentation, telemetry, remote config, startup logs or runtime metrics.
 */
import type {BackendSpan, FlushResult, SpanBackend, SpanTags} from './span-backend.js'

export type TraceProtocol = '0.4' | '0.5'
export const TRACE_PROTOCOLS: readonly TraceProtocol[] = ['0.4', '0.5']

/** Set before dd-trace is imported: it reads them at load and init. */
const QUIET_ENV: Record<string, string> = {
  DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false',
  DD_REMOTE_CONFIGURATION_ENABLED: 'false',
  DD_TRACE_STARTUP_LOGS: 'false',
  DD_CRASHTRACKING_ENABLED: 'false',
  DD_RUNTIME_METRICS_ENABLED: 'false',
  DD_PROFILING_ENABLED: 'false',
  DD_APPSEC_ENABLED: 'false',
  DD_IAST_ENABLED: 'false',
  DD_DATA_STREAMS_ENABLED: 'false',
  DD_DYNAMIC_INSTRUMENTATION_ENABLED: 'false',
  DD_TRACE_STATS_COMPUTATION_ENABLED: 'false',
  // Otherwise every span carries the git commit of whatever directory the demo runs in.
  DD_TRACE_GIT_METADATA_ENABLED: 'false',
}

/**
 * The largest setTimeout delay. dd-trace's own periodic flush timer is pushed
 * out to it: every flush goes through `flush()` here so each payload's verdict
 * is attributed to the window that produced it.
 */
const NEVER_MS = 2 ** 31 - 1
/** What the fallback waits when even the exporter's flush is missing: dd-trace's flush interval plus its request timeout. */
const FALLBACK_FLUSH_INTERVAL_MS = 500
const FALLBACK_WAIT_MS = FALLBACK_FLUSH_INTERVAL_MS + 2000
/** Marks a writer flush as "report errors": dd-trace only passes the error to `done` when a deadline is set. */
const FLUSH_DEADLINE_MS = 2000

export interface DdBackendOptions {
  protocolVersion: TraceProtocol
  service: string
  /**
   * Where dd-trace points before any window, and where its side traffic stays:
   * its DogStatsD client captures the URL at init and never follows setUrl,
   * so we init at a loopback sink the demo owns, then re-point the exporter.
   */
  initialUrl: string
}

interface DdWriter {
  append(spans: unknown[]): unknown
  flush(done: (err?: Error) => void, options?: {deadline?: number}): void
}
interface DdExporter {
  export(spans: unknown[]): void
  flush?(done: () => void): void
  _writer?: DdWriter
}
interface DdTracer {
  init(options: Record<string, unknown>): DdTracer
  startSpan(name: string, options?: {childOf?: unknown; tags?: SpanTags}): BackendSpan
  setUrl(url: string): void
  _tracer?: {_exporter?: DdExporter}
}

export async function loadDdBackend(opts: DdBackendOptions): Promise<SpanBackend> {
  for (const [key, value] of Object.entries(QUIET_ENV)) process.env[key] = value
  const mod = (await import('dd-trace')) as unknown as {default: DdTracer}
  const tracer = mod.default.init({
    url: opts.initialUrl,
    service: opts.service,
    plugins: false,
    protocolVersion: opts.protocolVersion,
    startupLogs: false,
    runtimeMetrics: false,
    flushInterval: NEVER_MS,
    // Our iteration trees are far below it; keep dd-trace from splitting one.
    flushMinSpans: 10_000,
  })
  const exporter = tracer._tracer?._exporter
  const writer = exporter?._writer
  if (exporter && writer && typeof writer.append === 'function' && typeof writer.flush === 'function' && typeof exporter.export === 'function') {
    return new ExactDdBackend(tracer, exporter, writer)
  }
  return new FallbackDdBackend(tracer, exporter)
}

abstract class DdBackendBase {
  onRejected: ((spans: number) => void) | null = null
  constructor(protected readonly tracer: DdTracer) {}

  setEndpoint(url: string): void {
    this.tracer.setUrl(url)
  }

  startSpan(name: string, parent: BackendSpan | null, tags: SpanTags): BackendSpan {
    return this.tracer.startSpan(name, parent === null ? {tags} : {childOf: parent, tags})
  }
}

/** Counts every span through the exporter and gets a verdict per payload. */
class ExactDdBackend extends DdBackendBase implements SpanBackend {
  readonly exactAccounting = true
  private buffered = 0
  private inFlight = 0

  constructor(tracer: DdTracer, exporter: DdExporter, private readonly writer: DdWriter) {
    super(tracer)
    // dd-trace calls export() synchronously when a trace's last span finishes.
    exporter.export = (spans: unknown[]) => {
      if (writer.append(spans) === false) this.onRejected?.(spans.length)
      else this.buffered += spans.length
    }
  }

  bufferedSpans(): number {
    return this.buffered
  }

  pendingSpans(): number {
    return this.buffered + this.inFlight
  }

  flush(): Promise<FlushResult> {
    const spans = this.buffered
    this.buffered = 0
    if (spans === 0) return Promise.resolve({spans: 0, delivered: true})
    this.inFlight += spans
    return new Promise((resolve) => {
      const done = (err?: Error) => {
        this.inFlight -= spans
        resolve({spans, delivered: err === undefined || err === null})
      }
      try {
        this.writer.flush(done, {deadline: Date.now() + FLUSH_DEADLINE_MS})
      } catch {
        done(new Error('flush failed'))
      }
    })
  }
}

/**
 * Internals not found (a future dd-trace): spans are still exported by
 * dd-trace's own timer, but per-payload verdicts are unknown, so spans_dropped
 * only counts what the window itself dropped.
 */
class FallbackDdBackend extends DdBackendBase implements SpanBackend {
  readonly exactAccounting = false

  constructor(tracer: DdTracer, private readonly exporter: DdExporter | undefined) {
    super(tracer)
    // Re-init is a no-op in dd-trace; the exporter's own interval is what we have.
    if (exporter && '_config' in exporter) (exporter as unknown as {_config: {flushInterval: number}})._config.flushInterval = FALLBACK_FLUSH_INTERVAL_MS
  }

  bufferedSpans(): number {
    return 0
  }

  pendingSpans(): number {
    return 0
  }

  flush(): Promise<FlushResult> {
    return new Promise((resolve) => {
      const done = () => resolve({spans: 0, delivered: true})
      if (typeof this.exporter?.flush === 'function') this.exporter.flush(done)
      else setTimeout(done, FALLBACK_WAIT_MS)
    })
  }
}
