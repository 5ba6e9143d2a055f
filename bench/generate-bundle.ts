/**
 * Writes a synthetic but protocol-faithful extracted bundle: three components
 * (file → remap → http) running iteration loops side by side, stage spans under
 * every iteration and sub-stages at level debug, with a planted bottleneck per
 * scenario, metrics snapshots, pipeline facts, the tracing record and a
 * manifest with sha256 for every file. Spans are generated and written one
 * iteration at a time into a gzip stream, so a million spans never exist as
 * objects at once.
 *
 *   node dist/bench/generate-bundle.js --spans 1000000 --out DIR [--scenario slow-sink]
 *     [--level info|debug] [--seed N] [--split-chunks] [--no-tracing] [--edges]
 *     [--utilization | --prometheus] [--blocked-reads-busy] [--errors-stream]
 *     [--config] [--logs] [--version X.Y.Z]
 */
import {createWriteStream, promises as fs} from 'node:fs'
import path from 'node:path'
import {once} from 'node:events'
import {pathToFileURL} from 'node:url'
import {createGzip, constants as zlibConstants} from 'node:zlib'
import {
  ENTRY,
  FORMAT_NAME,
  FORMAT_VERSION,
  type ComponentCounters,
  type ConfigCollection,
  type ErrorsRecord,
  type LogCollection,
  type Manifest,
  type MetricsSnapshot,
  type PipelineFacts,
  type PrometheusComponentSample,
  type PrometheusRecord,
  type PrometheusScrape,
  type PrometheusSeries,
  type TracingRecord,
  configEntry,
  logEntry,
} from '../src/bundle/format.js'
import type {ComponentKind, TracingLevel, TracingWindow} from '../src/protocol/tracing-control.js'

export type Scenario = 'balanced' | 'slow-sink' | 'heavy-transform' | 'slow-discovery'
export const SCENARIOS: readonly Scenario[] = ['balanced', 'slow-sink', 'heavy-transform', 'slow-discovery']

export interface GenerateOptions {
  dir: string
  /** Spans to write (default 10,000); the last iteration tree that would exceed it is not written. */
  spans?: number
  scenario?: Scenario
  level?: TracingLevel
  seed?: number
  /** Deliver about a third of the traces in two chunks: children in one payload, the iteration in a later one. */
  splitChunks?: boolean
  /** false: a pipeline without /tracing (no spans file, metrics only). Default true. */
  withTracing?: boolean
  /** Topology edges in the pipeline facts (as the GraphQL API gives); default false (gRPC gives none). */
  withEdges?: boolean
  /** Write Prometheus scrapes (metrics/prometheus.ndjson) with Vector's `utilization` gauge; same as withPrometheus. */
  withUtilization?: boolean
  /**
   * Write Prometheus scrapes of the internal metrics at every snapshot:
   * counters, `utilization` (absent from the first scrape, as Vector publishes
   * it every 5 s), latency histograms, buffer levels, CPU and discarded events.
   */
  withPrometheus?: boolean
  /** Utilization as Vector before 0.55 reports it: time blocked handing events downstream reads busy too. */
  blockedReadsBusy?: boolean
  /** Write the admin API's error totals (metrics/errors.ndjson), ticking four times per interval. */
  withErrorsStream?: boolean
  /** Errors only the counters see (no error spans), per component id, spread evenly over the window. */
  counterErrors?: Record<string, number>
  /** Write config/index.json and a redacted vector.yaml; its edges go into the facts (`edges_source: config`) as capture does, unless withEdges. */
  withConfig?: boolean
  /** Write logs/index.json and a log tail. */
  withLogs?: boolean
  /** The pipeline's version (default 0.55.0). */
  version?: string
}

export interface GenerateResult {
  dir: string
  spans: number
  traces: number
  iterations: number
  window_ms: number
  manifest: Manifest
}

// ---------- the scenario model ----------

interface SubStageModel {
  name: string
  /** fraction of the stage's duration */
  frac: number
  cpu: number
  meta?: Record<string, string>
}

interface StageModel {
  name: string
  /** mean duration, ms */
  ms: number
  /** fraction of wall time on CPU */
  cpu: number
  /** probability that the stage occurs in an iteration */
  p?: number
  errorRate?: number
  errorMessage?: string
  sub?: SubStageModel[]
}

interface ComponentModel {
  id: string
  kind: ComponentKind
  type: string
  stages: StageModel[]
}

const IDS = {source: 'file_in', transform: 'parse', sink: 'http_out'} as const

const DISCOVER_SUB: SubStageModel[] = [
  {name: 'collect_paths', frac: 0.08, cpu: 0.3},
  {name: 'fingerprint', frac: 0.88, cpu: 0.4, meta: {'file.path': '/var/log/app/app-0042.log'}},
]
const PROCESS_SUB: SubStageModel[] = [
  {name: 'parse_json', frac: 0.45, cpu: 0.97},
  {name: 'enrich', frac: 0.3, cpu: 0.95},
  {name: 'serialize', frac: 0.2, cpu: 0.97},
]
const SEND_SUB: SubStageModel[] = [
  {name: 'connect', frac: 0.05, cpu: 0.05},
  {name: 'request', frac: 0.92, cpu: 0.02},
]

