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
  type Manifest,
  type MetricsSnapshot,
  type PipelineFacts,
  type TracingRecord,
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
  /** Add Vector's `utilization` gauge to the metric snapshots. */
  withUtilization?: boolean
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
  // per interval bucket and component: events, errors and own-work ns finished in it
  const buckets: {events: number[]; errors: number[]; own: number[]}[] = []
  const record = (ci: number, atNs: number, events: number, errors: number, ownNs: number) => {
    const b = Math.floor(atNs / 1e6 / intervalMs)
    while (buckets.length <= b) buckets.push({events: [0, 0, 0], errors: [0, 0, 0], own: [0, 0, 0]})
    buckets[b].events[ci] += events
    buckets[b].errors[ci] += errors
    buckets[b].own[ci] += ownNs
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
    const eventsInIteration = Math.max(1, Math.round(((iterEnd - iterStart) / 1e9) * EVENTS_PER_SECOND))
    for (const s of stages) {
      const id = randomId(rnd)
      const carriesEvents = ['read', 'process', 'send', 'encode'].includes(s.model.name)
      if (s.error) errors++
      if (!['sleep', 'wait'].includes(s.model.name) && !(s.model.name === 'send' && m.kind !== 'sink')) ownNs += s.dur
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
    record(ci, iterEnd, events, errors, ownNs)
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
  const snap = (seqNo: number, tMs: number, phase: MetricsSnapshot['phase'], own: number[] | null, dtMs: number) => {
    const components: Record<string, ComponentCounters> = {}
    models.forEach((m, k) => {
      const received = cumulative[k]
      const c: ComponentCounters & {utilization?: number} = {
        received_events: received,
        sent_events: cumulative[k],
        received_bytes: received * 180,
        sent_bytes: cumulative[k] * 180,
        errors: cumErrors[k],
      }
      if (opts.withUtilization && own) c.utilization = Math.min(1, Math.round((own[k] / 1e6 / Math.max(1, dtMs)) * 1e4) / 1e4)
      components[m.id] = c
    })
    snapshots.push({seq: seqNo, at: new Date(BASE_EPOCH_MS + tMs).toISOString(), t_ms: Math.round(tMs + 120), phase, components})
  }
  snap(0, 0, 'start', null, 0)
  const bucketCount = Math.max(1, Math.ceil(windowMs / intervalMs))
  for (let b = 0; b < bucketCount; b++) {
    const k = buckets[b]
    if (k) {
      for (let c = 0; c < 3; c++) {
        cumulative[c] += k.events[c]
        cumErrors[c] += k.errors[c]
      }
    }
    const tMs = Math.min(windowMs, (b + 1) * intervalMs)
    snap(b + 1, tMs, b === bucketCount - 1 ? 'end' : 'interval', k ? k.own : [0, 0, 0], tMs - b * intervalMs)
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
  const facts: PipelineFacts = {
    api: {url: 'http://127.0.0.1:8686', generation: opts.withEdges ? 'graphql' : 'grpc', detection: ['synthetic bundle (bench/generate-bundle)']},
    version: '0.55.0',
    version_string: '0.55.0 (vdiag-demo x86_64-unknown-linux-gnu)',
    hostname: 'synthetic-host',
    components: models.map((m) => ({id: m.id, kind: m.kind, type: m.type, outputs: ['_default']})),
    edges: opts.withEdges ? [{from: IDS.source, to: IDS.transform}, {from: IDS.transform, to: IDS.sink}] : null,
    edges_source: opts.withEdges ? 'graphql' : 'none',
  }

  await writeJson(path.join(dir, ENTRY.pipeline), facts)
  await writeJson(path.join(dir, ENTRY.tracing), tracing)
  await fs.writeFile(path.join(dir, ENTRY.metrics), snapshots.map((s) => JSON.stringify(s)).join('\n') + '\n')
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
