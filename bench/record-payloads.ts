/**
 * Records real trace payloads for the intake and tee benchmarks: runs the
 * demo pipeline (dd-trace 5 inside), opens a tracing window pointed at a
 * tiny recording HTTP server that answers as the Agent does, and keeps each
 * trace request's body and the headers dd-trace sent with it.
 *
 * Layout of a recording directory (one per protocol):
 *   index.json      [{file, path, headers, spans, traces, bytes}]
 *   0000.msgpack …  the bodies, byte for byte
 */
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {unpack} from 'msgpackr'
import {spawnDemo} from '../src/demo/spawn.js'
import type {TracingStatus, TracingWindow} from '../src/protocol/tracing-control.js'
import {sleep} from './stats.js'

export type Protocol = '0.4' | '0.5'

export interface RecordedPayload {
  file: string
  path: string
  /** As dd-trace sent them, less host, content-length and connection (the sender sets those). */
  headers: Record<string, string>
  spans: number
  traces: number
  bytes: number
}

export interface Recording {
  dir: string
  protocol: Protocol
  payloads: RecordedPayload[]
  spans: number
  bytes: number
}

/** Longest wait for the window to be reported ended after it expired (the demo flushes within ~2 s). */
const WINDOW_END_TIMEOUT_MS = 30_000
const RATES_BODY = '{"rate_by_service":{"service:,env:":1}}'
const DROPPED_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding'])

/** Spans and trace chunks in a payload, read the plain way (msgpackr). */
export function countSpans(version: 'v0.4' | 'v0.5', body: Buffer): {spans: number; traces: number} {
  const decoded = unpack(body) as unknown
  const traces = (version === 'v0.5' ? (decoded as unknown[][])[1] : decoded) as unknown[][]
  return {traces: traces.length, spans: traces.reduce((a, t) => a + t.length, 0)}
}

export async function recordPayloads(opts: {dir: string; protocol: Protocol; seconds: number; level: 'info' | 'debug'; scenario?: string}): Promise<Recording> {
  await mkdir(opts.dir, {recursive: true})
  const payloads: RecordedPayload[] = []
  const writes: Promise<void>[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = (req.url ?? '/').split('?')[0]
      if (url === '/v0.4/traces' || url === '/v0.5/traces') {
        const body = Buffer.concat(chunks)
        const headers: Record<string, string> = {}
        for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !DROPPED_HEADERS.has(k)) headers[k] = Array.isArray(v) ? v.join(', ') : v
        const file = `${String(payloads.length).padStart(4, '0')}.msgpack`
        const counts = countSpans(url === '/v0.5/traces' ? 'v0.5' : 'v0.4', body)
        if (counts.spans > 0) {
          payloads.push({file, path: url, headers, ...counts, bytes: body.length})
          writes.push(writeFile(path.join(opts.dir, file), body))
        }
      }
      res.writeHead(200, {'content-type': 'application/json'}).end(RATES_BODY)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const demo = await spawnDemo({scenario: opts.scenario ?? 'balanced', extraArgs: ['--trace-protocol', opts.protocol, '--rate', '0']})
  try {
    // let the pipeline reach its steady state before recording
    await sleep(2000)
    const res = await fetch(`${demo.api}/tracing`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({duration_secs: opts.seconds, endpoint, level: opts.level}),
    })
    if (res.status !== 201) throw new Error(`POST /tracing: ${res.status} ${await res.text()}`)
    const {window} = (await res.json()) as {window: TracingWindow}
    const deadline = Date.now() + opts.seconds * 1000 + WINDOW_END_TIMEOUT_MS
    for (;;) {
      const status = (await (await fetch(`${demo.api}/tracing`)).json()) as TracingStatus
      if (status.window?.id === window.id && status.window.state === 'ended') break
      if (Date.now() > deadline) throw new Error('the demo did not end its tracing window in time')
      await sleep(250)
    }
  } finally {
    await demo.stop()
    server.closeAllConnections()
    await new Promise<void>((r) => server.close(() => r()))
  }
  await Promise.all(writes)
  if (payloads.length === 0) throw new Error(`the demo sent no v${opts.protocol} trace payloads`)
  await writeFile(path.join(opts.dir, 'index.json'), JSON.stringify(payloads, null, 1))
  return summarise(opts.dir, opts.protocol, payloads)
}

function summarise(dir: string, protocol: Protocol, payloads: RecordedPayload[]): Recording {
  return {dir, protocol, payloads, spans: payloads.reduce((a, p) => a + p.spans, 0), bytes: payloads.reduce((a, p) => a + p.bytes, 0)}
}

export async function loadRecording(dir: string): Promise<Recording & {bodies: Buffer[]}> {
  const payloads = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as RecordedPayload[]
  const bodies = await Promise.all(payloads.map((p) => readFile(path.join(dir, p.file))))
  const protocol: Protocol = payloads[0]?.path === '/v0.5/traces' ? '0.5' : '0.4'
  return {...summarise(dir, protocol, payloads), bodies}
}

/**
 * Which recorded payloads to send, in order, to reach `targetSpans`: the
 * recording cycled from the start, whole payloads only (the last one may go
 * past the target). The load generator and the decode baseline both follow
 * it, so both handle exactly the same bytes.
 */
export function payloadPlan(payloads: readonly {spans: number}[], targetSpans: number): {order: number[]; spans: number} {
  const order: number[] = []
  let spans = 0
  for (let i = 0; spans < targetSpans; i = (i + 1) % payloads.length) {
    order.push(i)
    spans += payloads[i].spans
  }
  return {order, spans}
}
