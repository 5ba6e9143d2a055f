/** Staging folders, manifests and hand-made bundles for the bundle tests. */
import {createHash} from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {gzipSync} from 'node:zlib'
import {ENTRY, FORMAT_NAME, FORMAT_VERSION, payloadEntry, type FileEntry, type Manifest} from '../../../src/bundle/format.js'
import {Redactor} from '../../../src/bundle/redaction.js'

export function baseManifest(over: Partial<Manifest> = {}): Omit<Manifest, 'files'> {
  return {
    format: FORMAT_NAME,
    format_version: FORMAT_VERSION,
    vdiag_version: '0.1.0-test',
    created_at: '2026-01-02T03:04:05.000Z',
    complete: true,
    incomplete_reason: null,
    command_line: ['vdiag', 'capture', '--duration', '10s'],
    capture: {api: 'http://127.0.0.1:8686', duration_ms: 10_000, interval_ms: 1000, level: 'info', max_spans: 1_000_000, via: 'local', intake: 'http://127.0.0.1:0'},
    pipeline: {api_generation: 'grpc', version: '0.55.0', hostname: 'test-host'},
    window: {start: '2026-01-02T03:03:55.000Z', end: '2026-01-02T03:04:05.000Z'},
    collectors: {host: {status: 'ok', duration_ms: 12}},
    counts: {
      payloads: 2,
      bad_payloads: 0,
      oversized_payloads: 0,
      spans_kept: 3,
      spans_dropped_vdiag: 0,
      spans_started: 3,
      spans_dropped_pipeline: 0,
      spans_lost: 0,
      traces: 1,
    },
    redaction: new Redactor().audit(),
    ...over,
  }
}

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix))
}

/** A staging folder shaped like a real capture's (every ENTRY present). */
export async function makeStaging(): Promise<string> {
  const dir = await tempDir('vdiag-test-staging-')
  const put = async (rel: string, body: string | Buffer) => {
    await fs.mkdir(path.dirname(path.join(dir, rel)), {recursive: true})
    await fs.writeFile(path.join(dir, rel), body)
  }
  await put(ENTRY.pipeline, JSON.stringify({api: {url: 'http://127.0.0.1:8686', generation: 'grpc', detection: []}, components: []}))
  await put(ENTRY.tracing, JSON.stringify({supported: true, reason: null}))
  await put(ENTRY.metrics, '{"seq":0}\n{"seq":1}\n')
  await put(ENTRY.host, JSON.stringify({os: 'linux'}))
  const spans = [1, 2, 3].map((i) => JSON.stringify({trace_id: '12345678901234567890', span_id: String(i), name: 'iteration'})).join('\n') + '\n'
  await put(ENTRY.spans, gzipSync(spans))
  await put(ENTRY.payloadIndex, '{"seq":1}\n{"seq":2}\n')
  await put(payloadEntry(1), Buffer.from([0x91, 0x90]))
  await put(payloadEntry(2), Buffer.alloc(70_000, 0x42))
  await put(ENTRY.log, 'capture started\n')
  return dir
}

export function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex')
}

export interface BundleFile {
  path: string
  body: Buffer | string
}

/** A manifest (with `files`) describing `files`; `lie` changes what it says about them. */
export function manifestFor(files: BundleFile[], over: Partial<Manifest> = {}, lie?: (f: FileEntry[]) => FileEntry[]): Manifest {
  let entries: FileEntry[] = files.map((f) => {
    const b = Buffer.from(f.body)
    return {path: f.path, size: b.length, sha256: sha256(b)}
  })
  if (lie) entries = lie(entries)
  return {...baseManifest(), ...over, files: entries} as Manifest
}

export const SAMPLE_FILES: BundleFile[] = [
  {path: ENTRY.readme, body: 'hello\n'},
  {path: ENTRY.pipeline, body: '{"components":[]}'},
  {path: ENTRY.spans, body: gzipSync('{"span_id":"1"}\n')},
]
