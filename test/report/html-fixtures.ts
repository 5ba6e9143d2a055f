/**
 * AnalysisResult fixtures for the HTML report: a slow-sink pipeline as the
 * analysis would describe it, a hostile variant whose every bundle-derived
 * string tries to inject markup, and a large one for the drawing caps.
 */
import type {AnalysisResult, ComponentStats, StageStats, TimelineIteration} from '../../src/analysis/types.js'

export const PRIMARY_SUMMARY = 'Sink out_http is the bottleneck: 91 % of its time goes to send, waiting on the destination.'
export const HOSTILE = '</script><script>window.__pwned=1;alert(1)</script><img src=x onerror="window.__pwned=2">'
export const HOSTILE_COMMENT = '<!-- <script>window.__pwned=3</script> -->'

function stage(name: string, selfMs: number, wallMs: number, extra: Partial<StageStats> = {}): StageStats {
  return {
    name, count: 40, self_ms: selfMs, total_ms: selfMs, share: selfMs / wallMs, total_share: selfMs / wallMs,
    p50_ms: selfMs / 45, p95_ms: selfMs / 30, p99_ms: selfMs / 25, errors: 0, substages: [], ...extra,
  }
}

function component(id: string, kind: ComponentStats['kind'], type: string, wallMs: number, busy: number, stages: StageStats[], extra: Partial<ComponentStats> = {}): ComponentStats {
  const covered = stages.reduce((a, s) => a + s.total_ms, 0)
  const idle = stages.filter((s) => s.name === 'sleep' || s.name === 'wait').reduce((a, s) => a + s.total_ms, 0)
  return {
    id, kind, type, iterations: 40, wall_ms: wallMs, busy_ms: wallMs - idle, idle_ms: idle,
    blocked_ms: kind === 'sink' ? 0 : stages.find((s) => s.name === 'send')?.total_ms ?? 0,
    busy_share: busy, coverage: 0.97, untracked_ms: wallMs - covered, untracked_share: (wallMs - covered) / wallMs,
    errors: 0, top_errors: [], stages, ...extra,
  }
}

function timeline(seed: number, n: number, stages: string[], windowMs: number, errEvery = 0): TimelineIteration[] {
  const out: TimelineIteration[] = []
  const step = windowMs / n
  for (let i = 0; i < n; i++) {
    out.push({t_ms: i * step + (seed % 7), dur_ms: step * 0.8, dominant: stages[(i + seed) % stages.length], error: errEvery > 0 && i % errEvery === errEvery - 1})
  }
  return out
}

export function slowSinkResult(): AnalysisResult {
  const discover = stage('discover', 120, 20_000, {
    total_ms: 900,
    total_share: 900 / 20_000,
    substages: [stage('fingerprint', 700, 20_000), stage('collect_paths', 80, 20_000)],
  })
  const intervals = (base: number, ratio: number) =>
    Array.from({length: 20}, (_, i) => ({t_ms: i * 1000, dt_ms: 1000, received_eps: base + (i % 5) * 40, sent_eps: (base + (i % 5) * 40) * ratio, errors: 0, utilization: null}))
  return {
    bundle: {path: '/tmp/vdiag-slow-sink.tar.gz', format_version: 1, verified: true, complete: true, incomplete_reason: null, vdiag_version: '0.1.0', created_at: '2025-03-01T12:00:21Z', problems: []},
    pipeline: {version: '0.55.0', hostname: 'demo-host', api: 'grpc'},
    window: {start: '2025-03-01T12:00:00.000Z', end: '2025-03-01T12:00:20.000Z', duration_s: 20, source: 'tracing'},
    spans: {total: 48_213, traces: 9_100, dropped: 0, lost: 0, tracing_available: true, tracing_reason: null, level: 'debug', orphans: 0, malformed: 0},
    topology: {
      components: [
        {id: 'in_file', kind: 'source', type: 'file', outputs: []},
        {id: 'parse', kind: 'transform', type: 'remap', outputs: []},
        {id: 'out_http', kind: 'sink', type: 'http', outputs: []},
      ],
      edges: [],
      inferred: true,
      edges_source: 'kinds',
      order: ['in_file', 'parse', 'out_http'],
    },
    components: [
      component('in_file', 'source', 'file', 20_000, 0.82, [discover, stage('read', 1200, 20_000), stage('send', 15_000, 20_000), stage('sleep', 2500, 20_000)]),
      component('parse', 'transform', 'remap', 20_000, 0.9, [stage('wait', 800, 20_000), stage('process', 1500, 20_000, {cpu_ms: 1300, off_cpu_ms: 200}), stage('send', 17_000, 20_000)]),
      component('out_http', 'sink', 'http', 20_000, 0.97, [stage('wait', 300, 20_000), stage('encode', 900, 20_000), stage('send', 18_200, 20_000, {errors: 3})], {
        errors: 3,
        top_errors: [{message: 'HTTP 503 Service Unavailable', count: 3}],
      }),
    ],
    metrics: [
      {id: 'in_file', intervals: intervals(1000, 1), received_events: null, sent_events: 20_000, dropped_events: null, errors: 0, received_eps: null, sent_eps: 1000, utilization: null},
      {id: 'parse', intervals: intervals(1000, 0.99), received_events: 20_000, sent_events: 19_800, dropped_events: 200, errors: 0, received_eps: 1000, sent_eps: 990, utilization: null},
      {id: 'out_http', intervals: intervals(990, 0.98), received_events: 19_800, sent_events: 19_400, dropped_events: 400, errors: 3, received_eps: 990, sent_eps: 970, utilization: null},
    ],
    timeline: {
      in_file: timeline(1, 120, ['send', 'send', 'read', 'sleep'], 20_000),
      parse: timeline(2, 150, ['send', 'send', 'process'], 20_000),
      out_http: timeline(3, 60, ['send'], 20_000, 20),
    },
    findings: [
      {id: 'bottleneck.sink_send', severity: 'high', component: 'out_http', stage: 'send', summary: PRIMARY_SUMMARY, evidence: {busy_share: 0.97, send_share: 0.91, p99_ms: 728.1, errors: {count: 3, top: ['HTTP 503 Service Unavailable']}}},
      {id: 'backpressure.upstream_send', severity: 'medium', component: 'parse', stage: 'send', summary: 'Transform parse spends 85 % of its time blocked handing events to out_http: backpressure, not its own work.', evidence: {blocked_share: 0.85, downstream: 'out_http'}},
      {id: 'topology.inferred', severity: 'info', component: null, stage: null, summary: 'The pipeline API gave no topology; component order was inferred from kinds.', evidence: {}},
    ],
  }
}

