/**
 * Vector's utilization names the bottleneck when spans are missing or thin:
 * the most downstream saturated component, by config edges when the bundle
 * has them, else by kind (and the finding says so), with the version caveat.
 */
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {promises as fs} from 'node:fs'
import path from 'node:path'
import {gzipSync} from 'node:zlib'
import {generateBundleDir} from '../../bench/generate-bundle.js'
import {analyseBundle} from '../../src/analysis/index.js'
import {FROM_METRICS_ONLY, FROM_THIN_SPANS} from '../../src/analysis/detectors/utilization.js'
import type {AnalysisResult} from '../../src/analysis/types.js'
import {ENTRY, type ConfigCollection, type PipelineFacts, type PrometheusRecord, type TracingRecord} from '../../src/bundle/format.js'
import {BASE_ISO, isoAt, iteration, tempDir, writeBundle} from './fixtures.js'

/** A chain of four: `in` → `t1` → `t2` → `out`, with t1 the busiest but t2 further downstream. */
const CHAIN = [
  {id: 'in', kind: 'source', type: 'kafka', util: 0.97},
  {id: 't1', kind: 'transform', type: 'remap', util: 0.99},
  {id: 't2', kind: 'transform', type: 'lua', util: 0.93},
  {id: 'out', kind: 'sink', type: 'elasticsearch', util: 0.4},
] as const
const CHAIN_EDGES = [
  {from: 'in', to: 't1'},
  {from: 't1', to: 't2'},
  {from: 't2', to: 'out'},
]

const NO_TRACING: TracingRecord = {
  supported: false,
  reason: 'GET /tracing answered 404',
  status_http: 404,
  max_duration_secs: null,
  requested: null,
  opened: null,
  final: null,
  ended_cleanly: false,
  close_error: null,
}

function facts(version: string, edges: PipelineFacts['edges'], source: PipelineFacts['edges_source']): PipelineFacts {
  return {
    api: {url: 'http://127.0.0.1:8686', generation: 'grpc', detection: []},
    version,
    version_string: version,
    hostname: 'h',
    components: CHAIN.map((c) => ({id: c.id, kind: c.kind, type: c.type, outputs: []})),
    edges,
    edges_source: source,
  }
}

const CONFIG: ConfigCollection = {
  files: [{source: '/etc/vector/vector.toml', entry: 'config/01-vector.toml', format: 'toml', stored_as: 'toml', layout: 'config', ok: true, components: CHAIN.map((c) => c.id)}],
  components: CHAIN.map((c, i) => ({id: c.id, kind: c.kind, type: c.type, inputs: i === 0 ? [] : [CHAIN[i - 1].id], outputs: [], entry: 'config/01-vector.toml'})),
  edges: CHAIN_EDGES.map((e) => ({...e, output: null, input: e.from})),
  unresolved_inputs: [],
  errors: [],
  warnings: [],
}

/** Scrapes every 5 s over 20 s; the first holds no utilization yet. */
function scrapes(): PrometheusRecord[] {
  return [0, 5000, 10_000, 15_000, 20_000].map((t, i) => ({
    seq: i,
    at: isoAt(t),
    t_ms: t,
    phase: i === 0 ? 'start' : i === 4 ? 'end' : 'interval',
    scrape: {
      prefix: 'vector_',
      types: {utilization: 'gauge', component_received_events_total: 'counter', component_sent_events_total: 'counter'},
      components: Object.fromEntries(
        CHAIN.map((c) => [
          c.id,
          {
            kind: c.kind,
            type: c.type,
            metrics: {
              ...(i === 0 ? {} : {utilization: [{value: c.util}]}),
              component_received_events_total: [{value: 1000 * i}],
              component_sent_events_total: [{value: 1000 * i}],
            },
          },
        ]),
      ),
      bytes: 1,
      lines: 1,
      samples: 1,
      skipped_lines: 0,
      unattributed: 0,
    },
  }))
}

