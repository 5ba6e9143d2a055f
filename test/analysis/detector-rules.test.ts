/**
 * The backpressure rules on hand-made views: each test changes one fact and
 * checks that the verdict follows the protocol's semantics.
 */
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {runDetectors} from '../../src/analysis/detectors/index.js'
import {detectBottleneck} from '../../src/analysis/detectors/bottleneck.js'
import type {ComponentStats, Finding, StageStats} from '../../src/analysis/types.js'
import type {AnalysisView} from '../../src/analysis/view.js'
import {IDLE_STAGES, isBlockedOnDownstream, type ComponentKind} from '../../src/protocol/tracing-control.js'

const WINDOW_MS = 10_000

function stage(name: string, totalMs: number, wallMs: number, sub: StageStats[] = []): StageStats {
  return {name, count: 100, self_ms: totalMs, total_ms: totalMs, share: totalMs / wallMs, total_share: totalMs / wallMs, p50_ms: 1, p95_ms: 2, p99_ms: 3, errors: 0, substages: sub}
}

/** A component covering the whole window whose stage times are given in ms. */
function comp(id: string, kind: ComponentKind, stages: Record<string, number>): ComponentStats {
  const wall = WINDOW_MS
  const st = Object.entries(stages).map(([n, ms]) => stage(n, ms, wall))
  const idle = st.filter((s) => IDLE_STAGES.has(s.name)).reduce((a, s) => a + s.total_ms, 0)
  const blocked = st.filter((s) => isBlockedOnDownstream(kind, s.name)).reduce((a, s) => a + s.total_ms, 0)
  const untracked = wall - st.reduce((a, s) => a + s.total_ms, 0)
  return {
    id,
    kind,
    type: 'x',
    iterations: 500,
    wall_ms: wall,
    busy_ms: wall - idle,
    idle_ms: idle,
    blocked_ms: blocked,
    busy_share: (wall - idle) / WINDOW_MS,
    coverage: 1,
    untracked_ms: untracked,
    untracked_share: untracked / wall,
    errors: 0,
    top_errors: [],
    stages: st,
  }
}

function view(components: ComponentStats[], inferred = true): AnalysisView {
  const rank = {source: 0, transform: 1, sink: 2}
  const depth = Object.fromEntries(components.map((c) => [c.id, rank[c.kind]]))
  return {
    depth,
    result: {
      bundle: {path: 'b', format_version: 1, verified: true, complete: true, incomplete_reason: null, vdiag_version: '0.1.0', created_at: null, problems: []},
      pipeline: {version: '0.55.0', hostname: 'h', api: 'grpc'},
      window: {start: null, end: null, duration_s: WINDOW_MS / 1000, source: 'tracing'},
      spans: {total: 10_000, traces: 1500, dropped: 0, lost: 0, tracing_available: true, tracing_reason: null, level: 'info', orphans: 0, malformed: 0},
      topology: {
        components: components.map((c) => ({id: c.id, kind: c.kind, type: c.type, outputs: []})),
        edges: [],
        inferred,
        edges_source: inferred ? 'kinds' : 'graphql',
        order: [...components].sort((a, b) => depth[a.id] - depth[b.id]).map((c) => c.id),
      },
      components,
      metrics: [],
      timeline: {},
    },
  }
}

const first = (v: AnalysisView): Finding | undefined => runDetectors(v)[0]

