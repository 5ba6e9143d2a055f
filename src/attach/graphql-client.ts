/**
 * Client for Vector <= 0.54's GraphQL admin API (`POST /graphql`, always HTTP
 * 200 with `errors` to check). Pages through `components` because the server
 * returns only 10 nodes when `first` is omitted.
 */
import type {ComponentCounters, ComponentInfo, Edge} from '../bundle/format.js'
import type {ComponentKind} from '../protocol/tracing-control.js'
import {VdiagError} from '../errors.js'
import {attachError, displayUrl, HINT_API, HINT_TOKEN, quote} from './api-errors.js'
import {COMPONENTS_PAGE_SIZE, GRAPHQL_DOCUMENTS, type OperationName} from './graphql-documents.js'
import {endpointUrl, isObject, readJson, request, type ApiTarget, type HttpReply} from './http.js'

export const GRAPHQL_PATH = '/graphql'

/** 1000 pages of 100 = 100,000 components: beyond any real pipeline, and it bounds a server that always says "next page". */
export const MAX_COMPONENT_PAGES = 1000

const KIND_BY_TYPENAME: Record<string, ComponentKind> = {Source: 'source', Transform: 'transform', Sink: 'sink'}

export interface GraphqlMeta {
  versionString: string
  hostname: string | null
}

export interface GraphqlComponents {
  components: ComponentInfo[]
  edges: Edge[]
  skipped: string[]
}

export class GraphqlAdminClient {
  constructor(private readonly target: ApiTarget) {}

  /** Sends one operation; returns `data` or throws `api_bad_reply` / `api_unreachable`. */
  async query(operation: OperationName, variables: Record<string, unknown> = {}, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const reply = await request(this.target, {
      method: 'POST',
      path: GRAPHQL_PATH,
      json: {query: GRAPHQL_DOCUMENTS[operation], variables, operationName: operation},
      signal,
    })
    return this.dataOf(reply, operation)
  }

  async getMeta(signal?: AbortSignal): Promise<GraphqlMeta> {
    const data = await this.query('VdiagMeta', {}, signal)
    const meta = data.meta
    if (!isObject(meta) || typeof meta.versionString !== 'string' || meta.versionString === '') {
      throw this.badReply('VdiagMeta', `meta.versionString is missing or not a string: ${quote(JSON.stringify(data), this.target.token)}`)
    }
    const hostname = typeof meta.hostname === 'string' && meta.hostname !== '' ? meta.hostname : null
    return {versionString: meta.versionString, hostname}
  }

