/**
 * What the bundle holds besides spans and metrics: the config files
 * (config/index.json) and log tails (logs/index.json). The analysis reports
 * which were included and how they fared, never their content; the config's
 * components and edges also feed the topology.
 */
import {ENTRY, type ConfigCollection, type ConfigComponent, type ConfigEdge, type LogCollection} from '../bundle/format.js'
import {COMPONENT_KINDS, type ComponentKind} from '../protocol/tracing-control.js'
import {readJsonEntry} from './bundle-files.js'
import type {ConfigSummary, LogsSummary} from './types.js'

/** Files, sources and messages listed: a hostile index cannot make the report unbounded. */
const MAX_LISTED = 200
/** Characters kept of each path, error or message. */
const MAX_TEXT = 500

export interface ConfigTopology {
  components: {id: string; kind: ComponentKind; type: string | null}[]
  edges: {from: string; to: string}[]
}

export interface CollectedFiles {
  config: ConfigSummary | null
  /** The config's components and edges, for the topology; null without a usable config index. */
  configTopology: ConfigTopology | null
  logs: LogsSummary | null
}

export async function readCollectedFiles(root: string, problems: string[]): Promise<CollectedFiles> {
  const config = await readJsonEntry<ConfigCollection>(root, ENTRY.configIndex, problems)
  const logs = await readJsonEntry<LogCollection>(root, ENTRY.logsIndex, problems)
  return {
    config: config && typeof config === 'object' ? summariseConfig(config) : null,
    configTopology: config && typeof config === 'object' ? configTopology(config) : null,
    logs: logs && typeof logs === 'object' ? summariseLogs(logs) : null,
  }
}

export function summariseConfig(c: ConfigCollection): ConfigSummary {
  const files = arr(c.files).slice(0, MAX_LISTED)
  return {
    files: files.map((f) => ({
      source: text(f.source) ?? '?',
      entry: text(f.entry),
      format: text(f.stored_as) ?? text(f.format),
      ok: f.ok === true,
      error: text(f.error),
      components: strings(f.components),
    })),
    component_count: arr(c.components).length,
    edge_count: arr(c.edges).length,
    unresolved_inputs: arr(c.unresolved_inputs).length,
    errors: arr(c.errors)
      .slice(0, MAX_LISTED)
      .map((e) => ({source: text(e?.source) ?? '?', error: text(e?.error) ?? '?'})),
    warnings: strings(c.warnings),
  }
}

export function configTopology(c: ConfigCollection): ConfigTopology | null {
  const components = arr<ConfigComponent>(c.components)
    .filter((x) => x && typeof x.id === 'string' && (COMPONENT_KINDS as readonly string[]).includes(x.kind))
    .map((x) => ({id: x.id, kind: x.kind, type: typeof x.type === 'string' ? x.type : null}))
  const edges = arr<ConfigEdge>(c.edges)
    .filter((e) => e && typeof e.from === 'string' && typeof e.to === 'string')
    .map((e) => ({from: e.from, to: e.to}))
  if (components.length === 0 && edges.length === 0) return null
  // A component fed through several named outputs yields one edge per output; the topology needs one.
  const seen = new Set<string>()
  const unique = edges.filter((e) => {
    const key = `${e.from}\u0000${e.to}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
  return {components, edges: unique}
}

export function summariseLogs(l: LogCollection): LogsSummary {
  return {
    since: text(l.since),
    until: text(l.until),
    max_bytes: typeof l.max_bytes === 'number' && Number.isFinite(l.max_bytes) ? l.max_bytes : null,
    sources: arr(l.sources)
      .slice(0, MAX_LISTED)
      .map((s) => ({
        spec: text(s.spec) ?? '?',
        kind: text(s.kind) ?? 'file',
        entry: text(s.entry),
        status: text(s.status) ?? 'unknown',
        error: text(s.error),
        selection: text(s.selection),
        lines: count(s.lines),
        bytes_read: count(s.bytes_read),
        truncated: s.truncated === true,
        first_timestamp: text(s.first_timestamp),
        last_timestamp: text(s.last_timestamp),
      })),
  }
}

function arr<T = Record<string, unknown>>(v: unknown): T[] {
  return Array.isArray(v) ? (v.filter((x) => x !== null && x !== undefined) as T[]) : []
}

function strings(v: unknown): string[] {
  return (Array.isArray(v) ? v : [])
    .filter((x): x is string => typeof x === 'string')
    .slice(0, MAX_LISTED)
    .map((x) => x.slice(0, MAX_TEXT))
}

function text(v: unknown): string | null {
  return typeof v === 'string' ? v.slice(0, MAX_TEXT) : null
}

function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : 0
}
