/**
 * Offline analysis of an opened bundle: wires the stages together and nothing
 * else. Spans → columns → trees → per-component aggregates; facts → topology;
 * snapshots → rates; then the detectors turn the result into findings.
 */
import {ENTRY, type Manifest, type MetricsSnapshot, type PipelineFacts, type TracingRecord} from '../bundle/format.js'
import type {ComponentKind} from '../protocol/tracing-control.js'
import {readJsonEntry, readNdjsonEntry} from './bundle-files.js'
import {readCollectedFiles} from './collected-files.js'
import {aggregateComponents, seenComponents} from './component-stats.js'
import {runDetectors} from './detectors/index.js'
import {readErrorTotals} from './error-totals.js'
import {componentMetrics} from './metrics.js'
import {readPrometheusSeries} from './prometheus-series.js'
import {round} from './round.js'
import {readSpans, spanExtent} from './span-reader.js'
import {buildSpanTree} from './span-tree.js'
import {buildTopology} from './topology.js'
import type {AnalysisResult} from './types.js'
import type {AnalysisView} from './view.js'
import {analysisWindow} from './window.js'

/** Snapshot lines read; a capture writes one per interval (thousands for a day at 10 s). */
export const MAX_METRIC_SNAPSHOTS = 100_000

export interface OpenedBundleInput {
  /** Directory the bundle was extracted to (or the bundle directory itself). */
  root: string
  manifest: Manifest
  verified: boolean
}

export async function analyseBundle(opened: OpenedBundleInput, opts: {path?: string} = {}): Promise<AnalysisResult> {
  const {root, manifest, verified} = opened
  const problems: string[] = []
  const facts = await readJsonEntry<PipelineFacts>(root, ENTRY.pipeline, problems)
  const tracing = await readJsonEntry<TracingRecord>(root, ENTRY.tracing, problems)
  const snapshots = (await readNdjsonEntry<MetricsSnapshot>(root, ENTRY.metrics, problems, MAX_METRIC_SNAPSHOTS)) ?? []
  const prometheus = await readPrometheusSeries(root, problems)
  const errorTotals = await readErrorTotals(root, problems)
  const collected = await readCollectedFiles(root, problems)

  const table = await readSpans(root)
  const tree = buildSpanTree(table)
  const window = analysisWindow(manifest, tracing, spanExtent(table))
  // Components only the scrapes know (the admin API could not be read) still get a place in the topology.
  const scraped = [...(prometheus?.identities ?? [])].map(([id, x]) => ({id, kind: x.kind ?? undefined, type: x.type ?? undefined, stages: []}))
  const topology = buildTopology(facts, [...seenComponents(table, tree), ...scraped], collected.configTopology)
  const info = new Map(topology.components.map((c) => [c.id, c]))
  const kindOf = (c: number): ComponentKind => info.get(table.components.values[c])?.kind ?? 'transform'
  const {components, timeline} = aggregateComponents(table, tree, window, kindOf)
  for (const c of components) {
    const known = info.get(c.id)
    if (known && known.type !== 'unknown') c.type = known.type
  }
  components.sort((a, b) => (topology.depth[a.id] ?? 0) - (topology.depth[b.id] ?? 0) || a.id.localeCompare(b.id))

  const counts = manifest.counts as Partial<Manifest['counts']> | undefined
  const tracingAvailable = table.length > 0 || Boolean(tracing?.supported && tracing.opened)
  const result: Omit<AnalysisResult, 'findings'> = {
    bundle: {
      path: opts.path ?? root,
      format_version: manifest.format_version,
      verified,
      complete: manifest.complete !== false,
      incomplete_reason: manifest.incomplete_reason ?? null,
      vdiag_version: manifest.vdiag_version ?? null,
      created_at: manifest.created_at ?? null,
      problems,
    },
    pipeline: {
      version: facts?.version ?? manifest.pipeline?.version ?? null,
      hostname: facts?.hostname ?? manifest.pipeline?.hostname ?? null,
      api: facts?.api?.generation ?? manifest.pipeline?.api_generation ?? 'unknown',
    },
    window: {start: window.startIso, end: window.endIso, duration_s: round(window.durationNs / 1e9, 3), source: window.source},
    spans: {
      total: table.length,
      traces: table.traceCount,
      dropped: (counts?.spans_dropped_pipeline ?? 0) + (counts?.spans_dropped_vdiag ?? 0),
      lost: counts?.spans_lost ?? null,
      tracing_available: tracingAvailable,
      tracing_reason: tracingAvailable ? null : tracing?.reason ?? (tracing ? 'no tracing window was opened' : 'the bundle has no tracing record'),
      level: manifest.capture?.level ?? tracing?.opened?.level ?? null,
      orphans: tree.unattributed,
      malformed: table.malformed,
    },
    topology: {
      components: topology.components,
      edges: topology.edges,
      inferred: topology.inferred,
      edges_source: topology.edges_source,
      order: topology.order,
    },
    components,
    metrics: componentMetrics(snapshots, window.startIso, {prometheus, errors: errorTotals}),
    timeline,
    internal_metrics: prometheus?.summary ?? null,
    config: collected.config,
    logs: collected.logs,
  }
  const view: AnalysisView = {result, depth: topology.depth}
  return {...result, findings: runDetectors(view)}
}

export type {AnalysisResult} from './types.js'
