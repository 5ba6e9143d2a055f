import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {createGraphqlHandler} from '../../src/demo/admin/graphql.js'
import {assertValidForVector, branchyShape, demoShape, fakePipeline, type FakeComponent} from './helpers.js'

type Json = Record<string, any>

/** An HTTP server on a free loopback port serving one fake pipeline at /graphql. */
async function serve(components: FakeComponent[]) {
  const pipeline = fakePipeline(components, {version: '0.54.0 (vdiag-demo x86_64-unknown-linux-gnu)'})
  const handler = createGraphqlHandler(pipeline)
  const server = http.createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`
  return {pipeline, server, url}
}

async function postRaw(url: string, body: string): Promise<{status: number; json: Json}> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {'content-type': 'application/json'},
    body,
    signal: AbortSignal.timeout(10_000),
  })
  return {status: res.status, json: (await res.json()) as Json}
}

/** Sends a document that must also be valid for Vector 0.54; the demo must answer it without errors. */
async function query(url: string, document: string, variables?: Json): Promise<Json> {
  await assertValidForVector(document)
  const {status, json} = await postRaw(url, JSON.stringify({query: document, variables}))
  assert.equal(status, 200)
  assert.equal(json.errors, undefined, JSON.stringify(json.errors))
  return json.data
}

const ids = (list: {componentId: string}[]) => list.map((c) => c.componentId)

describe('demo POST /graphql (Vector <= 0.54 shape) over real HTTP', () => {
  const servers: http.Server[] = []
  let demo: Awaited<ReturnType<typeof serve>>
  let branchy: Awaited<ReturnType<typeof serve>>
  let many: Awaited<ReturnType<typeof serve>>

  before(async () => {
    demo = await serve(demoShape())
    branchy = await serve(branchyShape())
    many = await serve(Array.from({length: 13}, (_, i) => ({id: `gen_${String(i).padStart(2, '0')}`, kind: 'source' as const, type: 'demo_logs'})))
    servers.push(demo.server, branchy.server, many.server)
  })

  after(async () => {
    for (const s of servers) {
      s.closeAllConnections()
      await new Promise((r) => s.close(r))
    }
  })

  it('health and meta', {timeout: 20_000}, async () => {
    assert.deepEqual(await query(demo.url, '{ health meta { versionString hostname } }'), {
      health: true,
      meta: {versionString: '0.54.0 (vdiag-demo x86_64-unknown-linux-gnu)', hostname: 'fake-host'},
    })
  })

  it('components: kind as __typename, plugin as componentType, Relay shape', {timeout: 20_000}, async () => {
    const data = await query(
      demo.url,
      `query {
        components(first: 32767) {
          totalCount
          pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
          edges { cursor node { componentId } }
          nodes { __typename componentId componentType }
        }
      }`,
    )
    const c = data.components
    assert.equal(c.totalCount, 3)
    assert.deepEqual(c.nodes, [
      {__typename: 'Source', componentId: 'in_files', componentType: 'file'},
      {__typename: 'Sink', componentId: 'out_http', componentType: 'http'},
      {__typename: 'Transform', componentId: 'parse', componentType: 'remap'},
    ])
    assert.deepEqual(ids(c.edges.map((e: Json) => e.node)), ['in_files', 'out_http', 'parse'])
    assert.equal(c.pageInfo.hasNextPage, false)
    assert.equal(c.pageInfo.hasPreviousPage, false)
    assert.equal(c.pageInfo.startCursor, c.edges[0].cursor)
    assert.equal(c.pageInfo.endCursor, c.edges[2].cursor)
  })

  it('without first only 10 nodes, like Vector; paging with first/after returns all', {timeout: 30_000}, async () => {
    const page = await query(many.url, '{ components { totalCount nodes { componentId } pageInfo { hasNextPage endCursor } } }')
    assert.equal(page.components.totalCount, 13)
    assert.equal(page.components.nodes.length, 10)
    assert.equal(page.components.pageInfo.hasNextPage, true)

    const seen: string[] = []
    let afterCursor: string | null = null
    for (let guard = 0; guard < 10; guard++) {
      const data: Json = await query(
        many.url,
        'query Page($after: String) { components(first: 4, after: $after) { nodes { componentId } pageInfo { hasNextPage endCursor } } }',
        {after: afterCursor},
      )
      seen.push(...ids(data.components.nodes))
      if (!data.components.pageInfo.hasNextPage) break
      afterCursor = data.components.pageInfo.endCursor
    }
    assert.deepEqual(
      seen,
      Array.from({length: 13}, (_, i) => `gen_${String(i).padStart(2, '0')}`),
    )
  })

  it('relations: Source.transforms/sinks, Transform.sources/transforms/sinks/outputs, Sink.sources/transforms', {timeout: 20_000}, async () => {
    const data = await query(
      branchy.url,
      `{
        components(first: 100) {
          nodes {
            componentId
            ... on Source { outputTypes outputs { outputId } transforms { componentId } sinks { componentId } }
            ... on Transform {
              outputs { outputId sentEventsTotal { sentEventsTotal } }
              sources { componentId } transforms { componentId } sinks { componentId }
            }
            ... on Sink { sources { componentId } transforms { componentId } }
          }
        }
      }`,
    )
    const byId = Object.fromEntries(data.components.nodes.map((n: Json) => [n.componentId, n]))
    assert.deepEqual(ids(byId.gen.transforms), ['parse'])
    assert.deepEqual(ids(byId.gen.sinks), ['out_http'])
    assert.deepEqual(byId.gen.outputTypes, ['LOG'])
    assert.deepEqual(byId.gen.outputs, [{outputId: '_default'}])
    assert.deepEqual(ids(byId.in_files.transforms), ['parse'])
    assert.deepEqual(ids(byId.in_files.sinks), [])
    assert.deepEqual(ids(byId.parse.sources), ['in_files', 'gen'])
    assert.deepEqual(ids(byId.parse.transforms), ['route'])
    assert.deepEqual(ids(byId.parse.sinks), [])
    assert.deepEqual(ids(byId.route.sources), [])
    assert.deepEqual(ids(byId.route.sinks), ['out_errors', 'out_http'])
    assert.deepEqual(byId.route.outputs, [
      {outputId: '_default', sentEventsTotal: {sentEventsTotal: 0}},
      {outputId: 'errors', sentEventsTotal: null},
    ])
    assert.deepEqual(ids(byId.out_http.sources), ['gen'])
    assert.deepEqual(ids(byId.out_http.transforms), ['route'])
    assert.deepEqual(ids(byId.out_errors.transforms), ['route'], 'an input naming an output (route.errors) resolves')
  })

  it('metrics: SourceMetrics/TransformMetrics/SinkMetrics with nullable wrappers and timestamps', {timeout: 20_000}, async () => {
    const data = await query(
      demo.url,
      `{
        components(first: 10) {
          nodes {
            componentId
            ... on Source { metrics { __typename
              receivedBytesTotal { receivedBytesTotal timestamp }
              receivedEventsTotal { receivedEventsTotal timestamp }
              sentEventsTotal { sentEventsTotal timestamp } } }
            ... on Transform { metrics { __typename
              receivedEventsTotal { receivedEventsTotal }
              sentEventsTotal { sentEventsTotal } } }
            ... on Sink { metrics { __typename
              receivedEventsTotal { receivedEventsTotal }
              sentBytesTotal { sentBytesTotal }
              sentEventsTotal { sentEventsTotal } } }
          }
        }
      }`,
    )
    const [source, sink, transform] = data.components.nodes as Json[]
    assert.equal(source!.metrics.__typename, 'FileSourceMetrics')
    assert.equal(source!.metrics.receivedBytesTotal.receivedBytesTotal, 1000)
    assert.equal(source!.metrics.receivedEventsTotal.receivedEventsTotal, 10)
    assert.equal(source!.metrics.sentEventsTotal.sentEventsTotal, 9)
    assert.ok(!Number.isNaN(Date.parse(source!.metrics.sentEventsTotal.timestamp)), 'RFC 3339 timestamp')
    assert.deepEqual(transform!.metrics, {
      __typename: 'GenericTransformMetrics',
      receivedEventsTotal: {receivedEventsTotal: 9},
      sentEventsTotal: {sentEventsTotal: 8},
    })
    assert.deepEqual(sink!.metrics, {
      __typename: 'GenericSinkMetrics',
      receivedEventsTotal: {receivedEventsTotal: 8},
      sentBytesTotal: {sentBytesTotal: 700},
      sentEventsTotal: {sentEventsTotal: 7},
    })
    const generic = await query(branchy.url, '{ sources(first: 5) { nodes { componentId metrics { __typename } } } }')
    assert.deepEqual(generic.sources.nodes, [
      {componentId: 'gen', metrics: {__typename: 'GenericSourceMetrics'}},
      {componentId: 'in_files', metrics: {__typename: 'FileSourceMetrics'}},
    ])
  })

  it('sources/transforms/sinks connections, filter, sort and componentByComponentKey', {timeout: 20_000}, async () => {
    const data = await query(
      branchy.url,
      `{
        transforms(first: 10) { totalCount nodes { componentId } }
        sinks(first: 10, sort: [{field: COMPONENT_KEY, direction: DESC}]) { nodes { componentId } }
        sources(first: 10, filter: {componentType: [{equals: "file"}]}) { nodes { componentId } }
        components(first: 10, filter: {componentKind: [{equals: SINK}], or: [{componentId: [{startsWith: "ge"}]}]},
                   sort: [{field: COMPONENT_KIND}, {field: COMPONENT_KEY, direction: DESC}]) { nodes { componentId } }
        one: componentByComponentKey(componentId: "route") { __typename componentId componentType }
        none: componentByComponentKey(componentId: "nope") { componentId }
      }`,
    )
    assert.equal(data.transforms.totalCount, 2)
    assert.deepEqual(ids(data.transforms.nodes), ['parse', 'route'])
    assert.deepEqual(ids(data.sinks.nodes), ['out_http', 'out_errors'])
    assert.deepEqual(ids(data.sources.nodes), ['in_files'])
    assert.deepEqual(ids(data.components.nodes), ['gen', 'out_http', 'out_errors'])
    assert.deepEqual(data.one, {__typename: 'Transform', componentId: 'route', componentType: 'route'})
    assert.equal(data.none, null)
  })

  it('invalid documents and arguments: HTTP 200 with errors, like async-graphql', {timeout: 20_000}, async () => {
    const syntax = await postRaw(demo.url, JSON.stringify({query: '{ components { nodes { componentId }'}))
    assert.equal(syntax.status, 200)
    assert.equal(syntax.json.data, null)
    assert.match(syntax.json.errors[0].message, /Syntax Error/)
    assert.ok(Array.isArray(syntax.json.errors[0].locations))

    const unknownField = await postRaw(demo.url, JSON.stringify({query: '{ components { nodes { utilization } } }'}))
    assert.equal(unknownField.status, 200)
    assert.equal(unknownField.json.data, null)
    assert.match(unknownField.json.errors[0].message, /utilization/)

    // Valid for Vector's schema, rejected at run time by the connection arguments.
    const both = '{ components(first: 1, last: 1) { totalCount } }'
    await assertValidForVector(both)
    const firstAndLast = await postRaw(demo.url, JSON.stringify({query: both}))
    assert.equal(firstAndLast.status, 200)
    assert.equal(firstAndLast.json.data, null)
    assert.deepEqual(firstAndLast.json.errors[0].path, ['components'])
    assert.match(firstAndLast.json.errors[0].message, /"first" and "last"/)

    const cursor = '{ components(first: 1, after: "!!") { totalCount } }'
    await assertValidForVector(cursor)
    const badCursor = await postRaw(demo.url, JSON.stringify({query: cursor}))
    assert.equal(badCursor.status, 200)
    assert.match(badCursor.json.errors[0].message, /Invalid cursor/)

    const missingVar = await postRaw(demo.url, JSON.stringify({query: 'query Q($id: String!) { componentByComponentKey(componentId: $id) { componentId } }'}))
    assert.equal(missingVar.status, 200)
    assert.match(missingVar.json.errors[0].message, /\$id/)
  })

  it('a body that is not a GraphQL request is a 400 with a JSON error; GET with ?query= works', {timeout: 20_000}, async () => {
    const notJson = await postRaw(demo.url, '{not json')
    assert.equal(notJson.status, 400)
    assert.ok(notJson.json.errors[0].message)
    const noQuery = await postRaw(demo.url, JSON.stringify({variables: {}}))
    assert.equal(noQuery.status, 400)

    const res = await fetch(`${demo.url}?query=${encodeURIComponent('{ health }')}`, {signal: AbortSignal.timeout(10_000)})
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), {data: {health: true}})
  })

  it('counters are read per request', {timeout: 20_000}, async () => {
    const before = demo.pipeline.calls
    await query(demo.url, '{ components(first: 1) { totalCount } }')
    await query(demo.url, '{ meta { versionString } }')
    assert.equal(demo.pipeline.calls, before + 1, 'one reading for a components query, none for meta')
  })
})
