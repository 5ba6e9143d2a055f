/**
 * The root value behind DEMO_GRAPHQL_SDL: Vector <= 0.54's component model
 * (src/api/schema/components) rebuilt from one DemoPipelineView reading.
 * Objects carry `__typename`, which graphql-js's default type resolver uses for
 * the `Component` and `*Metrics` interfaces; fields that walk the topology are
 * functions so they are only computed when selected.
 */
import type {ComponentKind} from '../../protocol/tracing-control.js'
import type {DemoComponentView, DemoPipelineView} from '../types.js'
import {DEFAULT_OUTPUT} from './grpc-metric-sampler.js'
import {paginate, type PageArgs} from './graphql-relay.js'

type Maybe<T> = T | null | undefined
type Node = Record<string, unknown> & {__typename: string}

interface StringFilter {
  equals?: Maybe<string>
  notEquals?: Maybe<string>
  contains?: Maybe<string>
  notContains?: Maybe<string>
  startsWith?: Maybe<string>
  endsWith?: Maybe<string>
}

interface KindFilter {
  equals?: Maybe<string>
  notEquals?: Maybe<string>
}

interface OutputTypeFilter {
  equals?: Maybe<string[]>
  notEquals?: Maybe<string[]>
  contains?: Maybe<string>
  notContains?: Maybe<string>
}

interface ComponentFilter {
  componentId?: Maybe<StringFilter[]>
  componentType?: Maybe<StringFilter[]>
  componentKind?: Maybe<KindFilter[]>
  outputType?: Maybe<OutputTypeFilter[]>
  or?: Maybe<ComponentFilter[]>
}

interface SortField {
  field: string
  direction: 'ASC' | 'DESC'
}

type ListArgs = PageArgs & {filter?: Maybe<ComponentFilter>; sort?: Maybe<SortField[]>}

const TYPENAME: Record<ComponentKind, string> = {source: 'Source', transform: 'Transform', sink: 'Sink'}
const KIND_ENUM: Record<ComponentKind, string> = {source: 'SOURCE', transform: 'TRANSFORM', sink: 'SINK'}
/** `ComponentKind` is declared SOURCE, TRANSFORM, SINK; Vector sorts by declaration order. */
const KIND_RANK: Record<ComponentKind, number> = {source: 0, transform: 1, sink: 2}
/** The demo's sources emit log events only. */
const SOURCE_OUTPUT_TYPES = ['LOG']

const compare = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0)

/** Unset conditions pass; every set one must hold (Vector's `filter_check!`). */
function stringMatches(f: StringFilter, value: string): boolean {
  if (f.equals != null && value !== f.equals) return false
  if (f.notEquals != null && value === f.notEquals) return false
  if (f.contains != null && !value.includes(f.contains)) return false
  if (f.notContains != null && value.includes(f.notContains)) return false
  if (f.startsWith != null && !value.startsWith(f.startsWith)) return false
  if (f.endsWith != null && !value.endsWith(f.endsWith)) return false
  return true
}

function kindMatches(f: KindFilter, kind: string): boolean {
  if (f.equals != null && kind !== f.equals) return false
  if (f.notEquals != null && kind === f.notEquals) return false
  return true
}

function outputTypeMatches(f: OutputTypeFilter, types: readonly string[]): boolean {
  const sameSet = (list: string[]) => {
    const set = new Set(list)
    return set.size === new Set(types).size && types.every((t) => set.has(t))
  }
  if (f.equals != null && !sameSet(f.equals)) return false
  if (f.notEquals != null && sameSet(f.notEquals)) return false
  if (f.contains != null && !types.includes(f.contains)) return false
  if (f.notContains != null && types.includes(f.notContains)) return false
  return true
}

/** Vector's `filter_item`: the filter's own conditions, OR any of its `or` filters. */
function filterMatches(f: ComponentFilter, c: DemoComponentView): boolean {
  const own =
    (f.componentId ?? []).every((s) => stringMatches(s, c.id)) &&
    (f.componentType ?? []).every((s) => stringMatches(s, c.type)) &&
    (f.componentKind ?? []).every((k) => kindMatches(k, KIND_ENUM[c.kind])) &&
    (f.outputType ?? []).every((o) => outputTypeMatches(o, SOURCE_OUTPUT_TYPES))
  return own || (f.or ?? []).some((sub) => filterMatches(sub, c))
}

function sortKey(c: DemoComponentView, field: string): string | number {
  switch (field) {
    case 'COMPONENT_KEY':
      return c.id
    case 'COMPONENT_KIND':
      return KIND_RANK[c.kind]
    case 'COMPONENT_TYPE':
      return c.type
    default:
      return 0 // OUTPUT_TYPE: every demo source has the same output types
  }
}

