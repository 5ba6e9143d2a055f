/**
 * The demo's GraphQL subscriptions over WebSocket (attachGraphqlWs) on a real
 * node:http server, driven by a raw `ws` client so every protocol step is
 * visible: init/ack, start/data/stop/complete, the second-init error, start
 * before init, interval bounds, the newer graphql-transport-ws protocol.
 */
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {WebSocket} from 'ws'
import type {GraphQLArgument, GraphQLField, GraphQLNamedType} from 'graphql'
import {attachGraphqlWs, SUBSCRIPTION_SDL} from '../../src/demo/admin/graphql-ws.js'
import {COMPONENT_ERRORS_SUBSCRIPTION} from '../../src/attach/graphql-documents.js'
import {assertValidForVector, demoShape, fakePipeline, loadRealSchema, MISSING_SCHEMA_MESSAGE, type FakePipeline} from './helpers.js'

const T = {timeout: 30_000}
const STEP_MS = 5_000

const unhandled: unknown[] = []
process.on('unhandledRejection', (e) => unhandled.push(e))
after(() => assert.deepEqual(unhandled, [], 'no unhandled rejections'))

type Msg = Record<string, any>

/** A raw client that queues messages and lets a test wait for the next one (bounded). */
class RawClient {
  readonly messages: Msg[] = []
  private waiter: (() => void) | undefined
  readonly closed: Promise<{code: number; reason: string}>

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as Msg)
      this.waiter?.()
    })
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => {
      resolve({code, reason: reason.toString()})
      this.waiter?.()
    }))
    ws.on('error', () => undefined)
  }

  static open(url: string, protocols?: string | string[]): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const ws = protocols === undefined ? new WebSocket(url, {handshakeTimeout: STEP_MS}) : new WebSocket(url, protocols, {handshakeTimeout: STEP_MS})
      ws.once('open', () => resolve(new RawClient(ws)))
      ws.once('error', reject)
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    })
  }

  send(msg: Msg): void {
    this.ws.send(JSON.stringify(msg))
  }

  /** Waits until `match` finds a queued message (removing it and all before it); fails after STEP_MS. */
  async next(match: (m: Msg) => boolean = () => true, what = 'a message'): Promise<Msg> {
    const deadline = Date.now() + STEP_MS
    for (;;) {
      const i = this.messages.findIndex(match)
      if (i >= 0) return this.messages.splice(0, i + 1)[i]!
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`socket closed while waiting for ${what}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages)}`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.waiter = () => {
          clearTimeout(t)
          resolve()
        }
      })
    }
  }

  close(): void {
    this.ws.terminate()
  }
}

function subscribe(interval: number, id = 'e1'): Msg {
  return {id, type: 'start', payload: {query: COMPONENT_ERRORS_SUBSCRIPTION, variables: {interval}, operationName: 'VdiagComponentErrors'}}
}

