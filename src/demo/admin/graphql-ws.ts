/**
 * GraphQL subscriptions over WebSocket on `/graphql` for the demo's Vector
 * <= 0.54 personality, speaking what async-graphql speaks for Vector: the
 * legacy `graphql-ws` protocol (subscriptions-transport-ws), chosen also when
 * the client names no subprotocol, and the newer `graphql-transport-ws`.
 * Serves `componentErrorsTotals` (one message per tick, an array over all
 * components) and answers queries once. graphql is imported on the first
 * operation, so attaching stays cheap.
 */
import type http from 'node:http'
import type {Duplex} from 'node:stream'
import type * as GraphQL from 'graphql'
import {WebSocketServer, WebSocket} from 'ws'
import type {DemoPipelineView} from '../types.js'
import {createRootValue} from './graphql-resolvers.js'
import {DEMO_GRAPHQL_SDL} from './graphql-sdl.js'

export const GRAPHQL_WS_PATH = '/graphql'
export const LEGACY_PROTOCOL = 'graphql-ws'
export const TRANSPORT_PROTOCOL = 'graphql-transport-ws'

/**
 * Vector's subscription types for component errors, exactly as in its 0.54
 * schema (argument default included), added to the demo's query subset.
 */
export const SUBSCRIPTION_SDL = /* GraphQL */ `
type Subscription {
  componentErrorsTotals(interval: Int! = 1000): [ComponentErrorsTotal!]!
}

type ComponentErrorsTotal {
  componentId: String!
  metric: ErrorsTotal!
}

type ErrorsTotal {
  timestamp: DateTime
  errorsTotal: Float!
}
`

/** Vector's bounds on every subscription `interval` (ms): faster would poll its metrics registry in a hot loop. */
export const MIN_INTERVAL_MS = 10
export const MAX_INTERVAL_MS = 60_000
/** Client messages are small JSON documents; same cap as a `POST /graphql` body. */
export const MAX_MESSAGE_BYTES = 256 * 1024
/** Bounds timers and memory per socket; `vector top` opens about ten. */
export const MAX_SUBSCRIPTIONS_PER_SOCKET = 100
/** A client that does not read: ticks are skipped once this much is queued, so its socket cannot grow our memory. */
export const MAX_BUFFERED_BYTES = 1024 * 1024

const TOO_MANY_INITS = 'Too many initialisation requests.'
const HANDSHAKE_NOT_COMPLETED = 'The handshake is not completed.'

type Protocol = 'legacy' | 'transport'

interface Loaded {
  gql: typeof GraphQL
  schema: GraphQL.GraphQLSchema
}

let loaded: Promise<Loaded> | undefined

function loadSchema(): Promise<Loaded> {
  loaded ??= import('graphql').then((gql) => ({gql, schema: gql.buildSchema(DEMO_GRAPHQL_SDL + SUBSCRIPTION_SDL)}))
  return loaded
}

/** The subprotocol async-graphql would pick: legacy first, none named = legacy; null when only unknown ones are offered. */
function chooseProtocol(header: string | undefined): Protocol | null {
  if (header === undefined || header.trim() === '') return 'legacy'
  const offered = header.split(',').map((p) => p.trim().toLowerCase())
  if (offered.includes(LEGACY_PROTOCOL)) return 'legacy'
  if (offered.includes(TRANSPORT_PROTOCOL)) return 'transport'
  return null
}

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.on('error', () => undefined)
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
  socket.destroy()
}

export function attachGraphqlWs(server: http.Server, pipeline: DemoPipelineView): {close(): void} {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
    handleProtocols: (offered) => (offered.has(LEGACY_PROTOCOL) ? LEGACY_PROTOCOL : offered.has(TRANSPORT_PROTOCOL) ? TRANSPORT_PROTOCOL : false),
  })
  const sessions = new Set<{end(): void}>()

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path !== GRAPHQL_WS_PATH) return refuseUpgrade(socket, 404, 'Not Found')
    const header = req.headers['sec-websocket-protocol']
    const protocol = chooseProtocol(Array.isArray(header) ? header.join(',') : header)
    if (protocol === null) return refuseUpgrade(socket, 400, 'Bad Request')
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = serveSocket(ws, protocol, pipeline)
      sessions.add(session)
      ws.once('close', () => sessions.delete(session))
    })
  }
  server.on('upgrade', onUpgrade)

  return {
    close() {
      server.off('upgrade', onUpgrade)
      for (const s of [...sessions]) s.end()
      sessions.clear()
      wss.close()
    },
  }
}

