/**
 * Errors over the window: the admin API's streamed totals become per
 * component deltas and rates, merged with the error spans into findings.
 */
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {promises as fs} from 'node:fs'
import path from 'node:path'
import {generateBundleDir} from '../../bench/generate-bundle.js'
import {analyseBundle} from '../../src/analysis/index.js'
import type {AnalysisResult} from '../../src/analysis/types.js'
import {ENTRY, type ErrorsRecord} from '../../src/bundle/format.js'
import {tempDir} from './fixtures.js'

describe('errors over the window', {timeout: 120_000}, () => {
  let root: string
  let n = 0
  before(async () => {
    root = await tempDir('vdiag-errors-')
  })
  after(async () => {
    await fs.rm(root, {recursive: true, force: true})
  })
  const generated = async (opts: Omit<Parameters<typeof generateBundleDir>[0], 'dir'>): Promise<{r: AnalysisResult; dir: string}> => {
    const dir = path.join(root, `gen-${n++}`)
    const g = await generateBundleDir({dir, ...opts})
    return {r: await analyseBundle({root: dir, manifest: g.manifest, verified: true}), dir}
  }
  const readStream = async (dir: string): Promise<ErrorsRecord[]> =>
    (await fs.readFile(path.join(dir, ENTRY.errors), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ErrorsRecord)

  it('counts errors from the stream per component, with rates, and reports them without spans', async () => {
    const {r, dir} = await generated({scenario: 'slow-sink', seed: 5, withTracing: false, withPrometheus: true, withErrorsStream: true, counterErrors: {parse: 40}})
    const stream = await readStream(dir)
    const first = stream[0]
    const last = stream[stream.length - 1]
    const spanS = (last.t_ms - first.t_ms) / 1000
    const parse = r.metrics.find((m) => m.id === 'parse')!
    assert.equal(parse.errors_source, 'errors_stream')
    assert.equal(parse.errors, 40)
    assert.equal(parse.errors_per_s, Math.round((40 / spanS) * 1000) / 1000)
    // the sink's errors (its failed requests) come from the same stream: last − first
    const sink = r.metrics.find((m) => m.id === 'http_out')!
    assert.equal(sink.errors, last.components.http_out - first.components.http_out)
    assert.ok(sink.errors! > 0)
    // per interval, the increases add up to the total (the stream covers every interval)
    const summed = parse.intervals.reduce((a, iv) => a + (iv.errors ?? 0), 0)
    assert.equal(summed, 40)
    assert.ok(parse.intervals.every((iv) => iv.errors !== null))

    const f = r.findings.find((x) => x.id === 'errors.metrics' && x.component === 'parse')!
    assert.ok(f, JSON.stringify(r.findings.map((x) => x.id)))
    assert.equal(f.evidence.errors, 40)
    assert.equal(f.evidence.errors_source, 'errors_stream')
    assert.equal(f.evidence.errors_per_s, parse.errors_per_s)
    assert.match(f.summary, /^Transform `parse` counted 40 error\(s\) \([\d.]+\/s\) during the capture, from the admin API's error totals; no spans say where\.$/)
    assert.ok(r.findings.some((x) => x.id === 'errors.metrics' && x.component === 'http_out'))
    assert.ok(!r.findings.some((x) => x.id === 'errors.metrics' && x.component === 'file_in'), 'no finding without errors')
  })

  it('merges the counted errors with the error spans and their messages', async () => {
    const {r} = await generated({spans: 6000, scenario: 'slow-sink', seed: 7, withErrorsStream: true, counterErrors: {parse: 12}})
    const sink = r.findings.find((f) => f.id === 'errors.component' && f.component === 'http_out')!
    assert.ok(sink, JSON.stringify(r.findings.map((x) => x.id)))
    const spanErrors = r.components.find((c) => c.id === 'http_out')!.errors
    assert.ok(spanErrors > 0)
    assert.equal(sink.evidence.errors, spanErrors)
    assert.equal(sink.evidence.errors_source, 'errors_stream')
    assert.equal(typeof sink.evidence.counted_errors, 'number')
    assert.equal(sink.stage, 'send')
    assert.match(sink.summary, /most common: "HTTP 503 Service Unavailable from http:\/\/127\.0\.0\.1\/ingest"/)
    assert.match(sink.summary, /its error count rose by [\d,]+ \([\d.]+\/s\) over the capture\.$/)
    // `parse` has spans but none with the error flag: its counted errors still get a finding
    const parse = r.findings.find((f) => f.component === 'parse' && f.id === 'errors.metrics')!
    assert.equal(parse.evidence.errors, 12)
    assert.match(parse.summary, /none of its spans carried the error flag/)
    // the bottleneck is still the sink's send
    assert.equal(r.findings[0].id, 'bottleneck.sink_destination')
  })

  it('falls back to component_errors_total in the scrapes without a stream', async () => {
    const {r} = await generated({scenario: 'slow-sink', seed: 5, withTracing: false, withPrometheus: true, counterErrors: {parse: 20}})
    const parse = r.metrics.find((m) => m.id === 'parse')!
    // the admin API's snapshots carry no errors counter, so the scrapes' is what there is
    assert.equal(parse.errors_source, 'prometheus')
    assert.equal(parse.errors, 20)
    assert.ok(parse.intervals.some((iv) => (iv.errors ?? 0) > 0))
    const f = r.findings.find((x) => x.id === 'errors.metrics' && x.component === 'parse')!
    assert.match(f.summary, /from component_errors_total/)
  })
})
