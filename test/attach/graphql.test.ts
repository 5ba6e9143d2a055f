import {after, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {GRAPHQL_DOCUMENTS, COMPONENTS_PAGE_SIZE} from '../../src/attach/graphql-documents.js'
import {GraphqlAdminClient} from '../../src/attach/graphql-client.js'
import {isVdiagError, type VdiagError} from '../../src/errors.js'
import {fanPipeline, SCHEMA_PATH, sendJson, startGraphqlFake, startHttp, failure} from './fake-admin.js'

const unhandled: unknown[] = []
process.on('unhandledRejection', (e) => unhandled.push(e))
after(() => assert.deepEqual(unhandled, [], 'no unhandled rejections'))

const T = {timeout: 60_000}
const TOKEN = 'gql-token-0a1b2c3d'


describe('GraphQL documents', () => {
  test('every document validates against Vector v0.54 schema', T, async () => {
    const {buildClientSchema, parse, validate} = await import('graphql')
    const intro = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8'))
    const schema = buildClientSchema(intro.data)
    const names = Object.keys(GRAPHQL_DOCUMENTS)
    assert.ok(names.length >= 3)
    for (const [name, source] of Object.entries(GRAPHQL_DOCUMENTS)) {
      const doc = parse(source)
      const errors = validate(schema, doc)
      assert.deepEqual(errors.map((e) => e.message), [], `${name} must validate`)
      // The key is the operation name the client sends as operationName.
      const ops = doc.definitions.filter((d) => d.kind === 'OperationDefinition')
      assert.equal(ops.length, 1, `${name} has exactly one operation`)
      assert.equal((ops[0] as {name?: {value: string}}).name?.value, name)
    }
  })

  test('the validation catches a wrong field (the check can fail)', T, async () => {
    const {buildClientSchema, parse, validate} = await import('graphql')
    const schema = buildClientSchema(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')).data)
    // `componentKind` does not exist; kind is __typename in Vector's schema.
    const errors = validate(schema, parse('query X { components(first: 5) { nodes { componentId componentKind } } }'))
    assert.ok(errors.length > 0)
  })
})

describe('GraphqlAdminClient against a graphql-js server on the v0.54 schema', () => {
  test('meta, components with kinds/plugins/outputs/edges, paged across more than one page', T, async () => {
    const n = COMPONENTS_PAGE_SIZE + 40 // more than one page, and far more than the default 10
    const pipeline = fanPipeline(n)
    const fake = await startGraphqlFake({components: pipeline})
    try {
      const client = new GraphqlAdminClient({url: fake.url, token: TOKEN})
      const meta = await client.getMeta()
      assert.equal(meta.versionString, '0.54.0 (x86_64-unknown-linux-gnu 2b8b875 2026-03-01)')
      assert.equal(meta.hostname, 'fake-host')

      const before = fake.requests.length
      const {components, edges, skipped} = await client.getComponents()
      assert.deepEqual(skipped, [])
      assert.equal(components.length, n + 2)
      assert.equal(fake.requests.length - before, 2, 'two pages')
      for (const r of fake.requests.slice(before)) {
        assert.equal(r.variables?.first, COMPONENTS_PAGE_SIZE, 'first is always sent (the default is 10)')
        assert.equal(r.operationName, 'VdiagComponents')
      }
      assert.equal(fake.requests[before + 1].variables?.after !== null, true, 'the second page continues after the first')
      assert.deepEqual(components.map((c) => c.id), pipeline.map((c) => c.id))
      const byId = Object.fromEntries(components.map((c) => [c.id, c]))
      assert.deepEqual(byId.in, {id: 'in', kind: 'source', type: 'file', outputs: ['_default']})
      assert.deepEqual(byId.t005, {id: 't005', kind: 'transform', type: 'remap', outputs: ['_default']})
      assert.deepEqual(byId.out, {id: 'out', kind: 'sink', type: 'http', outputs: []})
      // in -> every transform -> out, each edge once although both ends report it.
      assert.equal(edges.length, 2 * n)
      assert.ok(edges.some((e) => e.from === 'in' && e.to === 't000'))
      assert.ok(edges.some((e) => e.from === `t${String(n - 1).padStart(3, '0')}` && e.to === 'out'))
      assert.ok(!edges.some((e) => e.from === 'in' && e.to === 'out'))

      const counters = await client.snapshot()
      assert.equal(Object.keys(counters).length, n + 2)
      assert.deepEqual(counters.in, {received_events: 1, sent_events: 2, received_bytes: 3})
      assert.deepEqual(counters.t000, {received_events: 11, sent_events: 12})
      assert.deepEqual(counters.out, {received_events: 10 * (n + 1) + 1, sent_events: 10 * (n + 1) + 2, sent_bytes: 10 * (n + 1) + 4})
      assert.ok(fake.requests.every((r) => r.authorization === `Bearer ${TOKEN}`))
    } finally {
      await fake.close()
    }
  })

  test('12 components (just over the default 10) all arrive', T, async () => {
    const fake = await startGraphqlFake({components: fanPipeline(10)})
    try {
      const {components} = await new GraphqlAdminClient({url: fake.url}).getComponents()
      assert.equal(components.length, 12)
    } finally {
      await fake.close()
    }
  })

  test('HTTP 200 with errors -> api_bad_reply quoting the GraphQL error, token redacted', T, async () => {
    const s = await startHttp((_req, res) => sendJson(res, 200, {data: null, errors: [{message: `Unknown field "x" for ${TOKEN}`}]}))
    try {
      const e = await failure(new GraphqlAdminClient({url: s.url, token: TOKEN}).getMeta())
      assert.equal(e.code, 'api_bad_reply')
      assert.match(e.message, /GraphQL errors: Unknown field "x"/)
      assert.ok(!JSON.stringify(e.toJSON()).includes(TOKEN))
    } finally {
      await s.close()
    }
  })

  test('wrong types in data -> api_bad_reply', T, async () => {
    const s = await startHttp((_req, res) => sendJson(res, 200, {data: {meta: {versionString: 54}}}))
    try {
      const e = await failure(new GraphqlAdminClient({url: s.url}).getMeta())
      assert.equal(e.code, 'api_bad_reply')
      assert.match(e.message, /versionString/)
    } finally {
      await s.close()
    }
  })

  test('a server that always says hasNextPage with the same cursor is stopped', T, async () => {
    const page = {data: {components: {pageInfo: {hasNextPage: true, endCursor: 'same'}, nodes: [{__typename: 'Source', componentId: 'a', componentType: 'file'}]}}}
    const s = await startHttp((_req, res) => sendJson(res, 200, page))
    try {
      const e = await failure(new GraphqlAdminClient({url: s.url}).getComponents())
      assert.equal(e.code, 'api_bad_reply')
      assert.match(e.message, /no new page cursor/)
    } finally {
      await s.close()
    }
  })

  test('404 on /graphql -> api_bad_reply mentioning api.graphql: false', T, async () => {
    const s = await startHttp((_req, res) => sendJson(res, 404, {}))
    try {
      const e = await failure(new GraphqlAdminClient({url: s.url}).getMeta())
      assert.match(e.message, /api\.graphql: false/)
    } finally {
      await s.close()
    }
  })
})