/** Mean stage durations (ms) per scenario, chosen so the planted component is saturated and the rest blocked or idle. */
function scenarioModel(s: Scenario): ComponentModel[] {
  const src = (discover: number, read: number, send: number, sleep: number): ComponentModel => ({
    id: IDS.source,
    kind: 'source',
    type: 'file',
    stages: [
      {name: 'discover', ms: discover, cpu: 0.4, sub: DISCOVER_SUB},
      {name: 'read', ms: read, cpu: 0.35},
      {name: 'send', ms: send, cpu: 0.01},
      {name: 'sleep', ms: sleep, cpu: 0},
    ],
  })
  const xf = (wait: number, process: number, send: number, errorRate = 0): ComponentModel => ({
    id: IDS.transform,
    kind: 'transform',
    type: 'remap',
    stages: [
      {name: 'wait', ms: wait, cpu: 0},
      {name: 'process', ms: process, cpu: 0.95, sub: PROCESS_SUB, errorRate, errorMessage: 'parse error: expected value at line 1 column 1'},
      {name: 'send', ms: send, cpu: 0.01},
    ],
  })
  const sink = (wait: number, encode: number, send: number, errorRate = 0): ComponentModel => ({
    id: IDS.sink,
    kind: 'sink',
    type: 'http',
    stages: [
      {name: 'wait', ms: wait, cpu: 0},
      {name: 'encode', ms: encode, cpu: 0.9},
      {name: 'send', ms: send, cpu: 0.02, sub: SEND_SUB, errorRate, errorMessage: 'HTTP 503 Service Unavailable from http://127.0.0.1/ingest'},
      {name: 'backoff', ms: send * 2, cpu: 0, p: errorRate},
    ],
  })
  switch (s) {
    case 'balanced':
      return [src(0.2, 1, 0.3, 8), xf(8, 1.5, 0.2, 0.001), sink(7, 0.4, 3)]
    case 'slow-sink':
      return [src(0.2, 1, 30, 0.3), xf(0.4, 1.5, 28), sink(0.3, 0.8, 30, 0.01)]
    case 'heavy-transform':
      return [src(0.2, 1, 20, 0.3), xf(0.3, 20, 0.4), sink(18, 0.5, 2)]
    case 'slow-discovery':
      return [src(30, 1, 0.3, 0.2), xf(30, 1, 0.2), sink(28, 0.3, 2)]
  }
}

// ---------- seeded randomness ----------

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Multiplicative jitter around 1 (≈ lognormal, sigma 0.25): durations are positive and right-skewed. */
function jitter(rnd: () => number): number {
  const u = rnd() + rnd() + rnd() - 1.5
  return Math.exp(0.5 * u)
}

/** A random 19-digit decimal below 2^63, the way dd-trace ids look. */
function randomId(rnd: () => number): string {
  return String(1e9 + Math.floor(rnd() * 8e9)) + String(Math.floor(rnd() * 1e9)).padStart(9, '0')
}

// ---------- writing ----------

/** Epoch the synthetic window starts at (fixed, so generated bundles are reproducible). */
const BASE_EPOCH_MS = Date.UTC(2025, 0, 15, 10, 0, 0)
const EVENTS_PER_SECOND = 5_000
const INTERVALS = 10
const WRITE_CHUNK_CHARS = 256 * 1024
/** Traces per simulated payload (dd-trace flushes every second or so). */
const TRACES_PER_PAYLOAD = 40
/** How many traces later the deferred iteration chunk of a split trace is written. */
const SPLIT_DELAY_TRACES = 7

class GzipLineWriter {
  private buf = ''
  private readonly gzip = createGzip({level: zlibConstants.Z_BEST_SPEED})
  private readonly out
  private readonly done: Promise<void>

  constructor(file: string) {
    this.out = createWriteStream(file)
    this.gzip.pipe(this.out)
    this.done = new Promise((resolve, reject) => {
      this.out.on('finish', resolve)
      this.out.on('error', reject)
      this.gzip.on('error', reject)
    })
  }

  async line(s: string): Promise<void> {
    this.buf += s + '\n'
    if (this.buf.length >= WRITE_CHUNK_CHARS) await this.flush()
  }

  private async flush(): Promise<void> {
    const chunk = this.buf
    this.buf = ''
    if (!this.gzip.write(chunk)) await once(this.gzip, 'drain')
  }

  async close(): Promise<void> {
    await this.flush()
    this.gzip.end()
    await this.done
  }
}

/** ns since the window start → epoch-ns decimal string, built from two parts because epoch ns exceed 2^53. */
function nsString(relNs: number): string {
  const whole = Math.round(relNs)
  const secs = Math.floor(whole / 1e9)
  return `${BASE_EPOCH_MS / 1000 + secs}${String(whole - secs * 1e9).padStart(9, '0')}`
}

