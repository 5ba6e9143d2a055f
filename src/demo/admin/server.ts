/**
 * The demo's admin API: one TCP port for gRPC (HTTP/2, plaintext) and
 * HTTP/1.1, the way Vector serves both on its api.address.
 *
 * Each connection's first bytes decide: the HTTP/2 client preface goes to
 * grpc-js through a connection injector, anything else to a node:http server.
 * The peeked bytes are put back with `unshift`, and the socket is never
 * resumed before the hand-over: node's HTTP/2 session drains the socket's
 * buffered bytes itself when it takes the socket, and a flowing socket would
 * emit them to nobody.
 */
import http from 'node:http'
import net from 'node:net'
import type * as grpc from '@grpc/grpc-js'
import type {DemoPipelineView, TracingController} from '../types.js'
import {TRACING_PATH} from '../../protocol/tracing-control.js'
import {formatHost} from '../prometheus.js'
import {createTracingRoute, sendJson} from './tracing-routes.js'

export type ApiProtocol = 'grpc' | 'graphql'
export const API_PROTOCOLS: readonly ApiProtocol[] = ['grpc', 'graphql']

const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
/** A client that connects and sends nothing is dropped after this long. */
const FIRST_BYTES_TIMEOUT_MS = 30_000
/** grpc-status UNIMPLEMENTED: what a gRPC server says about a path it does not serve. */
const GRPC_UNIMPLEMENTED = '12'

export interface AdminServerOptions {
  host: string
  port: number
  pipeline: DemoPipelineView
  apiProtocol: ApiProtocol
  /** Null with --no-tracing: /tracing answers 404 like stock Vector. */
  tracing: TracingController | null
  token?: string
  log(message: string): void
}

export interface AdminServer {
  /** Base URL, e.g. http://127.0.0.1:8686 */
  url: string
  port: number
  close(): Promise<void>
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void

interface GrpcSide {
  server: grpc.Server
  injector: grpc.ConnectionInjector
  endStreams(): void
}

async function startGrpc(pipeline: DemoPipelineView, log: (m: string) => void): Promise<GrpcSide | null> {
  try {
    const grpcMod = await import('@grpc/grpc-js')
    // Written alongside this server; loaded dynamically so the HTTP side works without it.
    const service = (await import('./grpc-service.js')) as {
      addObservabilityService(server: grpc.Server, pipeline: DemoPipelineView): Promise<{endStreams(): void} | void> | {endStreams(): void} | void
    }
    const server = new grpcMod.Server()
    const streams = await service.addObservabilityService(server, pipeline)
    const injector = server.createConnectionInjector(grpcMod.ServerCredentials.createInsecure())
    return {server, injector, endStreams: () => (streams ? streams.endStreams() : undefined)}
  } catch (err) {
    log(`admin: gRPC service unavailable: ${(err as Error).message}`)
    return null
  }
}

async function loadGraphqlHandler(pipeline: DemoPipelineView, log: (m: string) => void): Promise<Handler | null> {
  try {
    const mod = (await import('./graphql.js')) as {createGraphqlHandler(p: DemoPipelineView): Handler}
    return mod.createGraphqlHandler(pipeline)
  } catch (err) {
    log(`admin: GraphQL handler unavailable: ${(err as Error).message}`)
    return null
  }
}

/** What Vector >= 0.55 (tonic) most likely answers an HTTP/1.1 request for a path it does not serve. */
function grpcUnimplemented(req: http.IncomingMessage, res: http.ServerResponse): void {
  req.resume()
  res.writeHead(200, {'content-type': 'application/grpc', 'grpc-status': GRPC_UNIMPLEMENTED, 'grpc-message': 'unimplemented', 'content-length': 0})
  res.end()
}

function notFound(req: http.IncomingMessage, res: http.ServerResponse): void {
  req.resume()
  res.writeHead(404, {'content-type': 'text/plain', 'content-length': 10})
  res.end('not found\n')
}

export async function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const grpcSide = opts.apiProtocol === 'grpc' ? await startGrpc(opts.pipeline, opts.log) : null
  const graphql = opts.apiProtocol === 'graphql' ? await loadGraphqlHandler(opts.pipeline, opts.log) : null
  const tracingRoute = opts.tracing === null ? null : createTracingRoute(opts.tracing, opts.token)
  const unknownPath = opts.apiProtocol === 'grpc' ? grpcUnimplemented : notFound

  const httpServer = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path === '/health' && (opts.apiProtocol === 'graphql' || req.method === 'GET' || req.method === 'HEAD')) {
      req.resume()
      sendJson(res, 200, {ok: true})
    } else if (path === TRACING_PATH) {
      if (tracingRoute === null) notFound(req, res)
      else tracingRoute(req, res)
    } else if (path === '/graphql' && graphql !== null) {
      graphql(req, res)
    } else {
      unknownPath(req, res)
    }
  })

  // componentErrorsTotals over WebSocket on /graphql, as Vector <= 0.54 serves it.
  let graphqlWs: {close(): void} | null = null
  if (graphql !== null) {
    try {
      graphqlWs = (await import('./graphql-ws.js')).attachGraphqlWs(httpServer, opts.pipeline)
    } catch (err) {
      opts.log(`admin: GraphQL subscriptions unavailable: ${(err as Error).message}`)
    }
  }

  const sockets = new Set<net.Socket>()
  const tcp = net.createServer((socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    // Errors after the hand-over are the owner's; before it, a reset client must not crash the demo.
    socket.on('error', () => socket.destroy())
    socket.setTimeout(FIRST_BYTES_TIMEOUT_MS, () => socket.destroy())
    let peeked = Buffer.alloc(0)
    const onReadable = () => {
      let chunk: Buffer | null
      while ((chunk = socket.read() as Buffer | null) !== null) peeked = Buffer.concat([peeked, chunk])
      const n = Math.min(peeked.length, HTTP2_PREFACE.length)
      const prefaceSoFar = peeked.subarray(0, n).equals(HTTP2_PREFACE.subarray(0, n))
      if (prefaceSoFar && peeked.length < HTTP2_PREFACE.length) return
      socket.removeListener('readable', onReadable)
      socket.removeListener('end', onEnd)
      socket.setTimeout(0)
      socket.unshift(peeked)
      if (prefaceSoFar && grpcSide !== null) grpcSide.injector.injectConnection(socket)
      else if (prefaceSoFar) socket.destroy()
      else httpServer.emit('connection', socket)
    }
    const onEnd = () => socket.destroy()
    socket.on('readable', onReadable)
    socket.once('end', onEnd)
  })

  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject)
    tcp.listen(opts.port, opts.host, () => resolve())
  })
  const address = tcp.address() as net.AddressInfo
  const url = `http://${formatHost(address.address)}:${address.port}`

  return {
    url,
    port: address.port,
    close: async () => {
      await new Promise<void>((resolve) => {
        tcp.close(() => resolve())
        grpcSide?.endStreams()
        graphqlWs?.close()
        httpServer.closeAllConnections()
        if (grpcSide !== null) {
          grpcSide.injector.destroy()
          grpcSide.server.forceShutdown()
        }
        for (const socket of sockets) socket.destroy()
      })
      httpServer.close()
    },
  }
}
