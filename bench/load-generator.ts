/**
 * The intake benchmark's load generator, a process of its own: sends the
 * recorded payloads (cycled, see payloadPlan) to a trace intake over
 * loopback as fast as it accepts them: keep-alive connections, PUT, the
 * headers dd-trace sent. Prints one JSON line with what it sent and how long
 * it took from the first request to the last response. Each pass through
 * the recording gets fresh ids (payload-ids.ts): real traffic never repeats a
 * payload, and the store sets repeats aside.
 *
 *   node dist/bench/load-generator.js --recording DIR --url URL --spans N [--concurrency 2]
 */
import http from 'node:http'
import {parseArgs} from 'node:util'
import {cycleBody, idOffsets} from './payload-ids.js'
import {loadRecording, payloadPlan} from './record-payloads.js'

const {values} = parseArgs({options: {recording: {type: 'string'}, url: {type: 'string'}, spans: {type: 'string'}, concurrency: {type: 'string', default: '2'}}})
if (!values.recording || !values.url || !values.spans) throw new Error('--recording, --url and --spans are required')
const rec = await loadRecording(values.recording)
const plan = payloadPlan(rec.payloads, Number(values.spans))
const concurrency = Number(values.concurrency)
const target = new URL(values.url)
const version = (i: number) => (rec.payloads[i].path === '/v0.5/traces' ? 'v0.5' : 'v0.4')
const offsets = rec.bodies.map((b, i) => idOffsets(version(i), b))
const agent = new http.Agent({keepAlive: true, maxSockets: concurrency})

const statuses: Record<string, number> = {}
let spansSent = 0
let spansAccepted = 0
let bytes = 0
let next = 0

function put(k: number): Promise<number> {
  const i = plan.order[k]
  const p = rec.payloads[i]
  const body = cycleBody(rec.bodies[i], offsets[i], Math.floor(k / rec.payloads.length))
  return new Promise((resolve, reject) => {
    const req = http.request(
      {host: target.hostname, port: target.port, path: p.path, method: 'PUT', agent, headers: {...p.headers, 'content-length': body.length}},
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

async function worker(): Promise<void> {
  while (next < plan.order.length) {
    const k = next++
    const i = plan.order[k]
    const status = await put(k)
    statuses[status] = (statuses[status] ?? 0) + 1
    spansSent += rec.payloads[i].spans
    bytes += rec.payloads[i].bytes
    if (status === 200) spansAccepted += rec.payloads[i].spans
  }
}

const started = performance.now()
await Promise.all(Array.from({length: concurrency}, () => worker()))
const ms = performance.now() - started
agent.destroy()
process.stdout.write(JSON.stringify({payloads: plan.order.length, spans_sent: spansSent, spans_accepted: spansAccepted, bytes, ms, statuses, concurrency}) + '\n')