interface ComponentState {
  model: ComponentModel
  cursorNs: number
  iterations: number
}

export async function generateBundleDir(opts: GenerateOptions): Promise<GenerateResult> {
  const dir = opts.dir
  const target = opts.spans ?? 10_000
  const scenario = opts.scenario ?? 'balanced'
  const level = opts.level ?? 'info'
  const withTracing = opts.withTracing ?? true
  const rnd = prng(opts.seed ?? 1)
  const models = scenarioModel(scenario)

  await fs.mkdir(path.join(dir, 'spans'), {recursive: true})
  await fs.mkdir(path.join(dir, 'pipeline'), {recursive: true})
  await fs.mkdir(path.join(dir, 'metrics'), {recursive: true})
  await fs.mkdir(path.join(dir, 'host'), {recursive: true})

  // Window length: what `target` spans take at this scenario's iteration rates.
  const spansPerIter = (m: ComponentModel) =>
    1 + m.stages.reduce((a, s) => a + (s.p ?? 1) * (1 + (level === 'debug' && s.sub ? s.sub.length : 0)), 0)
  const iterMs = (m: ComponentModel) => m.stages.reduce((a, s) => a + (s.p ?? 1) * s.ms, 0) * 1.03 + 0.05
  const spansPerMs = models.reduce((a, m) => a + spansPerIter(m) / iterMs(m), 0)
  const estimatedWindowMs = withTracing ? target / spansPerMs : 20_000
  const intervalMs = Math.max(1, estimatedWindowMs / INTERVALS)

  const states: ComponentState[] = models.map((model) => ({model, cursorNs: rnd() * 1e6, iterations: 0}))
  // per interval bucket and component: events, errors, own-work, blocked and CPU ns finished in it, and the latency histogram
  const buckets: Bucket[] = []
  const record = (ci: number, atNs: number, it: IterationTotals) => {
    const b = Math.floor(atNs / 1e6 / intervalMs)
    while (buckets.length <= b) buckets.push(emptyBucket())
    const k = buckets[b]
    k.events[ci] += it.events
    k.errors[ci] += it.errors
    k.own[ci] += it.ownNs
    k.blocked[ci] += it.blockedNs
    k.cpu[ci] += it.cpuNs
    if (it.latencyNs !== null) observe(k.latency[ci], it.latencyNs / 1e9)
  }

  const writer = withTracing ? new GzipLineWriter(path.join(dir, ENTRY.spans)) : null
  let written = 0
  let traces = 0
  let payload = 0
  const deferred: {line: string; due: number}[] = []
  const tidHigh = Math.floor(BASE_EPOCH_MS / 1000).toString(16).padStart(8, '0') + '00000000'
  const windowCapNs = withTracing ? Number.POSITIVE_INFINITY : estimatedWindowMs * 1e6

  const spanLine = (o: {
    trace: string
    id: string
    parent: string
    name: string
    resource: string
    startNs: number
    durNs: number
    error: number
    meta: Record<string, string>
    metrics: Record<string, number>
    payload: number
  }) =>
    JSON.stringify({
      trace_id: o.trace,
      trace_id_high: tidHigh,
      span_id: o.id,
      parent_id: o.parent,
      service: 'vector',
      name: o.name,
      resource: o.resource,
      type: 'worker',
      start: nsString(o.startNs),
      duration: String(Math.max(1, Math.round(o.durNs))),
      error: o.error,
      meta: {language: 'javascript', 'runtime-id': 'f3c1e0a2-5b7d-4c19-9a64-0d2e8b7c1f55', '_dd.p.tid': tidHigh, '_dd.p.dm': '-0', ...o.meta},
      metrics: {_sampling_priority_v1: 1, 'process_id': 4242, ...o.metrics},
      payload: o.payload,
    })

  while (true) {
    // Advance the component that is furthest behind, so all three cover the same window.
    let ci = 0
    for (let k = 1; k < states.length; k++) if (states[k].cursorNs < states[ci].cursorNs) ci = k
    const st = states[ci]
    const m = st.model
    if (st.cursorNs >= windowCapNs) break

    // Lay out one iteration: stages back to back with small uninstrumented gaps.
    const iterStart = st.cursorNs
    let t = iterStart + 20_000 * rnd()
    const stages: {model: StageModel; start: number; dur: number; error: number}[] = []
    for (const s of m.stages) {
      if (s.p !== undefined && rnd() >= s.p) continue
      const dur = s.ms * 1e6 * jitter(rnd)
      const error = s.errorRate && rnd() < s.errorRate ? 1 : 0
      stages.push({model: s, start: t, dur, error})
      t += dur + dur * 0.02 * rnd()
    }
    const iterEnd = t + 10_000 * rnd()
    const lines: string[] = []
    const traceId = randomId(rnd)
    const seq = Math.floor(traces / TRACES_PER_PAYLOAD)
    lines.push(
      spanLine({
        trace: traceId,
        id: traceId,
        parent: '0',
        name: 'iteration',
        resource: m.id,
        startNs: iterStart,
        durNs: iterEnd - iterStart,
        error: 0,
        meta: {component_id: m.id, component_kind: m.kind, component_type: m.type},
        metrics: {},
        payload: seq,
      }),
    )
    let events = 0
    let errors = 0
    let ownNs = 0
    let blockedNs = 0
    let cpuNs = 0
    let latencyNs: number | null = null
    const eventsInIteration = Math.max(1, Math.round(((iterEnd - iterStart) / 1e9) * EVENTS_PER_SECOND))
    for (const s of stages) {
      const id = randomId(rnd)
      const carriesEvents = ['read', 'process', 'send', 'encode'].includes(s.model.name)
      if (s.error) errors++
      if (!['sleep', 'wait'].includes(s.model.name) && !(s.model.name === 'send' && m.kind !== 'sink')) ownNs += s.dur
      if (s.model.name === 'send' && m.kind !== 'sink') blockedNs += s.dur
      if (s.model.name === 'process') cpuNs += s.dur * s.model.cpu
      // What Vector's latency histograms measure: a source's send, a transform's processing, a sink's request.
      if (s.model.name === LATENCY_STAGE[m.kind]) latencyNs = (latencyNs ?? 0) + s.dur
      lines.push(
        spanLine({
          trace: traceId,
          id,
          parent: traceId,
          name: s.model.name,
          resource: m.id,
          startNs: s.start,
          durNs: s.dur,
          error: s.error,
          meta: {component_id: m.id, stage: s.model.name, ...(s.error ? {'error.message': s.model.errorMessage ?? 'error', 'error.type': 'Error'} : {})},
          metrics: {
            cpu_ns: Math.round(s.dur * s.model.cpu * (0.9 + 0.2 * rnd())),
            ...(carriesEvents ? {events: eventsInIteration, bytes: eventsInIteration * 180} : {}),
          },
          payload: seq,
        }),
      )
      if (level === 'debug' && s.model.sub) {
        let u = s.start + s.dur * 0.01
        for (const sub of s.model.sub) {
          const dur = s.dur * sub.frac * (0.9 + 0.2 * rnd())
          const end = Math.min(u + dur, s.start + s.dur)
          lines.push(
            spanLine({
              trace: traceId,
              id: randomId(rnd),
              parent: id,
              name: sub.name,
              resource: m.id,
              startNs: u,
              durNs: end - u,
              error: 0,
              meta: {component_id: m.id, stage: s.model.name, substage: sub.name, ...(sub.meta ?? {})},
              metrics: {cpu_ns: Math.round((end - u) * sub.cpu)},
              payload: seq,
            }),
          )
          u = end
        }
      }
    }
    if (written + lines.length > target && withTracing) break
    events += eventsInIteration
    st.cursorNs = iterEnd + 50_000 * rnd()
    st.iterations++
    record(ci, iterEnd, {events, errors, ownNs, blockedNs, cpuNs, latencyNs})
    traces++

    if (writer) {
      const split = opts.splitChunks && traces % 3 === 0
      if (split) {
        // The iteration arrives in a later payload than its children (a partial flush).
        const [iterLine, ...rest] = lines
        for (const l of rest) await writer.line(l)
        deferred.push({line: iterLine.replace(/"payload":\d+}$/, `"payload":${seq + 1}}`), due: traces + SPLIT_DELAY_TRACES})
      } else {
        for (const l of lines) await writer.line(l)
      }
      while (deferred.length > 0 && deferred[0].due <= traces) await writer.line(deferred.shift()!.line)
    }
    if (writer) written += lines.length
    payload = seq
  }
  if (writer) {
    for (const d of deferred) await writer.line(d.line)
    await writer.close()
  }

  // The window: until the component furthest behind stopped (the others' last iterations run past it, as in-flight ones do).
  const windowNs = withTracing ? Math.min(...states.map((s) => s.cursorNs)) : windowCapNs
  const windowMs = windowNs / 1e6
  const startedAt = new Date(BASE_EPOCH_MS).toISOString()
  const expiresAt = new Date(BASE_EPOCH_MS + windowMs).toISOString()
  const endedAt = new Date(BASE_EPOCH_MS + Math.max(...states.map((s) => s.cursorNs)) / 1e6 + 1_500).toISOString()

  // Metrics: cumulative counters at the start, at each interval and at the end.
  const snapshots: MetricsSnapshot[] = []
  const cumulative = [0, 0, 0]
  const cumErrors = [0, 0, 0]
  const withPrometheus = opts.withPrometheus || opts.withUtilization
  const scrapes: PrometheusRecord[] = []
  const errorTicks: ErrorsRecord[] = []
  const bucketCount = Math.max(1, Math.ceil(windowMs / intervalMs))
  const counterOnly = models.map((m) => opts.counterErrors?.[m.id] ?? 0)
  const cum = {
    cpu: [0, 0, 0],
    discarded: [0, 0, 0],
    latency: models.map(() => newHistogram()),
    // errors only the counters see, planted evenly over the window
    extra: (tMs: number, k: number) => Math.floor((counterOnly[k] * Math.min(tMs, windowMs)) / Math.max(1, windowMs)),
  }
  // Like the admin API's snapshots, these carry no errors: those come from the error stream and the scrapes.
  const snap = (seqNo: number, tMs: number, phase: MetricsSnapshot['phase'], k: Bucket | null, dtMs: number) => {
    const components: Record<string, ComponentCounters> = {}
    models.forEach((m, i) => {
      components[m.id] = {
        received_events: cumulative[i],
        sent_events: cumulative[i],
        received_bytes: cumulative[i] * 180,
        sent_bytes: cumulative[i] * 180,
      }
    })
    const at = new Date(BASE_EPOCH_MS + tMs).toISOString()
    const tCapture = Math.round(tMs + 120)
    snapshots.push({seq: seqNo, at, t_ms: tCapture, phase, components})
    if (withPrometheus) scrapes.push({seq: seqNo, at, t_ms: tCapture, phase, scrape: scrapeAt(models, {phase, bucket: k, dtMs, cumulative, cumErrors, cum, tMs, blockedReadsBusy: opts.blockedReadsBusy === true})})
  }
  snap(0, 0, 'start', null, 0)
  for (let b = 0; b < bucketCount; b++) {
    const k = buckets[b] ?? null
    const startMs = b * intervalMs
    const tMs = Math.min(windowMs, (b + 1) * intervalMs)
    if (opts.withErrorsStream) {
      // Ticks inside the interval see its errors arrive gradually.
      for (let q = 0; q < ERROR_TICKS_PER_INTERVAL; q++) {
        const at = startMs + ((tMs - startMs) * q) / ERROR_TICKS_PER_INTERVAL
        const frac = q / ERROR_TICKS_PER_INTERVAL
        errorTicks.push({
          seq: errorTicks.length,
          at: new Date(BASE_EPOCH_MS + at).toISOString(),
          t_ms: Math.round(at + 110),
          components: Object.fromEntries(models.map((m, i) => [m.id, cumErrors[i] + Math.floor((k?.errors[i] ?? 0) * frac) + cum.extra(at, i)])),
        })
      }
    }
    if (k) {
      for (let c = 0; c < 3; c++) {
        cumulative[c] += k.events[c]
        cumErrors[c] += k.errors[c]
        cum.cpu[c] += k.cpu[c]
        // A transform drops the event it failed on.
        if (models[c].kind === 'transform') cum.discarded[c] += k.errors[c]
        addHistogram(cum.latency[c], k.latency[c])
      }
    }
    snap(b + 1, tMs, b === bucketCount - 1 ? 'end' : 'interval', k, tMs - startMs)
  }
  if (opts.withErrorsStream) {
    errorTicks.push({
      seq: errorTicks.length,
      at: new Date(BASE_EPOCH_MS + windowMs).toISOString(),
      t_ms: Math.round(windowMs + 110),
      components: Object.fromEntries(models.map((m, i) => [m.id, cumErrors[i] + cum.extra(windowMs, i)])),
    })
  }

  const window: TracingWindow = {
    id: `w-${opts.seed ?? 1}`,
    state: 'ended',
    started_at: startedAt,
    expires_at: expiresAt,
    ended_at: endedAt,
    level,
    endpoint: 'http://127.0.0.1:45678',
    components: ['*'],
    sample_rate: 1,
    spans_started: written,
    spans_dropped: 0,
  }
  const tracing: TracingRecord = withTracing
    ? {
        supported: true,
        reason: null,
        status_http: 200,
        max_duration_secs: 3600,
        requested: {duration_secs: windowMs / 1000, level, endpoint: window.endpoint},
        opened: {...window, state: 'active', ended_at: null, spans_started: 0},
        final: window,
        ended_cleanly: true,
        close_error: null,
      }
    : {
        supported: false,
        reason: 'GET /tracing answered 404: this pipeline cannot turn on tracing',
        status_http: 404,
        max_duration_secs: null,
        requested: null,
        opened: null,
        final: null,
        ended_cleanly: false,
        close_error: null,
      }
  const version = opts.version ?? '0.55.0'
  const config = opts.withConfig ? configCollection(models) : null
  const facts: PipelineFacts = {
    api: {url: 'http://127.0.0.1:8686', generation: opts.withEdges ? 'graphql' : 'grpc', detection: ['synthetic bundle (bench/generate-bundle)']},
    version,
    version_string: `${version} (vdiag-demo x86_64-unknown-linux-gnu)`,
    hostname: 'synthetic-host',
    components: models.map((m) => ({id: m.id, kind: m.kind, type: m.type, outputs: ['_default']})),
    edges: opts.withEdges ? [{from: IDS.source, to: IDS.transform}, {from: IDS.transform, to: IDS.sink}] : config ? config.collection.edges.map((e) => ({from: e.from, to: e.to})) : null,
    edges_source: opts.withEdges ? 'graphql' : config ? 'config' : 'none',
  }

  await writeJson(path.join(dir, ENTRY.pipeline), facts)
  await writeJson(path.join(dir, ENTRY.tracing), tracing)
  await fs.writeFile(path.join(dir, ENTRY.metrics), snapshots.map((s) => JSON.stringify(s)).join('\n') + '\n')
  if (withPrometheus) await fs.writeFile(path.join(dir, ENTRY.prometheus), scrapes.map((s) => JSON.stringify(s)).join('\n') + '\n')
  if (opts.withErrorsStream) await fs.writeFile(path.join(dir, ENTRY.errors), errorTicks.map((s) => JSON.stringify(s)).join('\n') + '\n')
  if (config) {
    await fs.mkdir(path.join(dir, ENTRY.configDir), {recursive: true})
    await fs.writeFile(path.join(dir, config.entry), config.text)
    await writeJson(path.join(dir, ENTRY.configIndex), config.collection)
  }
  const logs = opts.withLogs ? logCollection(startedAt, endedAt) : null
  if (logs) {
    await fs.mkdir(path.join(dir, ENTRY.logsDir), {recursive: true})
    await fs.writeFile(path.join(dir, logs.entry), logs.text)
    await writeJson(path.join(dir, ENTRY.logsIndex), logs.collection)
  }
  await writeJson(path.join(dir, ENTRY.host), {os: {platform: 'linux', release: '6.1.0'}, cpu: {cores: 2}, node: process.version, synthetic: true})
  const draft: Omit<Manifest, 'files'> = {
    format: FORMAT_NAME,
    format_version: FORMAT_VERSION,
    vdiag_version: '0.1.0',
    created_at: endedAt,
    complete: true,
    incomplete_reason: null,
    command_line: ['generate-bundle', '--spans', String(target), '--scenario', scenario, '--level', level],
    capture: {
      api: facts.api.url,
      duration_ms: Math.round(windowMs),
      interval_ms: Math.round(intervalMs),
      level,
      max_spans: 1_000_000,
      via: 'local',
      intake: withTracing ? window.endpoint : null,
    },
    pipeline: {api_generation: facts.api.generation, version: facts.version, hostname: facts.hostname},
    window: {start: withTracing ? startedAt : new Date(BASE_EPOCH_MS).toISOString(), end: withTracing ? endedAt : expiresAt},
    collectors: {
      pipeline: {status: 'ok', duration_ms: 12},
      tracing: withTracing ? {status: 'ok', duration_ms: Math.round(windowMs)} : {status: 'skipped', duration_ms: 3, detail: tracing.reason ?? undefined},
      metrics: {status: 'ok', duration_ms: Math.round(windowMs)},
      host: {status: 'ok', duration_ms: 40},
      ...(withPrometheus ? {internal_metrics: {status: 'ok' as const, duration_ms: Math.round(windowMs), detail: `${scrapes.length} scrapes, 0 failed`}} : {}),
      ...(opts.withErrorsStream ? {errors: {status: 'ok' as const, duration_ms: Math.round(windowMs), detail: `${errorTicks.length} samples via grpc`}} : {}),
      ...(config ? {config: {status: 'ok' as const, duration_ms: 5, detail: `1 of 1 files, ${config.collection.edges.length} edges`}} : {}),
      ...(logs ? {logs: {status: 'ok' as const, duration_ms: 8}} : {}),
    },
    counts: {
      payloads: withTracing ? payload + 1 : 0,
      bad_payloads: 0,
      oversized_payloads: 0,
      spans_kept: written,
      spans_dropped_vdiag: 0,
      spans_started: withTracing ? written : null,
      spans_dropped_pipeline: withTracing ? 0 : null,
      spans_lost: withTracing ? 0 : null,
      traces,
    },
    redaction: {enabled: true, rules_version: 1, rules: [], hits: [], total: 0},
  }
  // The real writer's finishing step (README.txt, then manifest.json with every file's size and sha256).
  const {finaliseDirectory} = await import('../src/bundle/writer.js')
  const manifest = await finaliseDirectory(dir, draft)
  const iterations = states.reduce((a, s) => a + s.iterations, 0)
  return {dir, spans: written, traces, iterations, window_ms: windowMs, manifest}
}