interface Subscription {
  stopped: boolean
  stop(): void
}

function serveSocket(ws: WebSocket, protocol: Protocol, pipeline: DemoPipelineView): {end(): void} {
  let initialised = false
  const subs = new Map<string, Subscription>()
  const dataType = protocol === 'legacy' ? 'data' : 'next'

  const send = (message: unknown) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message))
  }
  const stopAll = () => {
    for (const sub of subs.values()) sub.stop()
    subs.clear()
  }
  ws.on('error', () => ws.terminate())
  ws.on('close', stopAll)

  ws.on('message', (raw, isBinary) => {
    let msg: Record<string, unknown>
    try {
      const parsed: unknown = JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : Buffer.concat(raw as Buffer[]).toString('utf8'))
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || typeof (parsed as {type?: unknown}).type !== 'string') {
        throw new Error('expected a JSON object with a "type"')
      }
      msg = parsed as Record<string, unknown>
    } catch (err) {
      // async-graphql closes with 1002 on a message it cannot deserialise.
      ws.close(1002, `invalid message${isBinary ? ' (binary)' : ''}: ${(err as Error).message}`.slice(0, 120))
      return
    }
    switch (msg.type) {
      case 'connection_init':
        if (!initialised) {
          initialised = true
          send({type: 'connection_ack'})
        } else if (protocol === 'legacy') {
          send({type: 'connection_error', payload: {message: TOO_MANY_INITS}})
        } else {
          ws.close(4429, TOO_MANY_INITS)
        }
        return
      case 'start':
      case 'subscribe': {
        const {id, payload} = msg
        if (typeof id !== 'string' || typeof payload !== 'object' || payload === null || typeof (payload as {query?: unknown}).query !== 'string') {
          ws.close(1002, `invalid ${msg.type} message: needs a string "id" and a payload with a "query"`)
          return
        }
        if (!initialised) {
          ws.close(1011, HANDSHAKE_NOT_COMPLETED)
          return
        }
        subs.get(id)?.stop()
        subs.delete(id)
        if (subs.size >= MAX_SUBSCRIPTIONS_PER_SOCKET) {
          send({type: dataType, id, payload: {data: null, errors: [{message: `more than ${MAX_SUBSCRIPTIONS_PER_SOCKET} subscriptions on one socket`}]}})
          send({type: 'complete', id})
          return
        }
        const sub = runOperation(id, payload as OperationPayload, pipeline, {
          data: (result) => {
            // A client that stopped reading loses ticks instead of growing our memory.
            if (ws.bufferedAmount <= MAX_BUFFERED_BYTES) send({type: dataType, id, payload: result})
          },
          complete: () => {
            if (subs.get(id) === sub) subs.delete(id)
            send({type: 'complete', id})
          },
        })
        subs.set(id, sub)
        return
      }
      case 'stop':
      case 'complete': {
        const sub = typeof msg.id === 'string' ? subs.get(msg.id) : undefined
        if (sub !== undefined) {
          sub.stop()
          subs.delete(msg.id as string)
          send({type: 'complete', id: msg.id})
        }
        return
      }
      case 'connection_terminate':
        ws.close(1000)
        return
      case 'ping':
        send({type: 'pong'})
        return
      case 'pong':
        return
      default:
        ws.close(1002, `unknown message type "${String(msg.type)}"`.slice(0, 120))
    }
  })

  return {
    end() {
      stopAll()
      ws.terminate()
    },
  }
}

interface OperationPayload {
  query: string
  variables?: Record<string, unknown> | null
  operationName?: string | null
}

interface Reply {
  data: unknown
  errors?: unknown[]
}

/**
 * Runs one operation: a subscription until stopped, anything else once. Every
 * failure becomes a reply with `errors` followed by `complete`, as async-graphql
 * sends it, never an exception.
 */
