/**
 * streamErrors against real servers on loopback: the demo's gRPC
 * ObservabilityService on a grpc-js server, and the demo's GraphQL WebSocket
 * (attachGraphqlWs) on a node:http server, each over a fake pipeline whose
 * error counter grows. Also the ways a stream can go wrong: nothing
 * listening, no handshake, no connection_ack, connection_error, HTTP 404, an
 * unimplemented service, the window ending early.
 */
import {after, before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import type {AddressInfo} from 'node:net'
import type * as grpc from '@grpc/grpc-js'
import {WebSocketServer} from 'ws'
import {streamErrors, type ErrorsSample, type ErrorsStreamResult, type StreamErrorsOptions} from '../../src/attach/errors-stream.js'
import {addObservabilityService, type ObservabilityStreams} from '../../src/demo/admin/grpc-service.js'
import {attachGraphqlWs} from '../../src/demo/admin/graphql-ws.js'
import {loadObservability} from '../../src/protocol/observability.js'
import {demoShape, fakePipeline, waitFor, type FakePipeline} from '../demo-admin/helpers.js'
import {closedPort} from './fake-admin.js'

const unhandled: unknown[] = []
process.on('unhandledRejection', (e) => unhandled.push(e))
after(() => assert.deepEqual(unhandled, [], 'no unhandled rejections'))

const T = {timeout: 60_000}
const IDS = ['in_files', 'out_http', 'parse']

/** A pipeline whose `parse` gains one error per reading. */
function growingErrors(): FakePipeline {
  return fakePipeline(demoShape(), {advance: (c) => ({errors: c.id === 'parse' ? 1 : 0})})
}

/**
 * Runs streamErrors until `enough` samples arrived (or `stopAfterMs`), then
 * aborts the window. Bounded: the window is aborted after 20 s whatever happens.
 */
async function runWindow(
  source: Parameters<typeof streamErrors>[0],
  opts: Partial<StreamErrorsOptions> & {enough?: number; stopAfterMs?: number},
): Promise<{result: ErrorsStreamResult; samples: ErrorsSample[]; afterEnd: ErrorsSample[]}> {
  const ac = new AbortController()
  const samples: ErrorsSample[] = []
  let ended = false
  const afterEnd: ErrorsSample[] = []
  const safety = setTimeout(() => ac.abort(), 20_000)
  if (opts.stopAfterMs !== undefined) setTimeout(() => ac.abort(), opts.stopAfterMs)
  const result = await streamErrors(source, {
    intervalMs: opts.intervalMs ?? 100,
    signal: opts.signal ?? ac.signal,
    timeoutMs: opts.timeoutMs,
    onSample: (s) => {
      if (ended) afterEnd.push(s)
      samples.push(s)
      if (opts.enough !== undefined && samples.length >= opts.enough) ac.abort()
    },
  })
  ended = true
  clearTimeout(safety)
  return {result, samples, afterEnd}
}

function assertGrowing(samples: ErrorsSample[]): void {
  for (const s of samples) {
    assert.deepEqual(Object.keys(s.components).sort(), IDS)
    assert.ok(!Number.isNaN(Date.parse(s.at)))
  }
  const parse = samples.map((s) => s.components.parse!)
  for (let i = 1; i < parse.length; i++) assert.ok(parse[i]! > parse[i - 1]!, `parse errors grow: ${parse}`)
  assert.equal(samples.at(-1)!.components.in_files, 0)
}

describe('errors over gRPC StreamComponentMetrics (real grpc-js server)', () => {
  let g: typeof grpc
  let server: grpc.Server
  let streams: ObservabilityStreams
  let pipeline: FakePipeline
  let url: string

  before(async () => {
    g = (await loadObservability()).grpc
    pipeline = growingErrors()
    server = new g.Server()
    streams = await addObservabilityService(server, pipeline)
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', g.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    )
    url = `http://127.0.0.1:${port}`
  })
  after(() => server.forceShutdown())

  test('one sample per tick with every component, until the window ends; then the call is gone', T, async () => {
    const {result, samples, afterEnd} = await runWindow({target: {url}, generation: 'grpc'}, {intervalMs: 100, enough: 4})
    assert.equal(result.status, 'ok', result.error)
    assert.equal(result.transport, 'grpc')
    assert.equal(result.samples, samples.length)
    assert.ok(samples.length >= 4)
    assertGrowing(samples)
    // Bounded to the window: the server sees the call cancelled and stops its timer.
    await waitFor(() => streams.activeStreams() === 0, 10_000, 'the server stream to end')
    assert.deepEqual(afterEnd, [])
  })

  test('an interval under gRPC’s 100 ms minimum is raised to it instead of being refused', T, async () => {
    const {result} = await runWindow({target: {url}, generation: 'grpc'}, {intervalMs: 10, enough: 1})
    assert.equal(result.status, 'ok', result.error)
    assert.equal(result.interval_ms, 100)
  })

  test('a gRPC server without the service: failed, UNIMPLEMENTED', T, async () => {
    const bare = new g.Server()
    const port = await new Promise<number>((resolve, reject) =>
      bare.bindAsync('127.0.0.1:0', g.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    )
    try {
      const {result} = await runWindow({target: {url: `http://127.0.0.1:${port}`}, generation: 'grpc'}, {})
      assert.equal(result.status, 'failed')
      assert.match(result.error!, /UNIMPLEMENTED/)
    } finally {
      bare.forceShutdown()
    }
  })

  test('nothing listening: a timeout within the connect deadline', T, async () => {
    const port = await closedPort()
    const {result} = await runWindow({target: {url: `http://127.0.0.1:${port}`}, generation: 'grpc'}, {timeoutMs: 500})
    assert.equal(result.status, 'timeout')
    assert.match(result.error!, /could not connect within 500 ms/)
  })

  test('a window that has already ended: canceled, nothing sent', T, async () => {
    const ac = new AbortController()
    ac.abort()
    const {result, samples} = await runWindow({target: {url}, generation: 'grpc'}, {signal: ac.signal})
    assert.equal(result.status, 'canceled')
    assert.equal(samples.length, 0)
  })

  test('the server ending the stream early gives partial with what arrived', T, async () => {
    const ac = new AbortController()
    const safety = setTimeout(() => ac.abort(), 20_000)
    let samples = 0
    const result = await streamErrors({target: {url}, generation: 'grpc'}, {
      intervalMs: 100,
      signal: ac.signal,
      onSample: () => {
        // The server shuts its streams once one tick has arrived, long before the window ends.
        if (samples++ === 0) setImmediate(() => streams.endStreams())
      },
    })
    clearTimeout(safety)
    assert.equal(result.status, 'partial', result.error)
    assert.ok(result.samples >= 1)
    assert.match(result.error!, /the server ended gRPC StreamComponentMetrics on http:\/\/127\.0\.0\.1:\d+ before the window ended/)
  })

  test('a sample callback that throws ends the stream with the reason', T, async () => {
    const ac = new AbortController()
    const safety = setTimeout(() => ac.abort(), 20_000)
    const result = await streamErrors({target: {url}, generation: 'grpc'}, {
      intervalMs: 100,
      signal: ac.signal,
      onSample: () => {
        throw new Error('disk full')
      },
    })
    clearTimeout(safety)
    assert.equal(result.status, 'failed')
    assert.match(result.error!, /recording a sample failed: disk full/)
  })
})

describe('errors over the GraphQL subscription (legacy graphql-ws over WebSocket)', () => {
  let server: http.Server
  let ws: {close(): void}
  let pipeline: FakePipeline
  let url: string

  before(async () => {
    pipeline = growingErrors()
    server = http.createServer((_req, res) => res.writeHead(404).end())
    ws = attachGraphqlWs(server, pipeline)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(async () => {
    ws.close()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  test('one sample per tick with every component; the subscription stops with the window', T, async () => {
    const {result, samples, afterEnd} = await runWindow({target: {url}, generation: 'graphql'}, {intervalMs: 50, enough: 4})
    assert.equal(result.status, 'ok', result.error)
    assert.equal(result.transport, 'graphql-ws')
    assert.equal(result.interval_ms, 50)
    assert.ok(samples.length >= 4)
    assertGrowing(samples)
    assert.deepEqual(afterEnd, [])
    // Bounded to the window: once stopped, the server reads the pipeline no more.
    let last = -1
    let stableSince = Date.now()
    await waitFor(
      () => {
        if (pipeline.calls !== last) {
          last = pipeline.calls
          stableSince = Date.now()
        }
        return Date.now() - stableSince > 500
      },
      10_000,
      'the server to stop ticking',
    )
  })

  test('an interval over 60 s is clamped to the maximum the API accepts', T, async () => {
    const {result} = await runWindow({target: {url}, generation: 'graphql'}, {intervalMs: 3_600_000, enough: 1})
    assert.equal(result.status, 'ok', result.error)
    assert.equal(result.interval_ms, 60_000)
  })
})

describe('GraphQL WebSocket failures', () => {
  const cleanups: (() => Promise<void> | void)[] = []
  after(async () => {
    for (const c of cleanups) await c()
  })
  /** A node:http server with a raw ws server that does what `onSocket` says. */
  async function wsServer(onSocket: (socket: import('ws').WebSocket) => void): Promise<string> {
    const srv = http.createServer((_req, res) => res.writeHead(404).end())
    const wss = new WebSocketServer({server: srv})
    wss.on('connection', onSocket)
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const c of wss.clients) c.terminate()
          wss.close()
          srv.closeAllConnections()
          srv.close(() => resolve())
        }),
    )
    return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`
  }

  test('a server that never acks: timeout after the deadline, the socket closed', T, async () => {
    let closed = false
    const base = await wsServer((s) => s.on('close', () => (closed = true)))
    const {result} = await runWindow({target: {url: base}, generation: 'graphql'}, {timeoutMs: 300})
    assert.equal(result.status, 'timeout')
    assert.match(result.error!, /no connection_ack within 300 ms/)
    await waitFor(() => closed, 5_000, 'the client to close its socket')
  })

  test('connection_error from the server is reported with its message', T, async () => {
    const base = await wsServer((s) => s.on('message', () => s.send(JSON.stringify({type: 'connection_error', payload: {message: 'Too many initialisation requests.'}}))))
    const {result} = await runWindow({target: {url: base}, generation: 'graphql'}, {timeoutMs: 5_000})
    assert.equal(result.status, 'failed')
    assert.match(result.error!, /refused the connection: Too many initialisation requests\./)
  })

  test('GraphQL errors in a data message fail the stream with their text', T, async () => {
    const base = await wsServer((s) =>
      s.on('message', (raw) => {
        const m = JSON.parse(String(raw)) as {type: string; id?: string}
        if (m.type === 'connection_init') s.send(JSON.stringify({type: 'connection_ack'}))
        if (m.type === 'start') s.send(JSON.stringify({type: 'data', id: m.id, payload: {data: null, errors: [{message: 'Unknown field "componentErrorsTotals"'}]}}))
      }),
    )
    const {result} = await runWindow({target: {url: base}, generation: 'graphql'}, {timeoutMs: 5_000})
    assert.equal(result.status, 'failed')
    assert.match(result.error!, /returned errors: Unknown field "componentErrorsTotals"/)
  })

  test('no WebSocket at /graphql (HTTP 404) and nothing listening', T, async () => {
    const plain = http.createServer((_req, res) => res.writeHead(404).end())
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise<void>((resolve) => plain.close(() => resolve())))
    const {result} = await runWindow({target: {url: `http://127.0.0.1:${(plain.address() as AddressInfo).port}`}, generation: 'graphql'}, {timeoutMs: 5_000})
    assert.equal(result.status, 'failed')
    assert.match(result.error!, /HTTP 404/)
    const port = await closedPort()
    const refused = await runWindow({target: {url: `http://127.0.0.1:${port}`}, generation: 'graphql'}, {timeoutMs: 5_000})
    assert.equal(refused.result.status, 'failed')
    assert.match(refused.result.error!, /refused/)
  })

  test('a server that accepts TCP but never answers the handshake: timeout', T, async () => {
    const sockets: net.Socket[] = []
    const silent = net.createServer((s) => sockets.push(s.on('error', () => undefined)))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      silent.close(() => resolve())
    }))
    const {result} = await runWindow({target: {url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`}, generation: 'graphql'}, {timeoutMs: 300})
    assert.equal(result.status, 'timeout')
    assert.match(result.error!, /no WebSocket handshake within 300 ms/)
  })

  test('an unknown generation is skipped', T, async () => {
    const {result} = await runWindow({target: {url: 'http://127.0.0.1:1'}, generation: 'unknown'}, {})
    assert.equal(result.status, 'skipped')
  })
})