// ---------- internal metrics, error totals, config and logs ----------

/** Vector's default latency histogram bounds, seconds. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
/** Which stage each kind's latency histogram measures, and the family it is published as. */
const LATENCY_STAGE: Record<ComponentKind, string> = {source: 'send', transform: 'process', sink: 'send'}
const LATENCY_FAMILY: Record<ComponentKind, string> = {source: 'source_send_latency_seconds', transform: 'component_latency_seconds', sink: 'http_client_rtt_seconds'}
/** Events a buffer holds (Vector's default for source and transform buffers is 1000 per output). */
const BUFFER_CAPACITY = 1000
/** The admin API's error stream ticks about once a second: a few ticks per snapshot interval. */
const ERROR_TICKS_PER_INTERVAL = 4

interface Histogram {
  sum: number
  count: number
  /** per bound, not cumulative */
  counts: number[]
}

interface Bucket {
  events: number[]
  errors: number[]
  own: number[]
  blocked: number[]
  cpu: number[]
  latency: Histogram[]
}

interface IterationTotals {
  events: number
  errors: number
  ownNs: number
  blockedNs: number
  cpuNs: number
  latencyNs: number | null
}

function newHistogram(): Histogram {
  return {sum: 0, count: 0, counts: LATENCY_BUCKETS.map(() => 0)}
}

