/**
 * The demo's HTTP/1.1 side on the shared admin port: /health, every 400 case
 * of POST /tracing, 404/405, bearer-token auth, --no-tracing, the gRPC-style
 * answer to unknown paths, and the GraphQL variant's routing.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {spawnDemo, type SpawnedDemo} from '../../src/demo/spawn.js'
import {call, openWindow, status, waitEnded} from './helpers/demo-client.js'
import {TraceIntake} from './helpers/trace-intake.js'

const MAX_WINDOW_SECS = 30

describe('demo admin HTTP: /health and /tracing errors', {timeout: 120_000}, () => {
  let demo: SpawnedDemo
  let intake: TraceIntake

  before(async () => {
    demo = await spawnDemo({extraArgs: ['--max-window', String(MAX_WINDOW_SECS)]})
    intake = await new TraceIntake().start()
  })
  after(async () => {
    await intake?.close()
    assert.equal(await demo?.stop(), 0, demo?.stderr())
  })

  it('GET /health answers {"ok":true}', async () => {
    const reply = await call(`${demo.api}/health`)
    assert.equal(reply.status, 200)
    assert.deepEqual(reply.json, {ok: true})
    assert.match(reply.headers.get('content-type') ?? '', /application\/json/)
  })

  it('an unknown path gets what a gRPC server answers HTTP/1.1 (200, application/grpc, grpc-status 12)', async () => {
    const reply = await call(`${demo.api}/graphql`, {method: 'POST', body: '{"query":"{ health }"}'})
    assert.equal(reply.status, 200)
    assert.equal(reply.headers.get('content-type'), 'application/grpc')
    assert.equal(reply.headers.get('grpc-status'), '12')
  })

  it('reports max_duration_secs from --max-window', async () => {
    assert.equal((await status(demo.api)).max_duration_secs, MAX_WINDOW_SECS)
  })

  const badBodies: [string, string][] = [
    ['malformed JSON', '{"duration_secs": 1,'],
    ['a JSON array', '[]'],
    ['a JSON string', '"open"'],
    ['missing duration_secs', JSON.stringify({endpoint: 'http://127.0.0.1:9'})],
    ['duration_secs 0', JSON.stringify({duration_secs: 0, endpoint: 'http://127.0.0.1:9'})],
    ['negative duration_secs', JSON.stringify({duration_secs: -1, endpoint: 'http://127.0.0.1:9'})],
    ['duration_secs above max', JSON.stringify({duration_secs: MAX_WINDOW_SECS + 0.5, endpoint: 'http://127.0.0.1:9'})],
    ['duration_secs as a string', JSON.stringify({duration_secs: '5', endpoint: 'http://127.0.0.1:9'})],
    ['missing endpoint', JSON.stringify({duration_secs: 1})],
    ['endpoint not a URL', JSON.stringify({duration_secs: 1, endpoint: 'localhost:8126'})],
    ['ftp endpoint', JSON.stringify({duration_secs: 1, endpoint: 'ftp://127.0.0.1:21'})],
    ['unix endpoint', JSON.stringify({duration_secs: 1, endpoint: 'unix:///var/run/datadog/apm.socket'})],
    ['endpoint with a path', JSON.stringify({duration_secs: 1, endpoint: 'http://127.0.0.1:8126/v0.4/traces'})],
    ['unknown level', JSON.stringify({duration_secs: 1, endpoint: 'http://127.0.0.1:9', level: 'trace'})],
    ['unknown component id', JSON.stringify({duration_secs: 1, endpoint: 'http://127.0.0.1:9', components: ['app_logs', 'nope']})],
    ['empty components', JSON.stringify({duration_secs: 1, endpoint: 'http://127.0.0.1:9', components: []})],
    ['sample_rate 0', JSON.stringify({duration_secs: 1, endpoint: 'http://127.0.0.1:9', sample_rate: 0})],
    ['sample_rate above 1', JSON.stringify({duration_secs: 1, endpoint: 'http://127.0.0.1:9', sample_rate: 1.5})],
  ]
  for (const [name, body] of badBodies) {
    it(`POST /tracing with ${name} → 400 with an error message`, async () => {
      const reply = await call(`${demo.api}/tracing`, {method: 'POST', body})
      assert.equal(reply.status, 400, reply.text)
      assert.equal(typeof reply.json?.error, 'string')
      assert.ok(reply.json.error.length > 0)
    })
  }

  it('no window was opened by any bad request', async () => {
    assert.equal((await status(demo.api)).window, null)
  })

  it('DELETE /tracing without a window → 404', async () => {
    const reply = await call(`${demo.api}/tracing`, {method: 'DELETE'})
    assert.equal(reply.status, 404)
    assert.equal(typeof reply.json.error, 'string')
  })

  it('PUT /tracing → 405', async () => {
    const reply = await call(`${demo.api}/tracing`, {method: 'PUT', body: '{}'})
    assert.equal(reply.status, 405)
    assert.match(reply.headers.get('allow') ?? '', /POST/)
  })

  it('a fractional duration is accepted, and a new window may open once the previous one ended', async () => {
    const first = await openWindow(demo.api, {duration_secs: 0.3, endpoint: intake.url})
    assert.equal(first.status, 201, first.text)
    assert.equal(Date.parse(first.json.window.expires_at) - Date.parse(first.json.window.started_at), 300)
    await waitEnded(demo.api, first.json.window.id)
    const second = await openWindow(demo.api, {duration_secs: 0.3, endpoint: `${intake.url}/`})
    assert.equal(second.status, 201, second.text)
    assert.notEqual(second.json.window.id, first.json.window.id)
    assert.equal(second.json.window.endpoint, intake.url, 'endpoint normalised to its base URL')
    await waitEnded(demo.api, second.json.window.id)
  })
})

describe('demo admin HTTP with --token', {timeout: 60_000}, () => {
  it('every /tracing request needs the bearer token; /health does not', async () => {
    const demo = await spawnDemo({token: 's3cret'})
    try {
      for (const method of ['GET', 'POST', 'DELETE']) {
        const none = await call(`${demo.api}/tracing`, {method, body: method === 'POST' ? '{}' : undefined})
        assert.equal(none.status, 401, `${method} without token`)
        assert.equal(typeof none.json.error, 'string')
        const wrong = await call(`${demo.api}/tracing`, {method, headers: {authorization: 'Bearer s3cres'}})
        assert.equal(wrong.status, 401, `${method} with a wrong token`)
      }
      const ok = await call(`${demo.api}/tracing`, {headers: {authorization: 'Bearer s3cret'}})
      assert.equal(ok.status, 200)
      assert.equal(ok.json.supported, true)
      // With the token, validation applies as usual.
      const bad = await call(`${demo.api}/tracing`, {method: 'POST', body: '{}', headers: {authorization: 'Bearer s3cret'}})
      assert.equal(bad.status, 400)
      assert.equal((await call(`${demo.api}/health`)).status, 200)
    } finally {
      assert.equal(await demo.stop(), 0, demo.stderr())
    }
  })
})

describe('demo admin HTTP with --no-tracing', {timeout: 60_000}, () => {
  it('/tracing answers 404 to every method, like stock Vector', async () => {
    const demo = await spawnDemo({tracing: false})
    try {
      for (const method of ['GET', 'POST', 'DELETE']) {
        const reply = await call(`${demo.api}/tracing`, {method, body: method === 'POST' ? JSON.stringify({duration_secs: 1, endpoint: 'http://127.0.0.1:9'}) : undefined})
        assert.equal(reply.status, 404, method)
        assert.notEqual(reply.json?.supported, true)
      }
      assert.deepEqual((await call(`${demo.api}/health`)).json, {ok: true})
    } finally {
      assert.equal(await demo.stop(), 0, demo.stderr())
    }
  })
})

describe('demo admin HTTP with --api-protocol graphql', {timeout: 60_000}, () => {
  it('serves /health, /tracing and POST /graphql; unknown paths are 404', async () => {
    const demo = await spawnDemo({apiProtocol: 'graphql'})
    try {
      assert.deepEqual((await call(`${demo.api}/health`)).json, {ok: true})
      assert.equal((await status(demo.api)).supported, true)
      assert.equal((await call(`${demo.api}/nope`)).status, 404)
      const gql = await call(`${demo.api}/graphql`, {method: 'POST', body: JSON.stringify({query: '{ health }'})})
      assert.equal(gql.status, 200, gql.text)
      assert.deepEqual(gql.json.data, {health: true})
    } finally {
      assert.equal(await demo.stop(), 0, demo.stderr())
    }
  })
})