describe('demo GraphQL over WebSocket', () => {
  let server: http.Server
  let url: string
  let pipeline: FakePipeline
  let ws: {close(): void}
  const clients: RawClient[] = []
  const open = async (protocols?: string | string[]) => {
    const c = await RawClient.open(url, protocols)
    clients.push(c)
    return c
  }

  before(async () => {
    // `parse` gains one error per reading, so a growing total shows each tick reads the pipeline afresh.
    pipeline = fakePipeline(demoShape(), {advance: (c) => ({errors: c.id === 'parse' ? 1 : 0})})
    server = http.createServer((_req, res) => res.writeHead(404).end())
    ws = attachGraphqlWs(server, pipeline)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`
  })
  after(async () => {
    for (const c of clients) c.close()
    ws.close()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('legacy graphql-ws: ack, one data message per tick with every component, stop → complete, then silence', T, async () => {
    const c = await open('graphql-ws')
    assert.equal(c.ws.protocol, 'graphql-ws')
    c.send({type: 'connection_init', payload: {}})
    assert.deepEqual(await c.next(), {type: 'connection_ack'})
    c.send(subscribe(20))
    const totals: number[] = []
    for (let i = 0; i < 3; i++) {
      const m = await c.next((x) => x.type === 'data', 'data')
      assert.equal(m.id, 'e1')
      assert.equal(m.payload.errors, undefined)
      const list = m.payload.data.componentErrorsTotals as Msg[]
      assert.deepEqual(list.map((x) => x.componentId), ['in_files', 'out_http', 'parse'])
      for (const x of list) {
        assert.equal(typeof x.metric.errorsTotal, 'number')
        assert.ok(!Number.isNaN(Date.parse(x.metric.timestamp)))
      }
      totals.push(list.find((x) => x.componentId === 'parse')!.metric.errorsTotal)
    }
    assert.ok(totals[0]! < totals[1]! && totals[1]! < totals[2]!, `errors grow tick by tick: ${totals}`)
    c.send({id: 'e1', type: 'stop'})
    await c.next((x) => x.type === 'complete' && x.id === 'e1', 'complete')
    // After complete no data for e1 may follow: a probe query on the same socket answers, and nothing from e1 precedes it.
    c.send({id: 'q', type: 'start', payload: {query: '{ health }'}})
    const reply = await c.next((x) => x.id === 'q', 'query reply')
    assert.deepEqual(reply, {id: 'q', type: 'data', payload: {data: {health: true}}})
    assert.equal(c.messages.filter((m) => m.id === 'e1').length, 0)
  })

  it('no subprotocol header means the legacy protocol', T, async () => {
    const c = await open()
    assert.equal(c.ws.protocol, '')
    c.send({type: 'connection_init'})
    assert.equal((await c.next()).type, 'connection_ack')
    c.send(subscribe(10))
    const m = await c.next((x) => x.type === 'data', 'data')
    assert.equal(m.payload.data.componentErrorsTotals.length, 3)
    c.send({id: 'e1', type: 'stop'})
    await c.next((x) => x.type === 'complete', 'complete')
  })

  it('a second connection_init gets connection_error "Too many initialisation requests." and the socket stays usable', T, async () => {
    const c = await open('graphql-ws')
    c.send({type: 'connection_init'})
    await c.next((x) => x.type === 'connection_ack', 'ack')
    c.send({type: 'connection_init'})
    assert.deepEqual(await c.next(), {type: 'connection_error', payload: {message: 'Too many initialisation requests.'}})
    c.send({id: 'q', type: 'start', payload: {query: '{ meta { versionString } }'}})
    const reply = await c.next((x) => x.id === 'q', 'query reply')
    assert.equal(reply.payload.data.meta.versionString, pipeline.versionString())
  })

  it('start before connection_init closes the socket with 1011', T, async () => {
    const c = await open('graphql-ws')
    c.send(subscribe(100))
    const {code, reason} = await c.closed
    assert.equal(code, 1011)
    assert.equal(reason, 'The handshake is not completed.')
  })

  it('interval bounds 10..60000: outside them one data message with errors, then complete', T, async () => {
    const c = await open('graphql-ws')
    c.send({type: 'connection_init'})
    await c.next((x) => x.type === 'connection_ack', 'ack')
    for (const [interval, words] of [[9, 'greater than or equal to 10'], [60_001, 'less than or equal to 60000']] as const) {
      c.send(subscribe(interval, `bad${interval}`))
      const m = await c.next((x) => x.id === `bad${interval}`, 'error data')
      assert.equal(m.type, 'data')
      assert.equal(m.payload.data, null)
      assert.match(m.payload.errors[0].message, new RegExp(words))
      assert.deepEqual(await c.next(), {type: 'complete', id: `bad${interval}`})
    }
    // An invalid document is answered the same way, with graphql's validation message.
    c.send({id: 'v', type: 'start', payload: {query: 'subscription { componentErrorsTotals { componentKind } }'}})
    const invalid = await c.next((x) => x.id === 'v', 'validation error')
    assert.match(invalid.payload.errors[0].message, /componentKind/)
  })

  it('graphql-transport-ws: next messages, and a second init closes with 4429', T, async () => {
    const c = await open('graphql-transport-ws')
    assert.equal(c.ws.protocol, 'graphql-transport-ws')
    c.send({type: 'connection_init'})
    await c.next((x) => x.type === 'connection_ack', 'ack')
    c.send({...subscribe(10), type: 'subscribe'})
    const m = await c.next((x) => x.type === 'next', 'next')
    assert.equal(m.payload.data.componentErrorsTotals.length, 3)
    c.send({id: 'e1', type: 'complete'})
    await c.next((x) => x.type === 'complete', 'complete')
    c.send({type: 'connection_init'})
    assert.equal((await c.closed).code, 4429)
  })

  it('refuses other paths and unknown subprotocols; malformed messages close with 1002', T, async () => {
    await assert.rejects(RawClient.open(url.replace('/graphql', '/other'), 'graphql-ws'), /HTTP 404/)
    await assert.rejects(RawClient.open(url, 'mqtt'), /HTTP 400/)
    const c = await open('graphql-ws')
    c.ws.send('{not json')
    assert.equal((await c.closed).code, 1002)
  })

  it('close() ends every open socket', T, async () => {
    const extraServer = http.createServer()
    const extra = attachGraphqlWs(extraServer, pipeline)
    await new Promise<void>((resolve) => extraServer.listen(0, '127.0.0.1', resolve))
    try {
      const c = await RawClient.open(`ws://127.0.0.1:${(extraServer.address() as AddressInfo).port}/graphql`, 'graphql-ws')
      clients.push(c)
      c.send({type: 'connection_init'})
      await c.next((x) => x.type === 'connection_ack', 'ack')
      c.send(subscribe(10))
      await c.next((x) => x.type === 'data', 'data')
      extra.close()
      const {code} = await c.closed
      assert.equal(code, 1006, 'terminated, not a clean close')
    } finally {
      extraServer.closeAllConnections()
      await new Promise<void>((resolve) => extraServer.close(() => resolve()))
    }
  })
})