/** Every string the bundle could control carries markup. */
export function hostileResult(): AnalysisResult {
  const r = slowSinkResult()
  const id = HOSTILE
  r.bundle.path = `/tmp/${HOSTILE_COMMENT}.tar.gz`
  r.bundle.problems = [`pipeline/${HOSTILE}.json: unreadable`]
  r.bundle.verified = false
  r.pipeline.hostname = HOSTILE
  r.pipeline.version = HOSTILE_COMMENT
  r.spans.tracing_reason = HOSTILE
  r.topology.components[2] = {id, kind: 'sink', type: HOSTILE_COMMENT, outputs: []}
  // A kind that is also an Object.prototype member must not reach a lookup table's prototype.
  r.topology.components.push({id: 'odd', kind: 'constructor' as never, type: '__proto__', outputs: []})
  r.topology.order = ['in_file', 'parse', id]
  r.topology.edges = [{from: 'parse', to: id}, {from: 'in_file', to: 'parse'}]
  r.topology.inferred = false
  const sink = r.components[2]
  sink.id = id
  sink.type = HOSTILE_COMMENT
  sink.stages[2].name = HOSTILE
  sink.top_errors = [{message: HOSTILE, count: 3}, {message: HOSTILE_COMMENT, count: 1}]
  r.metrics[2].id = id
  r.timeline = {[id]: timeline(3, 30, [HOSTILE, 'send'], 20_000, 5), ['__proto__']: timeline(4, 5, ['send'], 20_000)}
  r.findings[0] = {...r.findings[0], id: HOSTILE, component: id, stage: HOSTILE, summary: `Sink ${HOSTILE} is the bottleneck ${HOSTILE_COMMENT}`, evidence: {[HOSTILE]: HOSTILE, nested: {deeper: {deepest: {x: HOSTILE}}}, list: [HOSTILE, 1, null]}}
  // Internal metrics, config and logs carry the same strings.
  r.metrics[2] = {
    ...r.metrics[2],
    utilization: 0.97,
    utilization_max: 0.99,
    intervals: r.metrics[2].intervals.map((iv, i) => ({...iv, utilization: 0.9 + (i % 3) * 0.03, errors: i % 4})),
    http_rtt: {count: 10, mean_ms: 12, p50_ms: 10, p95_ms: 40, p99_ms: 50, scope: 'lifetime'},
  }
  r.internal_metrics = {scrapes: 5, failed: 1, prefix: HOSTILE, families: [HOSTILE], utilization_components: 1, first_error: HOSTILE}
  r.config = {
    files: [
      {source: `/etc/${HOSTILE}.yaml`, entry: `config/01-${HOSTILE_COMMENT}`, format: HOSTILE, ok: true, error: null, components: [HOSTILE]},
      {source: `/etc/${HOSTILE_COMMENT}.toml`, entry: null, format: null, ok: false, error: HOSTILE, components: []},
    ],
    component_count: 1,
    edge_count: 0,
    unresolved_inputs: 1,
    errors: [{source: HOSTILE, error: HOSTILE}],
    warnings: [HOSTILE],
  }
  r.logs = {
    since: HOSTILE,
    until: null,
    max_bytes: 1024,
    sources: [
      {spec: `journal:${HOSTILE}`, kind: 'journal', entry: `logs/01-${HOSTILE}.log`, status: 'ok', error: null, selection: HOSTILE, lines: 3, bytes_read: 10, truncated: true, first_timestamp: null, last_timestamp: null},
      {spec: HOSTILE_COMMENT, kind: 'file', entry: null, status: HOSTILE, error: HOSTILE, selection: null, lines: 0, bytes_read: 0, truncated: false, first_timestamp: null, last_timestamp: null},
    ],
  }
  return r
}

