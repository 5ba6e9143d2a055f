import {after, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {connectAdmin} from '../../src/attach/detect.js'
import {GrpcAdminClient} from '../../src/attach/grpc-client.js'
import {parseVersion} from '../../src/attach/version.js'
import {isVdiagError, type VdiagError} from '../../src/errors.js'
import {closedPort, fanPipeline, sendGrpcUnimplemented, sendJson, startGraphqlFake, startGrpcFake, startHttp, failure} from './fake-admin.js'

const unhandled: unknown[] = []
process.on('unhandledRejection', (e) => unhandled.push(e))
after(() => assert.deepEqual(unhandled, [], 'no unhandled rejections'))

const T = {timeout: 60_000}
const TOKEN = 'grpc-token-77aa88bb'


describe('parseVersion', () => {
  test('semver out of Vector version strings', () => {
    assert.equal(parseVersion('0.54.0 (x86_64-unknown-linux-gnu 2b8b875 2026-03-01)'), '0.54.0')
    assert.equal(parseVersion('0.55.0 (vdiag-demo x86_64-unknown-linux-gnu)'), '0.55.0')
    assert.equal(parseVersion('v0.56.1-nightly (aarch64)'), '0.56.1-nightly')
    assert.equal(parseVersion('custom build'), null)
    assert.equal(parseVersion(''), null)
  })
})

describe('GrpcAdminClient', () => {
  test('GetMeta and GetComponents(limit 0) with the bearer token as metadata', T, async () => {
    const pipeline = fanPipeline(3)
    const fake = await startGrpcFake({components: pipeline})
    const client = await GrpcAdminClient.open({url: fake.url, token: TOKEN})
    try {
      assert.deepEqual(await client.getMeta(), {versionString: '0.55.0 (x86_64-unknown-linux-gnu cf8de83 2026-04-22)', hostname: 'grpc-host'})
      const {components, counters, skipped} = await client.getComponents()
      assert.deepEqual(skipped, [])
      assert.deepEqual(components.map((c) => [c.id, c.kind, c.type]), pipeline.map((c) => [c.id, c.kind, c.type]))
      assert.deepEqual(components.find((c) => c.id === 'in')?.outputs, ['_default'])
      assert.deepEqual(counters.t001, {received_events: 21, sent_events: 22, received_bytes: 23, sent_bytes: 24})
      assert.deepEqual(fake.calls.map((c) => c.method), ['GetMeta', 'GetComponents'])
      assert.deepEqual((fake.calls[1].request as {limit: number}).limit, 0)
      assert.ok(fake.calls.every((c) => c.authorization === `Bearer ${TOKEN}`))
    } finally {
      client.close()
      await fake.close()
    }
  })

  test('a deadline bounds a server that does not answer', T, async () => {
    const fake = await startGrpcFake({components: [], metaDelayMs: 20_000})
    const client = await GrpcAdminClient.open({url: fake.url, token: TOKEN})
    try {
      const e = await failure(client.getMeta(300))
      assert.equal(e.code, 'api_unreachable')
      assert.match(e.message, /no answer within 300 ms/)
      assert.ok(!JSON.stringify(e.toJSON()).includes(TOKEN))
    } finally {
      client.close()
      await fake.close()
    }
  })
})

describe('connectAdmin', () => {
  test('gRPC (>= 0.55): detected first; facts without edges; snapshot', T, async () => {
    const pipeline = fanPipeline(2)
    const fake = await startGrpcFake({components: pipeline})
    const admin = await connectAdmin({url: fake.url, token: TOKEN})
    try {
      assert.equal(admin.generation, 'grpc')
      assert.match(admin.detection.join('\n'), /gRPC GetMeta .* answered version "0\.55\.0/)
      const facts = await admin.facts()
      assert.equal(facts.api.generation, 'grpc')
      assert.equal(facts.version, '0.55.0')
      assert.equal(facts.version_string, '0.55.0 (x86_64-unknown-linux-gnu cf8de83 2026-04-22)')
      assert.equal(facts.hostname, 'grpc-host')
      assert.equal(facts.edges, null)
      assert.equal(facts.edges_source, 'none')
      assert.equal(facts.components.length, 4)
      assert.match(facts.api.detection.join('\n'), /no topology edges/)
      const snap = await admin.snapshot()
      assert.deepEqual(snap.out, {received_events: 31, sent_events: 32, received_bytes: 33, sent_bytes: 34})
      // No HTTP/1.1 /graphql probe once gRPC answered.
      assert.ok(fake.calls.every((c) => c.authorization === `Bearer ${TOKEN}`))
    } finally {
      await admin.close()
      await fake.close()
    }
  })

  test('GraphQL (<= 0.54): gRPC fails on the HTTP/1.1-only server, GraphQL wins; facts with edges', T, async () => {
    const pipeline = fanPipeline(11)
    const fake = await startGraphqlFake({components: pipeline, other: (_req, res) => sendJson(res, 200, {ok: true})})
    const admin = await connectAdmin({url: fake.url, token: TOKEN})
    try {
      assert.equal(admin.generation, 'graphql')
      assert.equal(admin.detection.length, 2)
      assert.match(admin.detection[0], /gRPC GetMeta .* failed/)
      assert.match(admin.detection[1], /GraphQL meta query .* answered version "0\.54\.0 .*using the GraphQL API/)
      const facts = await admin.facts()
      assert.equal(facts.version, '0.54.0')
      assert.equal(facts.hostname, 'fake-host')
      assert.equal(facts.components.length, 13)
      assert.equal(facts.edges_source, 'graphql')
      assert.equal(facts.edges?.length, 22)
      const snap = await admin.snapshot()
      assert.equal(Object.keys(snap).length, 13)
      assert.ok(fake.requests.every((r) => r.authorization === `Bearer ${TOKEN}`))
    } finally {
      await admin.close()
      await fake.close()
    }
  })

  test('neither answers (HTTP/1.1 server with the gRPC fallback on /graphql) -> api_bad_reply explaining both', T, async () => {
    const s = await startHttp((req, res) => (req.url === '/health' ? sendJson(res, 200, {ok: true}) : sendGrpcUnimplemented(res)))
    try {
      const e = await failure(connectAdmin({url: s.url, token: TOKEN}))
      assert.equal(e.code, 'api_bad_reply')
      assert.match(e.message, /It tried gRPC GetMeta over HTTP\/2 \(Vector >= 0\.55\): the server does not speak HTTP\/2/)
      assert.match(e.message, /It then tried POST \/graphql \(Vector <= 0\.54\)/)
      assert.match(e.message, /gRPC reply/)
      assert.ok(Array.isArray(e.details?.detection))
      assert.ok(!JSON.stringify(e.toJSON()).includes(TOKEN))
    } finally {
      await s.close()
    }
  })

  test('nothing listening -> an error explaining both attempts, quickly and without a hang', T, async () => {
    const port = await closedPort()
    const e = await failure(connectAdmin({url: `http://127.0.0.1:${port}`}))
    assert.equal(e.code, 'api_bad_reply')
    assert.match(e.message, /refused/)
  })
})
