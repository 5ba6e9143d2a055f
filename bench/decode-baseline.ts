/**
 * The intake benchmark's baseline: decoding the same payloads, in the same
 * order (payloadPlan), in-process with msgpackr's `unpack` and nothing else.
 * The bodies are read from disk, and given each pass's ids (as the load
 * generator does), outside the timed part: only `unpack` is timed, in
 * wall-clock and in CPU time.
 *
 *   node dist/bench/decode-baseline.js --recording DIR --spans N
 */
import {parseArgs} from 'node:util'
import {unpack} from 'msgpackr'
import {cycleBody, idOffsets} from './payload-ids.js'
import {loadRecording, payloadPlan} from './record-payloads.js'

const {values} = parseArgs({options: {recording: {type: 'string'}, spans: {type: 'string'}}})
if (!values.recording || !values.spans) throw new Error('--recording and --spans are required')
const rec = await loadRecording(values.recording)
const plan = payloadPlan(rec.payloads, Number(values.spans))

const offsets = rec.bodies.map((b, i) => idOffsets(rec.payloads[i].path === '/v0.5/traces' ? 'v0.5' : 'v0.4', b))
const scratch = rec.bodies.map((b) => Buffer.allocUnsafe(b.length))

let bytes = 0
let values_ = 0
let ms = 0
let cpuUs = 0
for (const [k, i] of plan.order.entries()) {
  const body = cycleBody(rec.bodies[i], offsets[i], Math.floor(k / rec.payloads.length), scratch[i])
  const cpu0 = process.cpuUsage()
  const started = performance.now()
  const decoded = unpack(body) as unknown[]
  ms += performance.now() - started
  const cpu = process.cpuUsage(cpu0)
  cpuUs += cpu.user + cpu.system
  // touch the result so the decode cannot be optimised away
  values_ += decoded.length
  bytes += body.length
}
process.stdout.write(JSON.stringify({payloads: plan.order.length, spans: plan.spans, bytes, ms, cpu_ms: cpuUs / 1000, top_level_values: values_}) + '\n')