function emptyBucket(): Bucket {
  return {events: [0, 0, 0], errors: [0, 0, 0], own: [0, 0, 0], blocked: [0, 0, 0], cpu: [0, 0, 0], latency: [newHistogram(), newHistogram(), newHistogram()]}
}

function observe(h: Histogram, seconds: number): void {
  h.sum += seconds
  h.count++
  const i = LATENCY_BUCKETS.findIndex((le) => seconds <= le)
  if (i >= 0) h.counts[i]++
}

function addHistogram(into: Histogram, h: Histogram): void {
  into.sum += h.sum
  into.count += h.count
  h.counts.forEach((n, i) => (into.counts[i] += n))
}

interface ScrapeContext {
  phase: MetricsSnapshot['phase']
  bucket: Bucket | null
  dtMs: number
  tMs: number
  cumulative: number[]
  cumErrors: number[]
  cum: {cpu: number[]; discarded: number[]; latency: Histogram[]; extra: (tMs: number, k: number) => number}
  blockedReadsBusy: boolean
}

/** One scrape as capture stores it (PrometheusScrape), from the simulated totals. */
function scrapeAt(models: ComponentModel[], ctx: ScrapeContext): PrometheusScrape {
  const {bucket, dtMs} = ctx
  const types: PrometheusScrape['types'] = {}
  const components: Record<string, PrometheusComponentSample> = {}
  let samples = 0
  const put = (sample: PrometheusComponentSample, family: string, type: PrometheusScrape['types'][string], series: PrometheusSeries) => {
    ;(sample.metrics[family] ??= []).push(series)
    types[family] = type
    samples += series.buckets ? series.buckets.length + 3 : 1
  }
  const share = (ns: number) => Math.min(1, ns / 1e6 / Math.max(1, dtMs))
  const blockedShare = (kind: ComponentKind) => {
    const i = models.findIndex((m) => m.kind === kind)
    return bucket && i >= 0 ? share(bucket.blocked[i]) : 0
  }
  const r4 = (x: number) => Math.round(x * 1e4) / 1e4
  models.forEach((m, i) => {
    const s: PrometheusComponentSample = {kind: m.kind, type: m.type, metrics: {}}
    put(s, 'component_received_events_total', 'counter', {value: ctx.cumulative[i]})
    put(s, 'component_sent_events_total', 'counter', {value: ctx.cumulative[i]})
    put(s, 'component_errors_total', 'counter', {value: ctx.cumErrors[i] + ctx.cum.extra(ctx.tMs, i)})
    // Vector publishes utilization every 5 s: the scrape at the start holds none yet.
    if (ctx.phase !== 'start') {
      const busy = bucket ? bucket.own[i] + (ctx.blockedReadsBusy ? bucket.blocked[i] : 0) : 0
      put(s, 'utilization', 'gauge', {value: r4(share(busy))})
    }
    const h = ctx.cum.latency[i]
    let cumulative = 0
    const buckets = LATENCY_BUCKETS.map((le, k): [number, number] => [le, (cumulative += h.counts[k])])
    put(s, LATENCY_FAMILY[m.kind], 'histogram', {sum: h.sum, count: h.count, buckets})
    if (m.kind === 'transform') {
      put(s, 'component_cpu_usage_ns_total', 'counter', {value: Math.round(ctx.cum.cpu[i])})
      put(s, 'component_discarded_events_total', 'counter', {labels: {intentional: 'false'}, value: ctx.cum.discarded[i]})
    }
    // A buffer fills while the component reading it lets its writer wait.
    const level = (kind: ComponentKind) => Math.round(blockedShare(kind) * BUFFER_CAPACITY)
    if (m.kind === 'source') {
      put(s, 'source_buffer_utilization_level', 'gauge', {labels: {output: '_default'}, value: level('source')})
      put(s, 'source_buffer_max_size_events', 'gauge', {labels: {output: '_default'}, value: BUFFER_CAPACITY})
    } else if (m.kind === 'transform') {
      put(s, 'transform_buffer_utilization_level', 'gauge', {value: level('source')})
      put(s, 'transform_buffer_max_size_events', 'gauge', {value: BUFFER_CAPACITY})
    } else {
      put(s, 'buffer_size_events', 'gauge', {labels: {stage: '0'}, value: level('transform')})
      put(s, 'buffer_max_size_events', 'gauge', {labels: {stage: '0'}, value: BUFFER_CAPACITY})
    }
    components[m.id] = s
  })
  return {prefix: 'vector_', types, components, bytes: JSON.stringify(components).length, lines: samples, samples, skipped_lines: 0, unattributed: 0}
}

