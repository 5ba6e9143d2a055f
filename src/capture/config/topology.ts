/**
 * Components and edges from the config, the way Vector resolves `inputs`
 * (src/config/compiler.rs, expand_globs): each item is a glob pattern matched
 * against every output of every source and transform — `id` for a default
 * output, `id.name` for a named one (`route.errors`) — and an item that is no
 * valid pattern is matched literally. Which named outputs a component has
 * depends on its type; the common ones are known here, and a literal
 * `id.name` naming a known component is trusted even when its outputs are not.
 */
import type {ConfigComponent, ConfigEdge} from '../../bundle/format.js'
import type {ComponentKind} from '../../protocol/tracing-control.js'
import {isTable} from './redact-document.js'

export interface ComponentDefinition {
  id: string
  kind: ComponentKind
  /** The component's (redacted) body. */
  body: Record<string, unknown>
  entry: string
}

export interface Topology {
  components: ConfigComponent[]
  edges: ConfigEdge[]
  unresolved_inputs: {component: string; input: string}[]
  warnings: string[]
}

const OTEL_OUTPUTS = ['logs', 'metrics', 'traces']

function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v]
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
}

/** Named outputs by type, and whether the component also has a default output. */
function outputsOf(kind: ComponentKind, type: string | null, body: Record<string, unknown>): {named: string[]; hasDefault: boolean} {
  if (kind === 'transform') {
    if (type === 'route' && isTable(body.route)) {
      return {named: [...Object.keys(body.route), ...(body.reroute_unmatched === false ? [] : ['_unmatched'])], hasDefault: false}
    }
    if (type === 'exclusive_route' && Array.isArray(body.routes)) {
      const names = body.routes.flatMap((r) => (isTable(r) && typeof r.name === 'string' ? [r.name] : []))
      return {named: [...names, '_unmatched'], hasDefault: false}
    }
    if (type === 'swimlanes' && isTable(body.lanes)) return {named: Object.keys(body.lanes), hasDefault: false}
    if (type === 'remap' && body.reroute_dropped === true) return {named: ['dropped'], hasDefault: true}
  }
  if (kind === 'source') {
    if (type === 'opentelemetry') return {named: OTEL_OUTPUTS, hasDefault: false}
    if (type === 'datadog_agent' && body.multiple_outputs === true) return {named: OTEL_OUTPUTS, hasDefault: false}
  }
  return {named: [], hasDefault: true}
}

/** Rust `glob::Pattern` syntax (`*`, `?`, `[abc]`, `[!abc]`) as a RegExp; null when it is not a valid pattern. */
export function globToRegExp(pattern: string): RegExp | null {
  let re = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        // `**` is only valid as a whole path component, and an input is a single component.
        if (pattern !== '**') return null
        i++
      }
      re += '.*'
    } else if (c === '?') re += '.'
    else if (c === '[') {
      let j = i + 1
      let negate = false
      if (pattern[j] === '!') {
        negate = true
        j++
      }
      // A `]` right after the opening is a literal member.
      const start = j
      if (pattern[j] === ']') j++
      while (j < pattern.length && pattern[j] !== ']') j++
      if (j >= pattern.length) return null
      const members = pattern.slice(start, j).replace(/[\\\]^]/g, '\\$&')
      re += `[${negate ? '^' : ''}${members}]`
      i = j
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  }
  try {
    return new RegExp(`^${re}$`, 's')
  } catch {
    return null
  }
}

const GLOB_CHARS = /[*?[]/

export function buildTopology(definitions: ComponentDefinition[]): Topology {
  const components: ConfigComponent[] = []
  const warnings: string[] = []
  const byId = new Map<string, ConfigComponent>()
  const withDefault = new Set<string>()
  for (const d of definitions) {
    const type = typeof d.body.type === 'string' ? d.body.type : null
    const prior = byId.get(d.id)
    if (prior) {
      warnings.push(`${d.kind} ${d.id} in ${d.entry} has the id of the ${prior.kind} in ${prior.entry}; Vector refuses duplicate ids, the first one is used`)
      continue
    }
    const {named, hasDefault} = outputsOf(d.kind, type, d.body)
    if (hasDefault) withDefault.add(d.id)
    const c: ConfigComponent = {id: d.id, kind: d.kind, type, inputs: d.kind === 'source' ? [] : strings(d.body.inputs), outputs: named, entry: d.entry}
    byId.set(d.id, c)
    components.push(c)
  }

  // Every output a transform or sink can take as input.
  const candidates: {name: string; from: string; output: string | null}[] = []
  for (const c of components) {
    if (c.kind === 'sink') continue
    if (withDefault.has(c.id)) candidates.push({name: c.id, from: c.id, output: null})
    for (const o of c.outputs) candidates.push({name: `${c.id}.${o}`, from: c.id, output: o})
  }
  const producers = new Set(components.filter((c) => c.kind !== 'sink').map((c) => c.id))

  const edges = new Map<string, ConfigEdge>()
  const unresolved: Topology['unresolved_inputs'] = []
  const link = (from: string, output: string | null, to: string, input: string) => {
    const key = `${from}\u0000${output ?? ''}\u0000${to}`
    if (!edges.has(key)) edges.set(key, {from, to, output, input})
  }
  for (const c of components) {
    for (const input of c.inputs) {
      const pattern = GLOB_CHARS.test(input) && !input.includes('[REDACTED:') ? globToRegExp(input) : null
      if (pattern) {
        // A component never feeds itself (Vector drops the self-match; a cycle would not start anyway).
        const matched = candidates.filter((x) => x.from !== c.id && pattern.test(x.name))
        for (const x of matched) link(x.from, x.output, c.id, input)
        if (matched.length === 0) unresolved.push({component: c.id, input})
        continue
      }
      const exact = candidates.find((x) => x.name === input)
      const dot = input.indexOf('.')
      if (exact) link(exact.from, exact.output, c.id, input)
      else if (producers.has(input)) link(input, null, c.id, input)
      else if (dot > 0 && producers.has(input.slice(0, dot))) link(input.slice(0, dot), input.slice(dot + 1), c.id, input)
      else unresolved.push({component: c.id, input})
    }
  }
  const sorted = [...edges.values()].sort(
    (a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || (a.output ?? '').localeCompare(b.output ?? ''),
  )
  return {components, edges: sorted, unresolved_inputs: unresolved, warnings}
}
