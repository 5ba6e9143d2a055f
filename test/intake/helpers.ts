import {mkdtemp, readFile, readdir, rm} from 'node:fs/promises'
import {request} from 'node:http'
import os from 'node:os'
import path from 'node:path'
import {gunzipSync} from 'node:zlib'
import {Packr} from 'msgpackr'
import {ENTRY, type PayloadRecord, type SpanRecord} from '../../src/bundle/format.js'
import {startIntake, type Intake, type IntakeOptions} from '../../src/intake/server.js'
import {createSpanStore, type SpanStore, type SpanStoreOptions} from '../../src/intake/store.js'

export async function tempDir(prefix = 'vdiag-intake-'): Promise<{dir: string; remove(): Promise<void>}> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix))
  return {dir, remove: () => rm(dir, {recursive: true, force: true})}
}

export interface Harness {
  dir: string
  store: SpanStore
  intake: Intake
  rejects: {status: number; reason: string; path: string}[]
  payloads: PayloadRecord[]
  /** Closes intake then store (idempotent), removes the directory. */
  dispose(): Promise<void>
}

export async function startHarness(opts: Partial<SpanStoreOptions> & Omit<Partial<IntakeOptions>, 'store'> = {}): Promise<Harness> {
  const t = await tempDir()
  const store = await createSpanStore({dir: t.dir, maxSpans: opts.maxSpans ?? 1_000_000, redactSpan: opts.redactSpan})
  const rejects: Harness['rejects'] = []
  const payloads: PayloadRecord[] = []
  let intake: Intake
  try {
    intake = await startIntake({store, limits: opts.limits, onReject: (r) => rejects.push(r), onPayload: (p) => payloads.push(p)})
  } catch (e) {
    await store.close().catch(() => undefined)
    await t.remove()
    throw e
  }
  return {
    dir: t.dir,
    store,
    intake,
    rejects,
    payloads,
    async dispose() {
      await intake.close().catch(() => undefined)
      await store.close().catch(() => undefined)
      await t.remove()
    },
  }
}

export interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/**
 * One HTTP request on a fresh connection. Resolves with the response even if
 * the server closes the connection while the body is still being written (a
 * 413 does that); rejects only when no response came.
 */
export function send(url: string, opts: {method?: string; path: string; body?: Buffer | string; headers?: Record<string, string | number>; chunked?: boolean; timeoutMs?: number}): Promise<Reply> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    let answered = false
    const headers: Record<string, string | number> = {...opts.headers}
    if (opts.body !== undefined && !opts.chunked && headers['content-length'] === undefined) headers['content-length'] = Buffer.byteLength(opts.body)
    const req = request({host: u.hostname, port: u.port, method: opts.method ?? 'PUT', path: opts.path, headers, agent: false}, (res) => {
      answered = true
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8')}))
      res.on('error', (e) => reject(e))
    })
    req.setTimeout(opts.timeoutMs ?? 15_000, () => req.destroy(new Error('request timed out')))
    req.on('error', (e) => {
      if (!answered) reject(e)
    })
    if (opts.body !== undefined) req.end(opts.body)
    else req.end()
  })
}

export const MSGPACK = {'content-type': 'application/msgpack'}

export function sendTraces(url: string, version: 'v0.4' | 'v0.5', body: Buffer, headers: Record<string, string | number> = MSGPACK): Promise<Reply> {
  return send(url, {path: `/${version}/traces`, body, headers})
}

export async function readSpanFile(dir: string): Promise<SpanRecord[]> {
  const text = gunzipSync(await readFile(path.join(dir, ENTRY.spans))).toString('utf8')
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as SpanRecord)
}

export async function readIndex(dir: string): Promise<PayloadRecord[]> {
  const text = await readFile(path.join(dir, ENTRY.payloadIndex), 'utf8')
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as PayloadRecord)
}

export async function rawFiles(dir: string): Promise<string[]> {
  return (await readdir(path.join(dir, ENTRY.payloadDir))).sort()
}

/** Polls until check() holds, up to timeoutMs (then one last check, whose failure the caller asserts). */
export async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (check()) return true
    await new Promise((r) => setTimeout(r, 25))
  }
  return check()
}

// ---------- building payloads (msgpackr's encoder, independent of src/intake's) ----------

const packr = new Packr({useRecords: false})

export function pack(value: unknown): Buffer {
  return packr.pack(value)
}

export interface TestSpan {
  trace_id: bigint
  span_id: bigint
  parent_id: bigint
  service: string
  name: string
  resource: string
  type?: string
  start: bigint
  duration: number
  error: number
  meta: Record<string, string>
  metrics: Record<string, number>
  [extra: string]: unknown
}

let nextId = 0x7000_0000_0000_0000n

export function testSpan(over: Partial<TestSpan> = {}): TestSpan {
  const id = nextId++
  return {
    trace_id: id,
    span_id: id,
    parent_id: 0n,
    service: 'svc',
    name: 'op',
    resource: 'res',
    start: 1_795_000_000_000_000_000n + id % 1000n,
    duration: 1500,
    error: 0,
    meta: {'component.id': 'in_file'},
    metrics: {events: 3},
    ...over,
  }
}

/** msgpackr packs integral numbers of 2^32 and above as float64; dd-trace writes such durations as uint64. */
function wireDuration(d: number): number | bigint {
  return d > 0xffff_ffff ? BigInt(d) : d
}

export function v04(chunks: TestSpan[][]): Buffer {
  return pack(chunks.map((c) => c.map((s) => ({...s, duration: wireDuration(s.duration)}))))
}

export function v05(chunks: TestSpan[][]): Buffer {
  const table: string[] = ['']
  const index = new Map<string, number>([['', 0]])
  const idx = (s: string): number => {
    let i = index.get(s)
    if (i === undefined) {
      i = table.length
      index.set(s, i)
      table.push(s)
    }
    return i
  }
  const traces = chunks.map((chunk) =>
    chunk.map((s) => {
      const meta = new Map<number, number>()
      for (const [k, v] of Object.entries(s.meta)) meta.set(idx(k), idx(v))
      const metrics = new Map<number, number>()
      for (const [k, v] of Object.entries(s.metrics)) metrics.set(idx(k), v)
      return [idx(s.service), idx(s.name), idx(s.resource), s.trace_id, s.span_id, s.parent_id, s.start, wireDuration(s.duration), s.error, meta, metrics, idx(s.type ?? '')]
    }),
  )
  return pack([table, traces])
}

/** What the intake should make of a TestSpan (no trace_id_high unless meta carries _dd.p.tid). */
export function expectedRecord(s: TestSpan, payload: number, tidHigh?: string): SpanRecord {
  return {
    trace_id: s.trace_id.toString(),
    ...(tidHigh ? {trace_id_high: tidHigh} : {}),
    span_id: s.span_id.toString(),
    parent_id: s.parent_id.toString(),
    service: s.service,
    name: s.name,
    resource: s.resource,
    ...(s.type ? {type: s.type} : {}),
    start: s.start.toString(),
    duration: String(s.duration),
    error: s.error,
    meta: s.meta,
    metrics: s.metrics,
    payload,
  }
}