/** config/index.json for the three components (file → remap → http), as `--config` collects it. */
function configCollection(models: ComponentModel[]): {entry: string; text: string; collection: ConfigCollection} {
  const entry = configEntry(1, 'vector.yaml')
  const [src, xf, sink] = models
  const text = [
    'sources:',
    `  ${src.id}:`,
    `    type: ${src.type}`,
    '    include: ["/var/log/app/*.log"]',
    'transforms:',
    `  ${xf.id}:`,
    `    type: ${xf.type}`,
    `    inputs: ["${src.id}"]`,
    "    source: '. = parse_json!(.message)'",
    'sinks:',
    `  ${sink.id}:`,
    `    type: ${sink.type}`,
    `    inputs: ["${xf.id}"]`,
    '    uri: "http://127.0.0.1/ingest"',
    '    auth:',
    '      strategy: bearer',
    '      token: "[REDACTED]"',
    '',
  ].join('\n')
  const component = (m: ComponentModel, inputs: string[]) => ({id: m.id, kind: m.kind, type: m.type, inputs, outputs: [], entry})
  return {
    entry,
    text,
    collection: {
      files: [{source: '/etc/vector/vector.yaml', entry, format: 'yaml', stored_as: 'yaml', layout: 'config', ok: true, components: models.map((m) => m.id)}],
      components: [component(src, []), component(xf, [src.id]), component(sink, [xf.id])],
      edges: [
        {from: src.id, to: xf.id, output: null, input: src.id},
        {from: xf.id, to: sink.id, output: null, input: xf.id},
      ],
      unresolved_inputs: [],
      errors: [],
      warnings: [],
    },
  }
}

