import {after, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {promises as fs} from 'node:fs'
import path from 'node:path'
import {gunzipSync} from 'node:zlib'
import {generateBundleDir} from '../../bench/generate-bundle.js'
import {ENTRY, type ErrorsRecord, type PipelineFacts, type PrometheusRecord, type SpanRecord} from '../../src/bundle/format.js'
import {tempDir} from './fixtures.js'

describe('bench/generate-bundle', {timeout: 60_000}, () => {
  const dirs: string[] = []
  after(async () => {
    for (const d of dirs) await fs.rm(d, {recursive: true, force: true})
  })
  const gen = async (opts: Omit<Parameters<typeof generateBundleDir>[0], 'dir'>) => {
    const dir = await tempDir('vdiag-gen-')
    dirs.push(dir)
    return generateBundleDir({dir, ...opts})
  }
  const spansOf = async (dir: string) =>
    gunzipSync(await fs.readFile(path.join(dir, ENTRY.spans)))
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as SpanRecord)

  it('writes a manifest whose sizes and sha256 match every file', async () => {
    const g = await gen({spans: 2000, scenario: 'slow-sink', level: 'debug'})
    const listed = new Map(g.manifest.files.map((f) => [f.path, f]))
    assert.ok(listed.has(ENTRY.spans) && listed.has(ENTRY.pipeline) && listed.has(ENTRY.tracing) && listed.has(ENTRY.metrics))
    assert.ok(!listed.has(ENTRY.manifest))
    for (const f of g.manifest.files) {
      const bytes = await fs.readFile(path.join(g.dir, f.path))
      assert.equal(bytes.length, f.size, f.path)
      assert.equal(createHash('sha256').update(bytes).digest('hex'), f.sha256, f.path)
    }
    const onDisk = JSON.parse(await fs.readFile(path.join(g.dir, ENTRY.manifest), 'utf8'))
    assert.deepEqual(onDisk, g.manifest)
  })

  it('opens and verifies with the bundle reader, and analyses from there', async () => {
    const {openBundle} = await import('../../src/bundle/reader.js')
    const {analyseBundle} = await import('../../src/analysis/index.js')
    const g = await gen({spans: 2000, scenario: 'heavy-transform'})
    const opened = await openBundle(g.dir)
    try {
      assert.equal(opened.verified, true)
      assert.deepEqual(opened.warnings, [])
      const r = await analyseBundle(opened)
      assert.equal(r.bundle.verified, true)
      assert.equal(r.spans.total, g.spans)
    } finally {
      await opened.cleanup()
    }
  })

  it('writes at most the requested spans, as protocol-shaped records', async () => {
    const g = await gen({spans: 3000, scenario: 'slow-discovery', level: 'debug', seed: 4})
    const spans = await spansOf(g.dir)
    assert.equal(spans.length, g.spans)
    assert.ok(g.spans <= 3000 && g.spans > 2950, String(g.spans))
    assert.equal(g.manifest.counts.spans_kept, g.spans)
    const names = new Set(spans.map((s) => s.name))
    for (const n of ['iteration', 'discover', 'fingerprint', 'collect_paths', 'process', 'send', 'wait']) assert.ok(names.has(n), n)
    for (const s of spans) {
      assert.match(s.trace_id, /^\d{1,20}$/)
      assert.match(s.span_id, /^\d{1,20}$/)
      assert.match(s.start, /^\d{19}$/)
      assert.match(s.duration, /^\d+$/)
      assert.equal(typeof s.meta.component_id, 'string')
      if (s.name === 'iteration') assert.ok(s.meta.component_kind && s.meta.component_type)
      else assert.ok(s.meta.stage)
    }
  })

  it('has no sub-stages at level info', async () => {
    const g = await gen({spans: 1000, scenario: 'slow-discovery', level: 'info'})
    const spans = await spansOf(g.dir)
    assert.ok(spans.every((s) => s.meta.substage === undefined))
  })

  it('splits traces across payloads when asked: iterations arrive after their children', async () => {
    const g = await gen({spans: 2000, splitChunks: true, seed: 9})
    const spans = await spansOf(g.dir)
    const seenAt = new Map(spans.map((s, i) => [s.span_id, i]))
    const late = spans.filter((s, i) => s.parent_id !== '0' && (seenAt.get(s.parent_id) ?? -1) > i)
    assert.ok(late.length > 100, String(late.length))
    const lateParents = new Set(late.map((s) => s.parent_id))
    const iterPayload = new Map(spans.filter((s) => s.name === 'iteration').map((s) => [s.span_id, s.payload]))
    assert.ok([...lateParents].every((p) => (iterPayload.get(p) ?? -1) > late.find((s) => s.parent_id === p)!.payload))
  })

  it('is reproducible for a seed', async () => {
    const a = await gen({spans: 1500, scenario: 'heavy-transform', seed: 21})
    const b = await gen({spans: 1500, scenario: 'heavy-transform', seed: 21})
    const sha = (g: typeof a) => g.manifest.files.find((f) => f.path === ENTRY.spans)!.sha256
    assert.equal(sha(a), sha(b))
  })

  it('writes no spans file without tracing, and says why', async () => {
    const g = await gen({withTracing: false})
    await assert.rejects(fs.access(path.join(g.dir, ENTRY.spans)))
    const tracing = JSON.parse(await fs.readFile(path.join(g.dir, ENTRY.tracing), 'utf8'))
    assert.equal(tracing.supported, false)
    assert.match(tracing.reason, /404/)
  })

  it('writes internal metrics, error totals, config and logs on request, listed in the manifest', async () => {
    const g = await gen({spans: 2000, scenario: 'heavy-transform', withPrometheus: true, withErrorsStream: true, withConfig: true, withLogs: true, counterErrors: {http_out: 9}})
    const listed = new Set(g.manifest.files.map((f) => f.path))
    for (const e of [ENTRY.prometheus, ENTRY.errors, ENTRY.configIndex, ENTRY.logsIndex, 'config/01-vector.yaml', 'logs/01-vector.log']) assert.ok(listed.has(e), e)
    const lines = async (entry: string) => (await fs.readFile(path.join(g.dir, entry), 'utf8')).trim().split('\n').map((l) => JSON.parse(l))
    const scrapes = (await lines(ENTRY.prometheus)) as PrometheusRecord[]
    const snapshots = await lines(ENTRY.metrics)
    assert.equal(scrapes.length, snapshots.length)
    // Vector publishes utilization every 5 s: not in the first scrape, in every later one
    assert.equal(scrapes[0].scrape!.components.parse.metrics.utilization, undefined)
    for (const s of scrapes.slice(1)) for (const id of ['file_in', 'parse', 'http_out']) assert.equal(typeof s.scrape!.components[id].metrics.utilization?.[0].value, 'number')
    // the transform's latency histogram counts one observation per iteration that ran `process`
    const lastScrape = scrapes[scrapes.length - 1].scrape!
    const latency = lastScrape.components.parse.metrics.component_latency_seconds[0]
    assert.ok((latency.count ?? 0) > 0 && latency.buckets!.length > 0)
    const errors = (await lines(ENTRY.errors)) as ErrorsRecord[]
    assert.equal(errors[errors.length - 1].components.http_out - errors[0].components.http_out, 9)
    const facts = JSON.parse(await fs.readFile(path.join(g.dir, ENTRY.pipeline), 'utf8')) as PipelineFacts
    assert.equal(facts.edges_source, 'config')
    assert.deepEqual(facts.edges, [{from: 'file_in', to: 'parse'}, {from: 'parse', to: 'http_out'}])
  })
})
