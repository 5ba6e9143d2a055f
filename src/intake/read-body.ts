/**
 * Reads a request body up to a byte limit, counting bytes as they arrive and
 * stopping (not buffering further) as soon as the limit is passed.
 */
import type {IncomingMessage} from 'node:http'

export type BodyResult =
  /** `backing` holds `body` at its start; it may be handed back as `scratch` once the body is no longer needed. */
  | {kind: 'body'; body: Buffer; backing: Buffer}
  /** Over the limit: reading stopped; `received` is how far it got. */
  | {kind: 'too_large'; received: number}
  /** The client went away or the request timed out before the end. */
  | {kind: 'aborted'; received: number}

/**
 * With a Content-Length within the limit (dd-trace always sends one) the body
 * goes straight into one buffer of that size, `scratch` when it is large
 * enough: gathering chunks and concatenating them would hold each body twice,
 * and a fresh buffer per payload leaves V8 megabytes of dead buffers to find.
 */
export function readBody(req: IncomingMessage, limit: number, scratch: Buffer | null = null): Promise<BodyResult> {
  const declared = Number(req.headers['content-length'])
  let backing: Buffer | null = null
  if (req.headers['transfer-encoding'] === undefined && Number.isSafeInteger(declared) && declared > 0 && declared <= limit) {
    backing = scratch !== null && scratch.length >= declared ? scratch : Buffer.allocUnsafe(declared)
  }
  const into = backing?.subarray(0, declared) ?? null
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    const settle = (r: BodyResult): void => {
      if (settled) return
      settled = true
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('close', onClose)
      resolve(r)
    }
    const onData = (chunk: Buffer): void => {
      if (size + chunk.length > limit) {
        chunks.length = 0
        // stop reading: the socket is closed once the 413 is sent
        req.pause()
        settle({kind: 'too_large', received: size + chunk.length})
        return
      }
      if (into === null) chunks.push(chunk)
      else if (size + chunk.length <= into.length) chunk.copy(into, size)
      // (Node's parser delivers exactly Content-Length bytes; anything else is not a body we take)
      size += chunk.length
    }
    const onEnd = (): void => {
      if (into === null || backing === null) {
        const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)
        settle({kind: 'body', body, backing: body})
      } else if (size === into.length) {
        settle({kind: 'body', body: into, backing})
      } else {
        settle({kind: 'aborted', received: size})
      }
    }
    const onClose = (): void => settle({kind: 'aborted', received: size})
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('close', onClose)
    // an 'error' always comes with 'close'; this listener only keeps it from being thrown
    req.on('error', () => undefined)
  })
}

/** Reads and discards a body (side endpoints), up to the same kind of limit. */
export function discardBody(req: IncomingMessage, limit: number): Promise<'ended' | 'too_large' | 'aborted'> {
  return new Promise((resolve) => {
    let size = 0
    let settled = false
    const settle = (r: 'ended' | 'too_large' | 'aborted'): void => {
      if (settled) return
      settled = true
      req.off('data', onData)
      resolve(r)
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > limit) {
        req.pause()
        settle('too_large')
      }
    }
    req.on('data', onData)
    req.on('end', () => settle('ended'))
    req.on('close', () => settle('aborted'))
    req.on('error', () => undefined)
  })
}