describe('bottleneck from utilization when spans are missing or thin', {timeout: 120_000}, () => {
  let root: string
  let n = 0
  before(async () => {
    root = await tempDir('vdiag-util-')
  })
  after(async () => {
    await fs.rm(root, {recursive: true, force: true})
  })

  /** A metrics-only bundle of the chain: admin API snapshots failed, only the scrapes hold counters. */
  const chain = async (f: PipelineFacts | null, config: ConfigCollection | null): Promise<AnalysisResult> => {
    const dir = path.join(root, `chain-${n++}`)
    const opened = await writeBundle(dir, {facts: f, tracing: NO_TRACING, manifest: {window: {start: BASE_ISO, end: isoAt(20_000)}}})
    await fs.writeFile(path.join(dir, ENTRY.prometheus), scrapes().map((r) => JSON.stringify(r)).join('\n') + '\n')
    if (config) {
      await fs.mkdir(path.join(dir, ENTRY.configDir), {recursive: true})
      await fs.writeFile(path.join(dir, ENTRY.configIndex), JSON.stringify(config))
    }
    return analyseBundle(opened)
  }
  const generated = async (opts: Omit<Parameters<typeof generateBundleDir>[0], 'dir'>): Promise<AnalysisResult> => {
    const dir = path.join(root, `gen-${n++}`)
    const g = await generateBundleDir({dir, ...opts})
    return analyseBundle({root: dir, manifest: g.manifest, verified: true})
  }

  it('with config edges, names the most downstream saturated component, not the busiest', async () => {
    const r = await chain(facts('0.55.0', CHAIN_EDGES, 'config'), CONFIG)
    assert.equal(r.spans.tracing_available, false)
    assert.equal(r.topology.edges_source, 'config')
    const first = r.findings[0]
    assert.equal(first.id, 'metrics.saturated')
    assert.equal(first.component, 't2')
    assert.equal(first.severity, 'high')
    assert.equal(first.evidence.source, FROM_METRICS_ONLY)
    assert.equal(first.evidence.topology, 'topology edges from config')
    assert.deepEqual(first.evidence.saturated, [
      {component: 't2', utilization: 0.93},
      {component: 't1', utilization: 0.99},
      {component: 'in', utilization: 0.97},
    ])
    assert.equal(first.evidence.utilization_samples, 4)
    assert.match(first.summary, /^Transform `t2` is the likely bottleneck \(from metrics alone: tracing was unavailable\): its utilization is 93%/)
    assert.match(first.summary, /`t1`, `in` upstream also read saturated/)
    // 0.55: task transforms blocked on their downstream read idle, so t1 is busy with its own work too
    const note = String(first.evidence.utilization_semantics)
    assert.match(note, /^Vector 0\.55\.0: from 0\.55 task transforms count time blocked on their downstream as idle \(vectordotdev\/vector#24731\)/)
    assert.match(note, /so `t1` is busy with its own work as well/)
    assert.ok(r.findings.some((f) => f.id === 'tracing.unavailable'))
    assert.ok(!r.findings.some((f) => f.id === 'metrics.accumulating' || f.id === 'metrics.throughput'))
    // The metrics come from the scrapes alone (no snapshots): 1000 events per 5 s
    const t2 = r.metrics.find((m) => m.id === 't2')!
    assert.equal(t2.intervals.length, 4)
    assert.equal(t2.received_eps, 200)
  })

  it('reads the edges from config/index.json when the pipeline facts have none', async () => {
    const r = await chain(facts('0.55.0', null, 'none'), CONFIG)
    assert.equal(r.topology.edges_source, 'config')
    assert.equal(r.topology.inferred, false)
    assert.deepEqual(r.topology.order, ['in', 't1', 't2', 'out'])
    assert.equal(r.findings[0].component, 't2')
    assert.equal(r.config?.edge_count, 3)
    assert.deepEqual(r.config?.files[0].components, ['in', 't1', 't2', 'out'])
  })

  it('without edges, orders by kind, says so, and breaks the tie between transforms by utilization', async () => {
    const r = await chain(facts('0.54.1', null, 'none'), null)
    assert.equal(r.topology.inferred, true)
    assert.equal(r.config, null)
    const first = r.findings[0]
    assert.equal(first.id, 'metrics.saturated')
    // t1 and t2 are both "a transform" when the order is inferred: the busier one, and the other is named as a peer
    assert.equal(first.component, 't1')
    assert.match(first.summary, /; `in` upstream also reads saturated; `t2` also reads saturated at the same depth, less busy\.$/)
    assert.match(String(first.evidence.topology), /inferred from kinds/)
    assert.match(String(first.evidence.utilization_semantics), /^Vector 0\.54\.1: before Vector 0\.55 a component blocked on its downstream also reads busy/)
  })

  it('without pipeline facts, the scrapes say what kind each component is', async () => {
    const r = await chain(null, null)
    assert.deepEqual(
      r.topology.components.map((c) => [c.id, c.kind, c.type]),
      [['in', 'source', 'kafka'], ['t1', 'transform', 'remap'], ['t2', 'transform', 'lua'], ['out', 'sink', 'elasticsearch']],
    )
    assert.equal(r.topology.inferred, true)
    assert.equal(r.findings[0].component, 't1')
    assert.match(r.findings[0].summary, /^Transform `t1`/)
    // the manifest still says which version it was
    assert.equal(r.pipeline.version, '0.55.0')
    assert.match(r.findings[0].summary, /; `in` upstream also reads saturated; `t2` also reads saturated at the same depth, less busy\.$/)
  })

  it('pre-0.55 semantics on a generated slow sink: every component reads saturated, the sink is named', async () => {
    const r = await generated({scenario: 'slow-sink', seed: 4, withTracing: false, withPrometheus: true, blockedReadsBusy: true, version: '0.54.1', withConfig: true})
    const first = r.findings[0]
    assert.equal(first.id, 'metrics.saturated')
    assert.equal(first.component, 'http_out')
    assert.deepEqual(
      (first.evidence.saturated as {component: string}[]).map((s) => s.component),
      ['http_out', 'parse', 'file_in'],
    )
    assert.equal(first.evidence.topology, 'topology edges from config')
    assert.match(String(first.evidence.utilization_semantics), /before Vector 0\.55/)
    // From 0.55 the upstream components read their own work only: the sink alone is saturated and no caveat is needed.
    const modern = await generated({scenario: 'slow-sink', seed: 4, withTracing: false, withPrometheus: true})
    assert.equal(modern.findings[0].component, 'http_out')
    assert.deepEqual(
      (modern.findings[0].evidence.saturated as {component: string}[]).map((s) => s.component),
      ['http_out'],
    )
    assert.equal(modern.findings[0].evidence.utilization_semantics, undefined)
  })

  it('names the saturated transform of a heavy-transform pipeline from metrics alone', async () => {
    const r = await generated({scenario: 'heavy-transform', seed: 9, withTracing: false, withUtilization: true})
    assert.equal(r.findings[0].id, 'metrics.saturated')
    assert.equal(r.findings[0].component, 'parse')
    // a transform is named: how utilization reads at this version is in the evidence
    assert.match(String(r.findings[0].evidence.utilization_semantics), /#24731/)
  })

  it('with too few spans, utilization leads and says why', async () => {
    // A 20 s capture whose window delivered a handful of spans (a sampled or failing tracer).
    const dir = path.join(root, `thin-${n++}`)
    const g = await generateBundleDir({dir, scenario: 'slow-sink', seed: 1, withTracing: false, withPrometheus: true})
    const spans = [0, 4000, 8000].flatMap((t) => iteration({id: 'http_out', kind: 'sink', type: 'http'}, t, [{name: 'encode', dur: 1}, {name: 'send', dur: 30}]))
    await fs.writeFile(path.join(dir, ENTRY.spans), gzipSync(spans.map((x) => JSON.stringify(x)).join('\n') + '\n'))
    const r = await analyseBundle({root: dir, manifest: g.manifest, verified: true})
    assert.equal(r.spans.tracing_available, true)
    assert.equal(r.spans.total, 9)
    const first = r.findings[0]
    assert.equal(first.id, 'metrics.saturated')
    assert.equal(first.component, 'http_out')
    assert.equal(first.evidence.source, FROM_THIN_SPANS)
    assert.equal(first.evidence.spans, r.spans.total)
    assert.match(first.summary, /too few spans/)
    assert.ok(r.findings.some((f) => f.id === 'data.insufficient'))
  })

  it('with enough spans, the spans decide and utilization only adds numbers', async () => {
    const r = await generated({spans: 4000, scenario: 'heavy-transform', seed: 2, withPrometheus: true})
    assert.equal(r.findings[0].id, 'bottleneck.component')
    assert.equal(r.findings[0].component, 'parse')
    assert.ok(!r.findings.some((f) => f.id === 'metrics.saturated'))
    const parse = r.metrics.find((m) => m.id === 'parse')!
    assert.ok(parse.utilization !== null && parse.utilization >= 0.9, String(parse.utilization))
    assert.ok(parse.latency && parse.latency.mean_ms !== null && parse.latency.scope === 'window')
    assert.equal(r.internal_metrics?.prefix, 'vector_')
    assert.equal(r.internal_metrics?.utilization_components, 3)
  })
})
