/** Hand-made spans and bundles for analysis tests: every number is chosen so the expected result can be worked out by hand. */
import {promises as fs} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {gzipSync} from 'node:zlib'
import {
  ENTRY,
  FORMAT_NAME,
  FORMAT_VERSION,
  type Manifest,
  type MetricsSnapshot,
  type PipelineFacts,
  type SpanRecord,
  type TracingRecord,
} from '../../src/bundle/format.js'

/** Epoch seconds of "window start" in fixtures (2025-01-15T10:00:00Z). */
export const BASE_SEC = 1736935200
export const BASE_ISO = new Date(BASE_SEC * 1000).toISOString()

export function isoAt(ms: number): string {
  return new Date(BASE_SEC * 1000 + ms).toISOString()
}

/** ms since BASE_SEC → epoch-ns decimal string. */
export function nsAt(ms: number): string {
  const ns = Math.round(ms * 1e6)
  const secs = Math.floor(ns / 1e9)
  return `${BASE_SEC + secs}${String(ns - secs * 1e9).padStart(9, '0')}`
}

export interface SpanInit {
  trace: string
  id: string
  parent?: string
  name: string
  /** ms since BASE_SEC */
  start: number
  /** ms */
  dur: number
  meta?: Record<string, string>
  metrics?: Record<string, number>
  error?: number
  payload?: number
}

export function span(s: SpanInit): SpanRecord {
  return {
    trace_id: s.trace,
    span_id: s.id,
    parent_id: s.parent ?? '0',
    service: 'vector',
    name: s.name,
    resource: s.meta?.component_id ?? s.name,
    start: nsAt(s.start),
    duration: String(Math.round(s.dur * 1e6)),
    error: s.error ?? 0,
    meta: s.meta ?? {},
    metrics: s.metrics ?? {},
    payload: s.payload ?? 0,
  }
}

let nextId = 1000
/** A fresh decimal id (unique within a test run). */
export function id(): string {
  return String(nextId++)
}

/** One iteration with back-to-back stages; returns its spans. */
export function iteration(
  component: {id: string; kind: string; type: string},
  start: number,
  stages: {name: string; dur: number; gapBefore?: number; cpu?: number; error?: string; sub?: {name: string; dur: number}[]}[],
  tail = 0,
): SpanRecord[] {
  const trace = id()
  const out: SpanRecord[] = []
  let t = start
  const children: SpanRecord[] = []
  for (const s of stages) {
    t += s.gapBefore ?? 0
    const sid = id()
    children.push(
      span({
        trace,
        id: sid,
        parent: trace,
        name: s.name,
        start: t,
        dur: s.dur,
        meta: {component_id: component.id, stage: s.name, ...(s.error ? {'error.message': s.error} : {})},
        metrics: s.cpu !== undefined ? {cpu_ns: s.cpu * 1e6} : {},
        error: s.error ? 1 : 0,
      }),
    )
    let u = t
    for (const sub of s.sub ?? []) {
      children.push(span({trace, id: id(), parent: sid, name: sub.name, start: u, dur: sub.dur, meta: {component_id: component.id, stage: s.name, substage: sub.name}}))
      u += sub.dur
    }
    t += s.dur
  }
  out.push(
    span({
      trace,
      id: trace,
      name: 'iteration',
      start,
      dur: t + tail - start,
      meta: {component_id: component.id, component_kind: component.kind, component_type: component.type},
    }),
  )
  return out.concat(children)
}

export function baseManifest(over: Partial<Manifest> = {}): Manifest {
  return {
    format: FORMAT_NAME,
    format_version: FORMAT_VERSION,
    vdiag_version: '0.1.0',
    created_at: isoAt(60_000),
    complete: true,
    incomplete_reason: null,
    command_line: ['vdiag', 'capture'],
    capture: {api: 'http://127.0.0.1:8686', duration_ms: 10_000, interval_ms: 5_000, level: 'info', max_spans: 1_000_000, via: 'local', intake: null},
    pipeline: {api_generation: 'grpc', version: '0.55.0', hostname: 'test-host'},
    window: {start: BASE_ISO, end: isoAt(10_000)},
    collectors: {},
    counts: {
      payloads: 1,
      bad_payloads: 0,
      oversized_payloads: 0,
      spans_kept: 0,
      spans_dropped_vdiag: 0,
      spans_started: null,
      spans_dropped_pipeline: 0,
      spans_lost: 0,
      traces: 0,
    },
    redaction: {enabled: true, rules_version: 1, rules: [], hits: [], total: 0},
    files: [],
    ...over,
  }
}

export function tracingRecord(startMs: number, endMs: number, level: 'info' | 'debug' = 'info'): TracingRecord {
  const w = {
    id: 'w1',
    state: 'ended' as const,
    started_at: isoAt(startMs),
    expires_at: isoAt(endMs),
    ended_at: isoAt(endMs + 1500),
    level,
    endpoint: 'http://127.0.0.1:1',
    components: ['*'],
    sample_rate: 1,
    spans_started: 0,
    spans_dropped: 0,
  }
  return {
    supported: true,
    reason: null,
    status_http: 200,
    max_duration_secs: 3600,
    requested: null,
    opened: {...w, state: 'active', ended_at: null},
    final: w,
    ended_cleanly: true,
    close_error: null,
  }
}

export interface FixtureBundle {
  spans?: SpanRecord[]
  /** Extra raw lines appended to the spans file (malformed input). */
  rawLines?: string[]
  facts?: PipelineFacts | null
  tracing?: TracingRecord | null
  snapshots?: MetricsSnapshot[]
  manifest?: Partial<Manifest>
}

export async function tempDir(prefix = 'vdiag-analysis-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix))
}

/** Writes an extracted bundle directory; returns what `analyseBundle` takes. */
export async function writeBundle(dir: string, b: FixtureBundle): Promise<{root: string; manifest: Manifest; verified: boolean}> {
  await fs.mkdir(path.join(dir, 'spans'), {recursive: true})
  await fs.mkdir(path.join(dir, 'pipeline'), {recursive: true})
  await fs.mkdir(path.join(dir, 'metrics'), {recursive: true})
  if (b.spans || b.rawLines) {
    const text = [...(b.spans ?? []).map((s) => JSON.stringify(s)), ...(b.rawLines ?? [])].join('\n') + '\n'
    await fs.writeFile(path.join(dir, ENTRY.spans), gzipSync(text))
  }
  if (b.facts) await fs.writeFile(path.join(dir, ENTRY.pipeline), JSON.stringify(b.facts))
  if (b.tracing) await fs.writeFile(path.join(dir, ENTRY.tracing), JSON.stringify(b.tracing))
  if (b.snapshots) await fs.writeFile(path.join(dir, ENTRY.metrics), b.snapshots.map((s) => JSON.stringify(s)).join('\n') + '\n')
  const manifest = baseManifest(b.manifest)
  await fs.writeFile(path.join(dir, ENTRY.manifest), JSON.stringify(manifest))
  return {root: dir, manifest, verified: true}
}

export const SOURCE = {id: 'src', kind: 'source', type: 'file'}
export const TRANSFORM = {id: 'xf', kind: 'transform', type: 'remap'}
export const SINK = {id: 'out', kind: 'sink', type: 'http'}

/** Deterministic shuffle (for "arrives in any order" tests). */
export function shuffled<T>(items: T[], seed: number): T[] {
  const a = [...items]
  let x = seed >>> 0 || 1
  for (let i = a.length - 1; i > 0; i--) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    const j = (x >>> 0) % (i + 1)
    ;[a[i], a[j]] = [a[j], a[i]]
  }
  return a
}
