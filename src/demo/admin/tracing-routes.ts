/**
 * HTTP mapping of `/tracing` onto the TracingController
 * (docs/tracing-control.md, "HTTP interface").
 */
import {timingSafeEqual} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {TracingErrorReply, WindowReply} from '../../protocol/tracing-control.js'
import type {TracingController} from '../types.js'

/** A window request is a few hundred bytes; anything near this is not one. */
export const MAX_TRACING_BODY_BYTES = 64 * 1024

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers})
  res.end(text)
}

function error(res: ServerResponse, status: number, message: string, headers?: Record<string, string>): void {
  sendJson(res, status, {error: message} satisfies TracingErrorReply, headers)
}

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? ''
  const m = /^Bearer (.+)$/i.exec(header)
  if (m === null) return false
  const given = Buffer.from(m[1].trim())
  const expected = Buffer.from(token)
  // Constant-time compare so the token cannot be guessed byte by byte from timing.
  return given.length === expected.length && timingSafeEqual(given, expected)
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_TRACING_BODY_BYTES) {
        resolve(null)
        req.resume()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(size > MAX_TRACING_BODY_BYTES ? null : Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

export function createTracingRoute(controller: TracingController, token: string | undefined): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (token !== undefined && !authorized(req, token)) {
      req.resume()
      error(res, 401, 'missing or wrong bearer token', {'www-authenticate': 'Bearer realm="vdiag-tracing"'})
      return
    }
    switch (req.method) {
      case 'GET':
      case 'HEAD':
        req.resume()
        sendJson(res, 200, controller.status())
        return
      case 'POST':
        void readBody(req).then(
          (body) => {
            if (body === null) return error(res, 413, `request body larger than ${MAX_TRACING_BODY_BYTES} bytes`)
            let parsed: unknown
            try {
              parsed = JSON.parse(body.toString('utf8'))
            } catch {
              return error(res, 400, 'request body is not valid JSON')
            }
            const result = controller.open(parsed)
            if (result.ok) sendJson(res, 201, {window: result.window} satisfies WindowReply)
            else sendJson(res, result.status, {error: result.error, ...(result.window ? {window: result.window} : {})} satisfies TracingErrorReply)
          },
          () => error(res, 400, 'could not read the request body'),
        )
        return
      case 'DELETE': {
        req.resume()
        const window = controller.end()
        if (window === null) error(res, 404, 'no tracing window is active')
        else sendJson(res, 200, {window} satisfies WindowReply)
        return
      }
      default:
        req.resume()
        error(res, 405, `method ${req.method} not allowed on /tracing`, {allow: 'GET, HEAD, POST, DELETE'})
    }
  }
}
