/**
 * In-test admin API servers on 127.0.0.1:0: a plain HTTP/1.1 server, a
 * GraphQL server that really executes queries against Vector's v0.54 schema
 * (graphql-js), and a Vector >= 0.55 lookalike serving gRPC (h2c) and HTTP/1.1
 * on one port, built from the project's own .proto.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import {readFileSync} from 'node:fs'
import type {AddressInfo} from 'node:net'
import type * as grpcTypes from '@grpc/grpc-js'
import {isVdiagError, type VdiagError} from '../../src/errors.js'
import {packageRoot} from '../../src/util/paths.js'
import {loadObservability} from '../../src/protocol/observability.js'

export const SCHEMA_PATH = path.resolve(packageRoot, '../shared/vector/graphql-schema-v0.54.json')

export interface Running {
  url: string
  port: number
  close(): Promise<void>
}

/** Tracks sockets so close() never waits on a hung or slow-drip connection. */
function trackSockets(server: net.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>()
  server.on('connection', (s: net.Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  return sockets
}

export async function startHttp(handler: http.RequestListener): Promise<Running & {server: http.Server}> {
  const server = http.createServer(handler)
  const sockets = trackSockets(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A port that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)})
  res.end(text)
}

export async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** What stock Vector >= 0.55 answers on unknown HTTP/1.1 paths (its gRPC router's fallback). */
export function sendGrpcUnimplemented(res: http.ServerResponse): void {
  res.writeHead(200, {'content-type': 'application/grpc', 'grpc-status': '12', 'content-length': 0})
  res.end()
}

// ---------- a pipeline description shared by the fakes ----------

export interface FakeComponent {
  id: string
  kind: 'source' | 'transform' | 'sink'
  type: string
  inputs: string[]
  outputs: string[]
  counters: {received_events: number; sent_events: number; received_bytes: number; sent_bytes: number}
}

/** A source `in`, `n` transforms `t000..` reading from it, and a sink `out` reading from all of them. */
export function fanPipeline(n: number): FakeComponent[] {
  const c = (i: number) => ({received_events: 10 * i + 1, sent_events: 10 * i + 2, received_bytes: 10 * i + 3, sent_bytes: 10 * i + 4})
  const transforms: FakeComponent[] = Array.from({length: n}, (_, i) => ({
    id: `t${String(i).padStart(3, '0')}`,
    kind: 'transform',
    type: 'remap',
    inputs: ['in'],
    outputs: ['_default'],
    counters: c(i + 1),
  }))
  return [
    {id: 'in', kind: 'source', type: 'file', inputs: [], outputs: ['_default'], counters: c(0)},
    ...transforms,
    {id: 'out', kind: 'sink', type: 'http', inputs: transforms.map((t) => t.id), outputs: [], counters: c(n + 1)},
  ].sort((a, b) => a.id.localeCompare(b.id)) as FakeComponent[]
}

// ---------- GraphQL (Vector <= 0.54) ----------

export interface GraphqlFakeOptions {
  components: FakeComponent[]
  versionString?: string
  hostname?: string | null
  /** Handles anything that is not POST /graphql (e.g. /health, /tracing); 404 otherwise. */
  other?: http.RequestListener
}

export interface GraphqlFake extends Running {
  /** Every request body received on /graphql, parsed. */
  requests: {query: string; variables?: Record<string, unknown>; operationName?: string; authorization?: string}[]
}

/** Default page size of Vector's `components` when `first` is omitted (src/api/schema/components/mod.rs). */
const VECTOR_DEFAULT_PAGE = 10

export async function startGraphqlFake(opts: GraphqlFakeOptions): Promise<GraphqlFake> {
  const {buildClientSchema, graphql} = await import('graphql')
  const intro = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as {data: Parameters<typeof buildClientSchema>[0]}
  const schema = buildClientSchema(intro.data)
  const byId = new Map(opts.components.map((c) => [c.id, c]))

  const node = (c: FakeComponent): Record<string, unknown> => {
    const typename = c.kind === 'source' ? 'Source' : c.kind === 'transform' ? 'Transform' : 'Sink'
    const downstream = (kind: FakeComponent['kind']) => () =>
      opts.components.filter((d) => d.kind === kind && d.inputs.includes(c.id)).map(node)
    const upstream = (kind: FakeComponent['kind']) => () =>
      c.inputs.map((i) => byId.get(i)).filter((u): u is FakeComponent => !!u && u.kind === kind).map(node)
    const m = c.counters
    const base = {__typename: typename, componentId: c.id, componentType: c.type}
    if (c.kind === 'source') {
      return {
        ...base,
        outputTypes: ['LOG'],
        outputs: c.outputs.map((o) => ({outputId: o, sentEventsTotal: null})),
        transforms: downstream('transform'),
        sinks: downstream('sink'),
        metrics: {
          __typename: 'GenericSourceMetrics',
          receivedEventsTotal: {receivedEventsTotal: m.received_events},
          receivedBytesTotal: {receivedBytesTotal: m.received_bytes},
          sentEventsTotal: {sentEventsTotal: m.sent_events},
        },
      }
    }
    if (c.kind === 'transform') {
      return {
        ...base,
        outputs: c.outputs.map((o) => ({outputId: o, sentEventsTotal: null})),
        sources: upstream('source'),
        transforms: downstream('transform'),
        sinks: downstream('sink'),
        metrics: {
          __typename: 'GenericTransformMetrics',
          receivedEventsTotal: {receivedEventsTotal: m.received_events},
          sentEventsTotal: {sentEventsTotal: m.sent_events},
        },
      }
    }
    return {
      ...base,
      sources: upstream('source'),
      transforms: upstream('transform'),
      metrics: {
        __typename: 'GenericSinkMetrics',
        receivedEventsTotal: {receivedEventsTotal: m.received_events},
        sentBytesTotal: {sentBytesTotal: m.sent_bytes},
        sentEventsTotal: {sentEventsTotal: m.sent_events},
      },
    }
  }

  const rootValue = {
    health: true,
    meta: {versionString: opts.versionString ?? '0.54.0 (x86_64-unknown-linux-gnu 2b8b875 2026-03-01)', hostname: opts.hostname === undefined ? 'fake-host' : opts.hostname},
    components: (args: {first?: number | null; after?: string | null}) => {
      const start = args.after ? Number(Buffer.from(args.after, 'base64').toString('utf8')) + 1 : 0
      const first = args.first ?? VECTOR_DEFAULT_PAGE
      const slice = opts.components.slice(start, start + first)
      const cursor = (i: number) => Buffer.from(String(i)).toString('base64')
      return {
        totalCount: opts.components.length,
        nodes: slice.map(node),
        edges: slice.map((c, i) => ({cursor: cursor(start + i), node: node(c)})),
        pageInfo: {
          hasPreviousPage: start > 0,
          hasNextPage: start + slice.length < opts.components.length,
          startCursor: slice.length ? cursor(start) : null,
          endCursor: slice.length ? cursor(start + slice.length - 1) : null,
        },
      }
    },
  }

  const requests: GraphqlFake['requests'] = []
  const running = await startHttp(async (req, res) => {
    if (req.url === '/graphql' && req.method === 'POST') {
      const body = JSON.parse(await readBody(req)) as GraphqlFake['requests'][number]
      requests.push({...body, authorization: req.headers.authorization})
      const result = await graphql({schema, source: body.query, variableValues: body.variables, operationName: body.operationName, rootValue})
      // GraphQL over HTTP in Vector: always 200, errors in the body.
      sendJson(res, 200, result)
      return
    }
    if (opts.other) return opts.other(req, res)
    sendJson(res, 404, {error: 'not found'})
  })
  return {...running, requests}
}

// ---------- gRPC (Vector >= 0.55) ----------

export interface GrpcFakeOptions {
  components: FakeComponent[]
  version?: string
  hostname?: string
  /** HTTP/1.1 requests on the same port; default: /health ok, everything else gRPC UNIMPLEMENTED like Vector. */
  http1?: http.RequestListener
  /** Delay before answering GetMeta (ms), to test deadlines. */
  metaDelayMs?: number
}

export interface GrpcFake extends Running {
  /** `authorization` metadata of every gRPC call, in order. */
  calls: {method: string; authorization: string | undefined; request: unknown}[]
}

const KIND_ENUM = {source: 'COMPONENT_TYPE_SOURCE', transform: 'COMPONENT_TYPE_TRANSFORM', sink: 'COMPONENT_TYPE_SINK'} as const

export async function startGrpcFake(opts: GrpcFakeOptions): Promise<GrpcFake> {
  const {grpc, Service} = await loadObservability()
  const calls: GrpcFake['calls'] = []
  const record = (method: string, call: grpcTypes.ServerUnaryCall<unknown, unknown>) => {
    const auth = call.metadata.get('authorization')[0]
    calls.push({method, authorization: auth === undefined ? undefined : String(auth), request: call.request})
  }
  const server = new grpc.Server()
  const timers = new Set<NodeJS.Timeout>()
  server.addService(Service.service, {
    GetMeta: (call: grpcTypes.ServerUnaryCall<unknown, unknown>, cb: grpcTypes.sendUnaryData<unknown>) => {
      record('GetMeta', call)
      const answer = () => cb(null, {version: opts.version ?? '0.55.0 (x86_64-unknown-linux-gnu cf8de83 2026-04-22)', hostname: opts.hostname ?? 'grpc-host'})
      if (opts.metaDelayMs) {
        const t = setTimeout(() => {
          timers.delete(t)
          answer()
        }, opts.metaDelayMs)
        timers.add(t)
      } else answer()
    },
    GetComponents: (call: grpcTypes.ServerUnaryCall<unknown, unknown>, cb: grpcTypes.sendUnaryData<unknown>) => {
      record('GetComponents', call)
      cb(null, {
        components: opts.components.map((c) => ({
          component_id: c.id,
          component_type: KIND_ENUM[c.kind],
          on_type: c.type,
          outputs: c.outputs.map((o) => ({output_id: o, sent_events_total: String(c.counters.sent_events)})),
          metrics: {
            received_events_total: String(c.counters.received_events),
            sent_events_total: String(c.counters.sent_events),
            received_bytes_total: String(c.counters.received_bytes),
            sent_bytes_total: String(c.counters.sent_bytes),
          },
        })),
      })
    },
  })
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure())
  const http1 = http.createServer(
    opts.http1 ??
      ((req, res) => {
        if (req.url === '/health') return sendJson(res, 200, {ok: true})
        sendGrpcUnimplemented(res)
      }),
  )
  const front = net.createServer((socket) => {
    // Peek without resuming: grpc-js's HTTP/2 session must read the preface itself.
    const onReadable = () => {
      const chunk = socket.read() as Buffer | null
      if (!chunk) return socket.once('readable', onReadable)
      socket.unshift(chunk)
      if (chunk.subarray(0, 3).toString('latin1') === 'PRI') injector.injectConnection(socket)
      else http1.emit('connection', socket)
    }
    socket.once('readable', onReadable)
  })
  const sockets = trackSockets(front)
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve))
  const port = (front.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    calls,
    close: async () => {
      for (const t of timers) clearTimeout(t)
      injector.destroy()
      server.forceShutdown()
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => front.close(() => resolve()))
    },
  }
}

/** Runs `fn` against a server answering with `handler`, closing it whatever happens. */
export async function withServer<R>(handler: http.RequestListener, fn: (s: Running) => Promise<R>): Promise<R> {
  const s = await startHttp(handler)
  try {
    return await fn(s)
  } finally {
    await s.close()
  }
}

/** The VdiagError a call must fail with; anything else fails the test. */
export async function failure(p: Promise<unknown>): Promise<VdiagError> {
  try {
    await p
  } catch (e) {
    assert.ok(isVdiagError(e), `expected a VdiagError, got ${String(e)}`)
    return e
  }
  assert.fail('expected the call to fail')
}