function runOperation(id: string, payload: OperationPayload, pipeline: DemoPipelineView, out: {data(r: Reply): void; complete(): void}): Subscription {
  let iterator: AsyncIterator<unknown> | undefined
  const sub: Subscription = {
    stopped: false,
    stop() {
      sub.stopped = true
      void iterator?.return?.().catch(() => undefined)
    },
  }
  const fail = (message: string) => {
    out.data({data: null, errors: [{message}]})
    out.complete()
  }

  void (async () => {
    const {gql, schema} = await loadSchema()
    let document: GraphQL.DocumentNode
    try {
      document = gql.parse(payload.query)
    } catch (err) {
      return fail(err instanceof gql.GraphQLError ? err.message : String(err))
    }
    const invalid = gql.validate(schema, document)
    if (invalid.length > 0) {
      out.data({data: null, errors: invalid.map((e) => e.toJSON())})
      return out.complete()
    }
    const operation = gql.getOperationAST(document, payload.operationName ?? undefined)
    const args = {
      schema,
      document,
      rootValue: {...createRootValue(pipeline), componentErrorsTotals: (a: {interval: number}) => errorTicks(gql, a.interval, pipeline)},
      variableValues: payload.variables ?? undefined,
      operationName: payload.operationName ?? undefined,
    }
    if (operation?.operation !== 'subscription') {
      const result = await gql.execute(args)
      if (!sub.stopped) {
        out.data(toReply(result))
        out.complete()
      }
      return
    }
    const result = await gql.subscribe(args)
    if (!(Symbol.asyncIterator in result)) {
      if (!sub.stopped) {
        out.data(toReply(result))
        out.complete()
      }
      return
    }
    iterator = result[Symbol.asyncIterator]()
    if (sub.stopped) {
      await iterator.return?.()
      return
    }
    for (;;) {
      const step = await iterator.next()
      if (step.done || sub.stopped) break
      out.data(toReply(step.value as GraphQL.ExecutionResult))
    }
    // Stopped by the client: the stop handler has answered `complete` already.
    if (!sub.stopped) out.complete()
  })().catch((err: unknown) => {
    if (!sub.stopped) fail(`internal error: ${(err as Error)?.message ?? String(err)}`)
  })
  return sub
}

function toReply(result: GraphQL.ExecutionResult): Reply {
  const reply: Reply = {data: result.data ?? null}
  if (result.errors !== undefined && result.errors.length > 0) reply.errors = result.errors.map((e) => e.toJSON())
  return reply
}

/**
 * `componentErrorsTotals`' event stream: a reading of every component now and
 * every `intervalMs` after (tokio's interval fires at once), as the payload
 * graphql-js executes the selection against.
 */
function errorTicks(gql: typeof GraphQL, intervalMs: number, pipeline: DemoPipelineView): AsyncIterableIterator<unknown> {
  if (intervalMs < MIN_INTERVAL_MS) throw new gql.GraphQLError(`Invalid value for argument "interval", the value is ${intervalMs}, must be greater than or equal to ${MIN_INTERVAL_MS}`)
  if (intervalMs > MAX_INTERVAL_MS) throw new gql.GraphQLError(`Invalid value for argument "interval", the value is ${intervalMs}, must be less than or equal to ${MAX_INTERVAL_MS}`)
  let done = false
  let timer: NodeJS.Timeout | undefined
  let wake: (() => void) | undefined
  let nextAt = performance.now()
  const reading = () => {
    const timestamp = new Date().toISOString()
    const list = [...pipeline.components()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    return {componentErrorsTotals: list.map((c) => ({componentId: c.id, metric: {errorsTotal: c.counters.errors, timestamp}}))}
  }
  const finished = {done: true as const, value: undefined}
  const it: AsyncIterableIterator<unknown> = {
    [Symbol.asyncIterator]: () => it,
    next() {
      if (done) return Promise.resolve(finished)
      const wait = Math.max(0, nextAt - performance.now())
      // A late tick is not made up with a burst: the next one is a full interval later.
      nextAt = Math.max(nextAt, performance.now()) + intervalMs
      return new Promise((resolve) => {
        wake = () => resolve(finished)
        timer = setTimeout(() => {
          timer = undefined
          wake = undefined
          resolve(done ? finished : {done: false, value: reading()})
        }, wait)
      })
    },
    return() {
      done = true
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      wake?.()
      wake = undefined
      return Promise.resolve(finished)
    },
  }
  return it
}