/** A bundle without spans: Vector's utilization and error totals, the config and logs captured with it. */
export function metricsRichResult(): AnalysisResult {
  const r = slowSinkResult()
  const util: Record<string, number> = {in_file: 0.12, parse: 0.35, out_http: 0.96}
  r.spans = {...r.spans, total: 0, traces: 0, tracing_available: false, tracing_reason: 'GET /tracing answered 404', level: null}
  r.components = []
  r.timeline = {}
  r.topology = {...r.topology, edges: [{from: 'in_file', to: 'parse'}, {from: 'parse', to: 'out_http'}], inferred: false, edges_source: 'config'}
  r.metrics = r.metrics.map((m) => ({
    ...m,
    intervals: m.intervals.map((iv, i) => ({
      ...iv,
      utilization: Math.min(1, util[m.id] + (i % 3) * 0.01),
      errors: m.id === 'out_http' ? i % 3 : 0,
      latency_mean_ms: m.id === 'parse' ? 2 : null,
      send_latency_mean_ms: m.id === 'in_file' ? 30 : null,
      http_rtt_mean_ms: m.id === 'out_http' ? 31 : null,
      buffer_utilization: 0.5,
      discarded_events: 0,
      cpu_usage: m.id === 'parse' ? 0.4 : null,
    })),
    utilization: util[m.id],
    utilization_max: util[m.id] + 0.02,
    utilization_samples: 20,
    errors: m.id === 'out_http' ? 19 : 0,
    errors_per_s: m.id === 'out_http' ? 0.95 : 0,
    errors_source: 'errors_stream',
    latency: m.id === 'parse' ? {count: 4000, mean_ms: 2.1, p50_ms: 1.9, p95_ms: 4.4, p99_ms: 7.5, scope: 'window'} : null,
    send_latency: m.id === 'in_file' ? {count: 600, mean_ms: 30.5, p50_ms: 28, p95_ms: 48.8, p99_ms: 70, scope: 'window'} : null,
    send_batch_latency: null,
    http_rtt: m.id === 'out_http' ? {count: 600, mean_ms: 31.5, p50_ms: 30, p95_ms: 49.2, p99_ms: 60, scope: 'window'} : null,
    buffer_utilization_max: 0.96,
    buffer_events_max: 960,
    discarded_events: m.id === 'parse' ? 3 : null,
    cpu_usage: m.id === 'parse' ? 0.41 : null,
  }))
  r.internal_metrics = {scrapes: 21, failed: 0, prefix: 'vector_', families: ['utilization', 'component_latency_seconds'], utilization_components: 3, first_error: null}
  r.config = {
    files: [{source: '/etc/vector/vector.yaml', entry: 'config/01-vector.yaml', format: 'yaml', ok: true, error: null, components: ['in_file', 'parse', 'out_http']}],
    component_count: 3,
    edge_count: 2,
    unresolved_inputs: 0,
    errors: [],
    warnings: [],
  }
  r.logs = {
    since: '2025-03-01T12:00:00.000Z',
    until: '2025-03-01T12:00:21.000Z',
    max_bytes: 1048576,
    sources: [
      {spec: '/var/log/vector/vector.log', kind: 'file', entry: 'logs/01-vector.log', status: 'ok', error: null, selection: 'window', lines: 120, bytes_read: 18000, truncated: true, first_timestamp: null, last_timestamp: null},
      {spec: 'journal:vector', kind: 'journal', entry: null, status: 'failed', error: 'journalctl is not installed', selection: null, lines: 0, bytes_read: 0, truncated: false, first_timestamp: null, last_timestamp: null},
    ],
  }
  r.findings = [
    {
      id: 'metrics.saturated',
      severity: 'high',
      component: 'out_http',
      stage: null,
      summary: METRICS_SUMMARY,
      evidence: {source: 'from metrics alone: tracing was unavailable', utilization: 0.96, topology: 'topology edges from config'},
    },
  ]
  return r
}

export const METRICS_SUMMARY = 'Sink `out_http` is the likely bottleneck (from metrics alone: tracing was unavailable): its utilization is 96%, the most downstream saturated component.'

/** Many iterations and intervals: the caps must kick in and say so. */
export function largeResult(): AnalysisResult {
  const r = slowSinkResult()
  r.timeline = {
    in_file: timeline(1, 40_000, ['send', 'read', 'sleep'], 20_000),
    parse: timeline(2, 600, ['process', 'send'], 20_000),
    out_http: timeline(3, 40_000, ['send'], 20_000, 500),
  }
  r.metrics = r.metrics.map((m) => ({
    ...m,
    intervals: Array.from({length: 5_000}, (_, i) => ({t_ms: i * 4, dt_ms: 4, received_eps: 1000 + (i % 50), sent_eps: i % 97 === 0 ? null : 990, errors: 0, utilization: 0.5})),
  }))
  return r
}
