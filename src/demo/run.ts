/**
 * Starts the whole demo: pipeline, tracing window controller, admin API and
 * Prometheus exposition. `commands/demo.ts` and `vdiag capture --demo` (via
 * spawn.ts) are its callers.
 */
import {usageError} from '../errors.js'
import {startAdminServer, type AdminServer, type ApiProtocol} from './admin/server.js'
import type {BasicAuth} from './pipeline/http-sink.js'
import {DEFAULT_COMPONENT_IDS, DemoPipeline, type ComponentIds} from './pipeline/pipeline.js'
import {tuningFor, type PipelineTuning, type Scenario} from './pipeline/scenarios.js'
import {renderMetrics, startMetricsServer, type MetricsServer} from './prometheus.js'
import {WindowController} from './tracing/controller.js'
import {loadDdBackend, type TraceProtocol} from './tracing/dd-backend.js'
import {NO_TRACING} from './tracing/iteration-tracer.js'
import {ALL_COMPONENTS} from './tracing/validate.js'

/** Default upper bound of a window (max_duration_secs): long enough for any capture, short enough that a forgotten window ends. */
export const DEFAULT_MAX_WINDOW_SECS = 600
export const DEFAULT_API_ADDRESS = '127.0.0.1:8686'
export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:9598'
/** dd-trace's `service` on every span. */
export const DEMO_SERVICE = 'vdiag-demo'

export interface DemoOptions {
  scenario: Scenario
  /** Flags that override the scenario's defaults. */
  tuning?: Partial<PipelineTuning>
  apiAddress?: string
  metricsAddress?: string
  apiProtocol?: ApiProtocol
  tracing?: boolean
  token?: string
  maxWindowSecs?: number
  traceProtocol?: TraceProtocol
  /** Component ids; missing ones take the defaults (app_logs, parse_logs, http_out). */
  componentIds?: Partial<ComponentIds>
  /** `USER:PASS`: the sink sends HTTP basic auth and the receiver requires it. */
  sinkAuth?: string
  log?(message: string): void
}

export interface RunningDemo {
  api: string
  metrics: string
  pid: number
  scenario: Scenario
  apiProtocol: ApiProtocol
  tracing: boolean
  tuning: PipelineTuning
  componentIds: ComponentIds
  /** Base URL of the receiver the sink posts to (`/ingest`). */
  receiver: string
  logDir: string
  pipeline: DemoPipeline
  /** Ends an open window (and waits for it to be flushed), then stops everything. Idempotent. */
  stop(): Promise<void>
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1'])

/** `host:port` or `[v6]:port`; loopback only (the admin API has no TLS and the demo is not for networks). */
export function parseAddress(text: string, flag: string): {host: string; port: number} {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim())
  const port = m ? Number(m[3]) : NaN
  if (!m || port > 65535) throw usageError(`--${flag}: "${text}" is not HOST:PORT`, `e.g. --${flag} 127.0.0.1:0 (port 0 picks a free port)`)
  const host = m[1] ?? m[2]
  if (!LOOPBACK_HOSTS.has(host)) throw usageError(`--${flag}: the demo only listens on loopback, not ${host}`, `use 127.0.0.1, localhost or [::1]`)
  return {host: host === 'localhost' ? '127.0.0.1' : host, port}
}

const ID_FLAGS: Record<keyof ComponentIds, string> = {source: 'source-id', transform: 'transform-id', sink: 'sink-id'}

/** Fills in the default ids and checks them: non-empty, no whitespace, not the `*` of /tracing's filter, distinct. */
export function resolveComponentIds(given: Partial<ComponentIds> = {}): ComponentIds {
  const ids: ComponentIds = {...DEFAULT_COMPONENT_IDS}
  for (const key of Object.keys(ID_FLAGS) as (keyof ComponentIds)[]) {
    const value = given[key]
    if (value === undefined) continue
    const flag = ID_FLAGS[key]
    if (value.length === 0) throw usageError(`--${flag} must not be empty`, `e.g. --${flag} ${DEFAULT_COMPONENT_IDS[key]}`)
    if (/\s/.test(value)) throw usageError(`--${flag}: "${value}" contains whitespace`, 'component ids are config keys such as my_source or logs-in')
    if (value === ALL_COMPONENTS) throw usageError(`--${flag} cannot be "${ALL_COMPONENTS}"`, `"${ALL_COMPONENTS}" means every component in a /tracing request`)
    ids[key] = value
  }
  const seen = new Map<string, string>()
  for (const key of Object.keys(ID_FLAGS) as (keyof ComponentIds)[]) {
    const other = seen.get(ids[key])
    if (other !== undefined) throw usageError(`the ${other} and the ${key} would both be "${ids[key]}"`, 'component ids must be distinct: pick another with --source-id, --transform-id or --sink-id')
    seen.set(ids[key], key)
  }
  return ids
}