/** logs/index.json: one file tail from the window and a journal unit that could not be read. */
function logCollection(since: string, until: string): {entry: string; text: string; collection: LogCollection} {
  const entry = logEntry(1, 'vector.log')
  const lines = Array.from({length: 12}, (_, i) => {
    const at = new Date(Date.parse(since) + i * 1000).toISOString()
    return `${at}  WARN sink{component_id=http_out}: vector::sinks::util::retries: Retrying after error. error=Server responded with an error: 503 Service Unavailable`
  })
  const text = lines.join('\n') + '\n'
  return {
    entry,
    text,
    collection: {
      since,
      until,
      max_bytes: 1024 * 1024,
      sources: [
        {spec: '/var/log/vector/vector.log', kind: 'file', entry, status: 'ok', selection: 'window', bytes_read: Buffer.byteLength(text), truncated: false, lines: lines.length, first_timestamp: lines.length ? since : null, last_timestamp: new Date(Date.parse(since) + 11_000).toISOString(), duration_ms: 3},
        {spec: 'journal:vector', kind: 'journal', entry: null, status: 'failed', error: 'journalctl is not installed', selection: null, bytes_read: 0, truncated: false, lines: 0, first_timestamp: null, last_timestamp: null, duration_ms: 1},
      ],
    },
  }
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await fs.writeFile(file, JSON.stringify(value, null, 2) + '\n')
}