describe('backpressure rules', {timeout: 10_000}, () => {
  it('a sink busy in send is the cause: the destination is slow', () => {
    const v = view([comp('s', 'source', {read: 500, send: 9400}), comp('k', 'sink', {wait: 200, encode: 300, send: 9400})])
    const f = first(v)!
    assert.equal(f.id, 'bottleneck.sink_destination')
    assert.equal(f.component, 'k')
    assert.equal(f.stage, 'send')
    assert.equal(f.severity, 'critical')
  })

  it('a source busy in send is waiting on downstream, never the cause', () => {
    const v = view([comp('s', 'source', {read: 500, send: 9400}), comp('k', 'sink', {wait: 9000, send: 900})])
    assert.deepEqual(detectBottleneck(v), [])
    const f = first(v)!
    assert.equal(f.id, 'backpressure.unexplained')
    assert.equal(f.component, 's')
    assert.equal(f.severity, 'medium')
    assert.ok(!runDetectors(v).some((x) => x.id === 'bottleneck.none'))
  })

  it('a mostly idle component is never the primary bottleneck, however its busy time splits', () => {
    const v = view([comp('s', 'source', {read: 3000, sleep: 7000}), comp('k', 'sink', {wait: 8000, encode: 2000})])
    assert.deepEqual(detectBottleneck(v), [])
    assert.equal(first(v)!.id, 'bottleneck.none')
  })

  it('of several components saturated by their own work, the most downstream is the cause', () => {
    const v = view([comp('s', 'source', {read: 9500, send: 300}), comp('t', 'transform', {process: 9600, send: 300}), comp('k', 'sink', {wait: 9000, send: 900})])
    const f = first(v)!
    assert.equal(f.component, 't')
    assert.equal(f.stage, 'process')
    assert.deepEqual(f.evidence.also_saturated_upstream, [{component: 's', busy_share: 1}]) // untracked time is busy time
  })

  it('high rather than critical between the saturation thresholds', () => {
    const v = view([comp('t', 'transform', {wait: 2000, process: 7800, send: 100})])
    const f = first(v)!
    assert.equal(f.severity, 'high')
    assert.equal(f.component, 't')
  })

  it('names the dominant sub-stage and its share of the stage in the evidence and the summary', () => {
    const c = comp('s', 'source', {discover: 9000, read: 500, sleep: 400})
    c.stages[0].substages = [stage('collect_paths', 700, WINDOW_MS), stage('fingerprint', 8000, WINDOW_MS)]
    const f = first(view([c]))!
    assert.equal(f.stage, 'discover')
    assert.equal(f.evidence.substage, 'fingerprint')
    assert.equal(f.evidence.substage_share, 0.8889)
    assert.equal(f.evidence.dominant_substage, 'fingerprint')
    assert.match(f.summary, /in `discover`, mostly `fingerprint` \(89% of the stage\)\.$/)
  })

  it('words the sub-stage the same way for a sink waiting on its destination', () => {
    const k = comp('k', 'sink', {wait: 200, encode: 300, send: 9400})
    k.stages[2].substages = [stage('connect', 400, WINDOW_MS), stage('request', 8900, WINDOW_MS)]
    const f = first(view([comp('s', 'source', {read: 500, send: 9400}), k]))!
    assert.equal(f.id, 'bottleneck.sink_destination')
    assert.equal(f.evidence.substage, 'request')
    assert.equal(f.evidence.substage_share, 0.9468)
    assert.match(f.summary, /waiting on the destination in `send` \(p95 2\.0 ms\), mostly `request` \(95% of the stage\); `s` is blocked behind it\.$/)
  })

  it('does not call a minor sub-stage "mostly"', () => {
    const t = comp('t', 'transform', {wait: 200, process: 9600, send: 100})
    t.stages[1].substages = [stage('parse', 3000, WINDOW_MS), stage('enrich', 2000, WINDOW_MS)]
    const f = first(view([t]))!
    assert.equal(f.evidence.substage, 'parse')
    assert.equal(f.evidence.substage_share, 0.3125)
    assert.doesNotMatch(f.summary, /mostly/)
    assert.match(f.summary, /the largest part in `parse` \(31% of the stage\)/)
  })

  it('has no sub-stage evidence when the stage has no sub-stages (level info)', () => {
    const f = first(view([comp('t', 'transform', {wait: 200, process: 9600, send: 100})]))!
    assert.equal(f.evidence.substage, undefined)
    assert.equal(f.evidence.substage_share, undefined)
    assert.doesNotMatch(f.summary, /of the stage/)
  })

  it('computes the on-CPU share over the spans that measured CPU only', () => {
    const t = comp('t', 'transform', {wait: 200, process: 9600, send: 100})
    // Half of the process spans carried cpu_ns: 3000 ms on CPU of their 4800 ms.
    Object.assign(t.stages[1], {cpu_ms: 3000, off_cpu_ms: 1800, cpu_coverage: 0.5})
    const f = first(view([t]))!
    assert.match(f.summary, /in its own work in `process` \(63% on CPU\)/)
    assert.equal(f.evidence.stage_cpu_share, 0.625)
    assert.equal(f.evidence.stage_cpu_coverage, 0.5)
  })

  it('near saturation is medium and names the busiest component', () => {
    const v = view([comp('t', 'transform', {wait: 4000, process: 6000})])
    const f = first(v)!
    assert.equal(f.id, 'bottleneck.near_saturation')
    assert.equal(f.severity, 'medium')
  })

  it('ranks the primary bottleneck first even above a higher-severity finding', () => {
    const v = view([comp('t', 'transform', {wait: 2000, process: 7800, send: 100})])
    const loud = () => [{id: 'spans.lost', severity: 'critical' as const, component: null, stage: null, summary: 's', evidence: {}}]
    const ranked = runDetectors(v, [loud, detectBottleneck])
    assert.deepEqual(ranked.map((f) => f.id), ['bottleneck.component', 'spans.lost'])
  })

  it('reports time no stage covers', () => {
    const v = view([comp('t', 'transform', {wait: 2000, process: 3000})])
    assert.ok(runDetectors(v).some((f) => f.id === 'instrumentation.untracked' && f.component === 't'))
  })
})