/** `USER:PASS` → credentials; the user may not contain a colon (RFC 7617), the password may. */
export function parseSinkAuth(text: string): BasicAuth {
  const colon = text.indexOf(':')
  const user = colon < 0 ? text : text.slice(0, colon)
  const password = colon < 0 ? '' : text.slice(colon + 1)
  if (colon < 0 || user.length === 0 || password.length === 0) throw usageError('--sink-auth must be USER:PASS, both non-empty', 'e.g. --sink-auth ingest:s3cret')
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(text)) throw usageError('--sink-auth must not contain control characters')
  return {user, password}
}

function targetTriple(): string {
  const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch
  const os = process.platform === 'darwin' ? 'apple-darwin' : process.platform === 'win32' ? 'pc-windows-msvc' : 'unknown-linux-gnu'
  return `${arch}-${os}`
}

export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const log = options.log ?? ((m: string) => process.stderr.write(`[vdiag demo] ${m}\n`))
  const apiProtocol = options.apiProtocol ?? 'grpc'
  const tracingEnabled = options.tracing ?? true
  const api = parseAddress(options.apiAddress ?? DEFAULT_API_ADDRESS, 'api-address')
  const metricsAddr = parseAddress(options.metricsAddress ?? DEFAULT_METRICS_ADDRESS, 'metrics-address')
  const maxWindowSecs = options.maxWindowSecs ?? DEFAULT_MAX_WINDOW_SECS
  if (!(maxWindowSecs > 0)) throw usageError('--max-window must be greater than 0')
  const tuning = tuningFor(options.scenario, options.tuning)
  const componentIds = resolveComponentIds(options.componentIds)
  const sinkAuth = options.sinkAuth === undefined ? undefined : parseSinkAuth(options.sinkAuth)
  // GraphQL is what Vector <= 0.54 serves, gRPC what >= 0.55 serves: report a matching version.
  const version = apiProtocol === 'graphql' ? '0.54.0' : '0.55.0'

  let pipeline: DemoPipeline | null = null
  const controller = tracingEnabled
    ? new WindowController({
        maxDurationSecs: maxWindowSecs,
        componentIds: [componentIds.source, componentIds.transform, componentIds.sink],
        loadBackend: () =>
          loadDdBackend({
            protocolVersion: options.traceProtocol ?? '0.4',
            service: DEMO_SERVICE,
            initialUrl: (pipeline as DemoPipeline).receiver.baseUrl,
          }),
        log,
      })
    : null
  pipeline = new DemoPipeline({tuning, ids: componentIds, sinkAuth, tracer: controller ?? NO_TRACING, versionString: `${version} (vdiag-demo ${targetTriple()})`, log})
  const startedAt = Date.now()

  let admin: AdminServer | null = null
  let metrics: MetricsServer | null = null
  try {
    await pipeline.start()
    await controller?.preload()
    admin = await startAdminServer({host: api.host, port: api.port, pipeline, apiProtocol, tracing: controller, token: options.token, log})
    const runtimes = pipeline.runtimes
    metrics = await startMetricsServer(metricsAddr.host, metricsAddr.port, () => renderMetrics(runtimes.values(), (Date.now() - startedAt) / 1000))
  } catch (err) {
    await admin?.close()
    await pipeline.stop()
    throw err
  }

  let stopping: Promise<void> | null = null
  const running = pipeline
  const adminServer = admin
  const metricsServer = metrics
  return {
    api: adminServer.url,
    metrics: metricsServer.url,
    pid: process.pid,
    scenario: options.scenario,
    apiProtocol,
    tracing: tracingEnabled,
    tuning,
    componentIds,
    receiver: running.receiver.baseUrl,
    logDir: running.logDir,
    pipeline: running,
    stop: () =>
      (stopping ??= (async () => {
        // The window first: its in-flight iterations need the pipeline running to reach their end.
        const window = await controller?.shutdown()
        if (window) log(`shutdown: window ${window.id} ${window.state} (${window.spans_started} started, ${window.spans_dropped} dropped)`)
        await adminServer.close()
        await metricsServer.close()
        await running.stop()
      })()),
  }
}
