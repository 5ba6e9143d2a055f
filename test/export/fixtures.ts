/**
 * Span fixtures laid out like an extracted bundle: manifest.json plus
 * spans/spans.ndjson.gz, with the shapes the exporters must survive: uint64
 * ids above 2^63, sub-µs times, sub-stages, concurrent stages, a trace split
 * over two payloads, a 128-bit trace id, an orphan, errors, cpu_ns, and
 * hostile component ids and stage names.
 */
import {mkdir, mkdtemp, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {gzipSync} from 'node:zlib'
import {ENTRY, FORMAT_NAME, FORMAT_VERSION, type Manifest, type SpanRecord} from '../../src/bundle/format.js'

export const WINDOW_START = '2025-03-01T12:00:00.000Z'
export const WINDOW_END = '2025-03-01T12:00:10.000Z'
export const T0 = BigInt(Date.parse(WINDOW_START)) * 1_000_000n
export const HIGH = 'a1b2c3d4e5f60718'
export const HOSTILE_ID = '</script><script>alert(1)</script><img src=x onerror=alert(2)>'
export const HOSTILE_STAGE = 'bad;stage\nname'

type Stage = [name: string, durNs: number, substages?: [string, number][]]

interface IterationOptions {
  component: string
  kind: 'source' | 'transform' | 'sink'
  type: string
  /** ns after T0 */
  at: number
  stages: Stage[]
  payload: number
  /** stage index that errors */
  errorStage?: number
  errorMessage?: string
  high?: string
  /** start stage i+1 this many ns before stage i ends (overlapping siblings) */
  overlapNs?: number
  cpuStage?: string
  /** children in `payload`, the root in `payload + 1` */
  splitRoot?: boolean
}

export class SpanFactory {
  readonly spans: SpanRecord[] = []
  private nextId = 18_000_000_000_000_000_000n
  private nextTrace = 17_000_000_000_000_000_000n
  /** Gap left between stages: untracked time. */
  static readonly GAP_NS = 1_001

  id(): string {
    return String(this.nextId++)
  }

  iteration(o: IterationOptions): {traceId: string; rootId: string} {
    const traceId = String(this.nextTrace++)
    const rootId = this.id()
    const base = (): Pick<SpanRecord, 'trace_id' | 'service'> => ({trace_id: traceId, service: 'vector'})
    const children: SpanRecord[] = []
    let cursor = o.at + 503
    o.stages.forEach(([name, dur, subs], i) => {
      const stageId = this.id()
      const stage: SpanRecord = {
        ...base(),
        span_id: stageId,
        parent_id: rootId,
        name,
        resource: name,
        start: String(T0 + BigInt(cursor)),
        duration: String(dur),
        error: o.errorStage === i ? 1 : 0,
        meta: {component_id: o.component, stage: name, ...(o.errorStage === i ? {'error.message': o.errorMessage ?? 'boom'} : {})},
        metrics: o.cpuStage === name ? {cpu_ns: Math.floor(dur / 3)} : {},
        payload: o.payload,
      }
      children.push(stage)
      let subCursor = cursor + 7
      for (const [sub, subDur] of subs ?? []) {
        children.push({
          ...base(),
          span_id: this.id(),
          parent_id: stageId,
          name: sub,
          resource: sub,
          start: String(T0 + BigInt(subCursor)),
          duration: String(subDur),
          error: 0,
          meta: {component_id: o.component, stage: name, substage: sub, 'file.path': '/var/log/a.log'},
          metrics: {},
          payload: o.payload,
        })
        subCursor += subDur + 3
      }
      cursor += dur + SpanFactory.GAP_NS - (o.overlapNs ?? 0)
    })
    const root: SpanRecord = {
      ...base(),
      span_id: rootId,
      parent_id: '0',
      name: 'iteration',
      resource: o.component,
      type: 'worker',
      start: String(T0 + BigInt(o.at)),
      duration: String(cursor - o.at + 997),
      error: 0,
      meta: {component_id: o.component, component_kind: o.kind, component_type: o.type},
      metrics: {},
      payload: o.splitRoot ? o.payload + 1 : o.payload,
    }
    const all = o.splitRoot ? [...children, root] : [root, ...children]
    if (o.high) {
      // Like the capture: every span of the chunk carries trace_id_high, only the first has the tag.
      const firstChunk = all.filter((s) => s.payload === all[0].payload)
      firstChunk.forEach((s, i) => {
        s.trace_id_high = o.high
        if (i === 0) s.meta['_dd.p.tid'] = o.high!
      })
    }
    this.spans.push(...all)
    return {traceId, rootId}
  }
}

/** The standard fixture: three components over ~10 iterations plus the odd cases. */
export function standardSpans(): {spans: SpanRecord[]; splitTrace: string; highTrace: string; orphanId: string} {
  const f = new SpanFactory()
  let payload = 1
  for (let i = 0; i < 4; i++) {
    f.iteration({
      component: 'in_file', kind: 'source', type: 'file', at: i * 1_000_000_000 + 11, payload: payload++,
      stages: [['discover', 2_000_333, [['collect_paths', 500_001], ['fingerprint', 1_200_017]]], ['read', 3_000_001], ['send', 40_000_123], ['sleep', 100_000_000]],
    })
    f.iteration({
      component: 'parse', kind: 'transform', type: 'remap', at: i * 1_000_000_000 + 5_000_000, payload: payload++,
      stages: [['wait', 1_000_000], ['process', 20_000_000], ['send', 500_000]], cpuStage: 'process',
    })
    f.iteration({
      component: 'out_http', kind: 'sink', type: 'http', at: i * 1_000_000_000 + 30_000_000, payload: payload++,
      stages: [['wait', 2_000_000], ['encode', 1_000_000], ['send', 300_000_000]],
      ...(i === 2 ? {errorStage: 2, errorMessage: 'HTTP 503 from <b>upstream</b> "x"'} : {}),
    })
  }
  // Concurrent encode and send in one sink iteration: overlapping siblings.
  f.iteration({component: 'out_http', kind: 'sink', type: 'http', at: 5_000_000_000, payload: payload++, stages: [['encode', 1_000_000], ['send', 2_000_000]], overlapNs: 500_000})
  // Children arrive one payload before their root.
  const split = f.iteration({component: 'parse', kind: 'transform', type: 'remap', at: 6_000_000_000, payload: payload, stages: [['process', 3_000_000], ['send', 1_000_000]], splitRoot: true, high: HIGH})
  payload += 2
  const high = f.iteration({component: 'in_file', kind: 'source', type: 'file', at: 6_500_000_000, payload: payload++, stages: [['read', 1_000_000]], high: HIGH})
  f.iteration({component: HOSTILE_ID, kind: 'sink', type: 'http', at: 7_000_000_000, payload: payload++, stages: [[HOSTILE_STAGE, 4_000_000], ['send', 1_000_000]], errorStage: 1, errorMessage: '</script><script>alert(3)</script>'})
  // Hostile meta: a span.kind that names an Object.prototype member.
  f.spans[f.spans.length - 1].meta['span.kind'] = 'constructor'
  // An orphan: its parent never arrived.
  const orphanId = f.id()
  f.spans.push({
    trace_id: '42', span_id: orphanId, parent_id: '4242', service: 'vector', name: 'send', resource: 'send',
    start: String(T0 + 8_000_000_000n), duration: '1234567', error: 0, meta: {component_id: 'parse', stage: 'send'}, metrics: {}, payload: payload++,
  })
  return {spans: f.spans, splitTrace: split.traceId, highTrace: high.traceId, orphanId}
}

export function manifestFor(spans: number, window: {start: string | null; end: string | null} = {start: WINDOW_START, end: WINDOW_END}): Manifest {
  return {
    format: FORMAT_NAME,
    format_version: FORMAT_VERSION,
    vdiag_version: '0.1.0',
    created_at: WINDOW_END,
    complete: true,
    incomplete_reason: null,
    command_line: ['vdiag', 'capture'],
    capture: {api: 'http://127.0.0.1:8686', duration_ms: 10_000, interval_ms: 1000, level: 'debug', max_spans: 1_000_000, via: 'local', intake: 'http://127.0.0.1:8126'},
    pipeline: {api_generation: 'grpc', version: '0.55.0', hostname: 'host-1'},
    window,
    collectors: {},
    counts: {payloads: 1, bad_payloads: 0, oversized_payloads: 0, spans_kept: spans, spans_dropped_vdiag: 0, spans_started: spans, spans_dropped_pipeline: 0, spans_lost: 0, traces: 1},
    redaction: {enabled: true, rules_version: 1, rules: [], hits: [], total: 0},
    files: [],
  }
}

/** Writes a bundle directory holding `lines` (objects are JSON-encoded) and returns its root. */
export async function writeBundle(lines: unknown[], manifest: Manifest, parent?: string): Promise<string> {
  const root = await mkdtemp(path.join(parent ?? os.tmpdir(), 'vdiag-export-'))
  await mkdir(path.join(root, path.dirname(ENTRY.spans)), {recursive: true})
  const text = lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + (lines.length > 0 ? '\n' : '')
  await writeFile(path.join(root, ENTRY.spans), gzipSync(text))
  await writeFile(path.join(root, ENTRY.manifest), JSON.stringify(manifest))
  return root
}