// ---------- CLI ----------

function parseArgs(argv: string[]): GenerateOptions {
  const o: Partial<GenerateOptions> = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = () => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${a} needs a value`)
      return v
    }
    if (a === '--spans') o.spans = Number(next())
    else if (a === '--out') o.dir = next()
    else if (a === '--scenario') o.scenario = next() as Scenario
    else if (a === '--level') o.level = next() as TracingLevel
    else if (a === '--seed') o.seed = Number(next())
    else if (a === '--split-chunks') o.splitChunks = true
    else if (a === '--no-tracing') o.withTracing = false
    else if (a === '--edges') o.withEdges = true
    else if (a === '--utilization') o.withUtilization = true
    else if (a === '--prometheus') o.withPrometheus = true
    else if (a === '--blocked-reads-busy') o.blockedReadsBusy = true
    else if (a === '--errors-stream') o.withErrorsStream = true
    else if (a === '--config') o.withConfig = true
    else if (a === '--logs') o.withLogs = true
    else if (a === '--version') o.version = next()
    else throw new Error(`unknown argument ${a}`)
  }
  if (!o.dir) throw new Error('--out DIR is required')
  if (o.spans !== undefined && !(Number.isInteger(o.spans) && o.spans > 0)) throw new Error('--spans must be a positive integer')
  if (o.scenario && !SCENARIOS.includes(o.scenario)) throw new Error(`--scenario must be one of ${SCENARIOS.join(', ')}`)
  if (o.level && o.level !== 'info' && o.level !== 'debug') throw new Error('--level must be info or debug')
  return o as GenerateOptions
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    const opts = parseArgs(process.argv.slice(2))
    const started = Date.now()
    const r = await generateBundleDir(opts)
    process.stdout.write(
      JSON.stringify({dir: r.dir, spans: r.spans, traces: r.traces, iterations: r.iterations, window_ms: Math.round(r.window_ms), elapsed_ms: Date.now() - started}) + '\n',
    )
  } catch (e) {
    process.stderr.write(`generate-bundle: ${(e as Error).message}\n`)
    process.exitCode = 2
  }
}