describe('the subscription parts against Vector 0.54', () => {
  it("vdiag's subscription document is valid for Vector", T, async () => {
    await assertValidForVector(COMPONENT_ERRORS_SUBSCRIPTION)
  })

  it("SUBSCRIPTION_SDL's types, fields, arguments and defaults are Vector's", T, async (t) => {
    const real = await loadRealSchema()
    if (real === undefined) {
      t.skip(MISSING_SCHEMA_MESSAGE)
      return
    }
    const gql = await import('graphql')
    const mine = gql.buildSchema(`scalar DateTime\ntype Query { health: Boolean! }\n${SUBSCRIPTION_SDL}`)
    for (const name of ['Subscription', 'ComponentErrorsTotal', 'ErrorsTotal']) {
      const type = mine.getType(name)
      const other: GraphQLNamedType | undefined | null = real.getType(name)
      assert.ok(gql.isObjectType(type) && gql.isObjectType(other), `${name} is an object type in both`)
      for (const field of Object.values(type.getFields())) {
        const realField: GraphQLField<unknown, unknown> | undefined = other.getFields()[field.name]
        assert.ok(realField, `${name}.${field.name} exists in Vector's schema`)
        assert.equal(String(field.type), String(realField.type), `${name}.${field.name} type`)
        for (const arg of field.args) {
          const realArg: GraphQLArgument | undefined = realField.args.find((a) => a.name === arg.name)
          assert.ok(realArg, `${name}.${field.name}(${arg.name}) exists`)
          assert.equal(String(arg.type), String(realArg.type))
          assert.deepEqual(arg.defaultValue, realArg.defaultValue)
        }
      }
    }
  })
})