  async getComponents(signal?: AbortSignal): Promise<GraphqlComponents> {
    const out: GraphqlComponents = {components: [], edges: [], skipped: []}
    const edges = new Map<string, Edge>()
    const link = (from: string, to: string) => edges.set(`${from}\u0000${to}`, {from, to})
    for (const node of await this.allNodes('VdiagComponents', signal)) {
      const id = node.componentId as string
      const kind = KIND_BY_TYPENAME[String(node.__typename)]
      if (!kind) {
        out.skipped.push(`component ${id} has unknown kind ${String(node.__typename)}; left out of the component list`)
        continue
      }
      if (typeof node.componentType !== 'string') throw this.badReply('VdiagComponents', `component ${id} has no componentType`)
      const outputs = idsOf(node.outputs, 'outputId')
      out.components.push({id, kind, type: node.componentType, outputs})
      // Downstream relations: this component feeds them.
      for (const to of [...idsOf(node.transforms, 'componentId'), ...idsOf(node.sinks, 'componentId')]) {
        if (kind !== 'sink') link(id, to)
      }
      // Upstream relations: they feed this component. Sinks' `transforms` are inputs too.
      for (const from of idsOf(node.sources, 'componentId')) link(from, id)
      if (kind === 'sink') for (const from of idsOf(node.transforms, 'componentId')) link(from, id)
    }
    out.edges = [...edges.values()].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to))
    return out
  }

  async snapshot(signal?: AbortSignal): Promise<Record<string, ComponentCounters>> {
    const out: Record<string, ComponentCounters> = {}
    for (const node of await this.allNodes('VdiagCounters', signal)) {
      const m = isObject(node.metrics) ? node.metrics : {}
      const c: ComponentCounters = {}
      setCounter(c, 'received_events', m.receivedEventsTotal, 'receivedEventsTotal')
      setCounter(c, 'sent_events', m.sentEventsTotal, 'sentEventsTotal')
      setCounter(c, 'received_bytes', m.receivedBytesTotal, 'receivedBytesTotal')
      setCounter(c, 'sent_bytes', m.sentBytesTotal, 'sentBytesTotal')
      out[node.componentId as string] = c
    }
    return out
  }

  /** Follows `pageInfo` until the last page; each node is checked to have a string `componentId`. */
  private async allNodes(operation: 'VdiagComponents' | 'VdiagCounters', signal?: AbortSignal): Promise<Record<string, unknown>[]> {
    const nodes: Record<string, unknown>[] = []
    const seenCursors = new Set<string>()
    let after: string | null = null
    for (let page = 0; page < MAX_COMPONENT_PAGES; page++) {
      const data = await this.query(operation, {first: COMPONENTS_PAGE_SIZE, after}, signal)
      const conn = data.components
      if (!isObject(conn) || !Array.isArray(conn.nodes) || !isObject(conn.pageInfo)) {
        throw this.badReply(operation, 'components.nodes or components.pageInfo is missing')
      }
      for (const n of conn.nodes as unknown[]) {
        if (!isObject(n) || typeof n.componentId !== 'string' || n.componentId === '') {
          throw this.badReply(operation, `a component has no componentId: ${quote(JSON.stringify(n) ?? 'undefined', this.target.token)}`)
        }
        nodes.push(n)
      }
      const {hasNextPage, endCursor} = conn.pageInfo
      if (hasNextPage !== true) return nodes
      if (typeof endCursor !== 'string' || seenCursors.has(endCursor) || (conn.nodes as unknown[]).length === 0) {
        throw this.badReply(operation, 'the server says there are more components but gives no new page cursor (pageInfo.endCursor)')
      }
      seenCursors.add(endCursor)
      after = endCursor
    }
    throw this.badReply(operation, `more than ${MAX_COMPONENT_PAGES} pages of ${COMPONENTS_PAGE_SIZE} components`)
  }

  private dataOf(reply: HttpReply, operation: string): Record<string, unknown> {
    const what = reply.request
    const fail = (why: string, hint = HINT_API): VdiagError =>
      attachError('api_bad_reply', `vdiag tried ${what} (${operation}) and could not use the reply: ${why}.`, this.target.token, {
        hint,
        details: {request: what, operation, http: reply.status, reason: why},
      })
    if (reply.status === 401 || reply.status === 403) throw fail(`access was refused (HTTP ${reply.status})`, HINT_TOKEN)
    if (reply.status === 404) {
      throw fail('there is no /graphql endpoint (HTTP 404): the GraphQL API is switched off (`api.graphql: false`) or this is not Vector <= 0.54')
    }
    const parsed = readJson(reply)
    if (!parsed.ok) throw fail(`HTTP ${reply.status}, and ${parsed.reason}`)
    const body = parsed.value
    if (!isObject(body)) throw fail(`HTTP ${reply.status} with JSON that is not an object`)
    if (Array.isArray(body.errors) && body.errors.length > 0) {
      const messages = (body.errors as unknown[]).slice(0, 3).map((e) => (isObject(e) && typeof e.message === 'string' ? e.message : JSON.stringify(e)))
      throw fail(`the server returned GraphQL errors: ${quote(messages.join('; '), this.target.token)}`)
    }
    if (reply.status !== 200) throw fail(`HTTP ${reply.status} (GraphQL always answers 200)`)
    if (!isObject(body.data)) throw fail('the reply has no "data" object')
    return body.data
  }

  private badReply(operation: string, why: string): VdiagError {
    return attachError('api_bad_reply', `vdiag sent the GraphQL query ${operation} to ${displayUrl(endpointUrl(this.target, GRAPHQL_PATH).toString())} and could not use the reply: ${why}.`, this.target.token, {
      hint: HINT_API,
      details: {operation, reason: why},
    })
  }
}

function idsOf(list: unknown, field: 'componentId' | 'outputId'): string[] {
  if (!Array.isArray(list)) return []
  return list.flatMap((x) => (isObject(x) && typeof x[field] === 'string' ? [x[field] as string] : []))
}

/** Metric wrappers are nullable objects `{<name>: Float!}`; a null wrapper means "not reported". */
function setCounter(out: ComponentCounters, key: keyof ComponentCounters, wrapper: unknown, field: string): void {
  if (!isObject(wrapper)) return
  const v = wrapper[field]
  if (typeof v === 'number' && Number.isFinite(v)) out[key] = v
}