/** Vector's `sort::by_fields`: first differing field wins, DESC reverses that field. */
function sortComponents(list: DemoComponentView[], fields: readonly SortField[]): void {
  list.sort((a, b) => {
    for (const f of fields) {
      const order = compare(sortKey(a, f.field), sortKey(b, f.field))
      if (order !== 0) return f.direction === 'DESC' ? -order : order
    }
    return 0
  })
}

/** Builds the graphql-js root value for one request. */
export function createRootValue(pipeline: DemoPipelineView): Record<string, unknown> {
  let snapshot: {list: DemoComponentView[]; byId: Map<string, DemoComponentView>} | undefined
  const components = () => {
    if (snapshot === undefined) {
      // One reading per request keeps every counter in an answer from the same moment.
      const list = [...pipeline.components()].sort((a, b) => compare(a.id, b.id))
      snapshot = {list, byId: new Map(list.map((c) => [c.id, c]))}
    }
    return snapshot
  }
  const timestamp = new Date().toISOString()
  const nodes = new Map<string, Node>()

  /** Vector inputs may name an output (`route.errors`); the component is the part before the last dot. */
  const inputComponent = (input: string) => {
    const {byId} = components()
    const exact = byId.get(input)
    if (exact !== undefined) return exact
    const dot = input.lastIndexOf('.')
    return dot > 0 ? byId.get(input.slice(0, dot)) : undefined
  }
  const upstream = (c: DemoComponentView, kind: ComponentKind) =>
    c.inputs
      .map(inputComponent)
      .filter((u): u is DemoComponentView => u !== undefined && u.kind === kind)
      .map(node)
  const downstream = (c: DemoComponentView, kind: ComponentKind) =>
    components()
      .list.filter((d) => d.kind === kind && d.inputs.some((i) => inputComponent(i)?.id === c.id))
      .map(node)

  const total = (name: string, value: number) => ({[name]: value, timestamp})
  const outputs = (c: DemoComponentView) =>
    c.outputs.map((id) => ({
      outputId: id,
      // Counters carry no `output` tag, which Vector credits to the default output.
      sentEventsTotal: id === DEFAULT_OUTPUT ? total('sentEventsTotal', c.counters.sent_events) : null,
    }))

  function node(c: DemoComponentView): Node {
    const cached = nodes.get(c.id)
    if (cached !== undefined) return cached
    const k = c.counters
    const common = {__typename: TYPENAME[c.kind], componentId: c.id, componentType: c.type}
    let built: Node
    switch (c.kind) {
      case 'source':
        built = {
          ...common,
          outputTypes: SOURCE_OUTPUT_TYPES,
          outputs: () => outputs(c),
          transforms: () => downstream(c, 'transform'),
          sinks: () => downstream(c, 'sink'),
          metrics: () => ({
            // Vector answers file sources with FileSourceMetrics, every other source generically.
            __typename: c.type === 'file' ? 'FileSourceMetrics' : 'GenericSourceMetrics',
            receivedBytesTotal: total('receivedBytesTotal', k.received_bytes),
            receivedEventsTotal: total('receivedEventsTotal', k.received_events),
            sentEventsTotal: total('sentEventsTotal', k.sent_events),
          }),
        }
        break
      case 'transform':
        built = {
          ...common,
          outputs: () => outputs(c),
          sources: () => upstream(c, 'source'),
          transforms: () => downstream(c, 'transform'),
          sinks: () => downstream(c, 'sink'),
          metrics: () => ({
            __typename: 'GenericTransformMetrics',
            receivedEventsTotal: total('receivedEventsTotal', k.received_events),
            sentEventsTotal: total('sentEventsTotal', k.sent_events),
          }),
        }
        break
      case 'sink':
        built = {
          ...common,
          sources: () => upstream(c, 'source'),
          transforms: () => upstream(c, 'transform'),
          metrics: () => ({
            __typename: 'GenericSinkMetrics',
            receivedEventsTotal: total('receivedEventsTotal', k.received_events),
            sentBytesTotal: total('sentBytesTotal', k.sent_bytes),
            sentEventsTotal: total('sentEventsTotal', k.sent_events),
          }),
        }
        break
    }
    nodes.set(c.id, built)
    return built
  }

  const list = (kind: ComponentKind | undefined) => (args: ListArgs) => {
    let found = components().list.filter((c) => kind === undefined || c.kind === kind)
    if (args.filter != null) found = found.filter((c) => filterMatches(args.filter!, c))
    if (args.sort != null) sortComponents(found, args.sort)
    return paginate(found.map(node), args)
  }

  return {
    health: true,
    meta: () => ({versionString: pipeline.versionString(), hostname: pipeline.hostname()}),
    components: list(undefined),
    sources: list('source'),
    transforms: list('transform'),
    sinks: list('sink'),
    componentByComponentKey: ({componentId}: {componentId: string}) => {
      const c = components().byId.get(componentId)
      return c === undefined ? null : node(c)
    },
  }
}
