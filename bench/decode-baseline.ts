/**
 * The intake benchmark's baseline: decoding the same payloads, in the same
 * order (payloadPlan), in-process with msgpackr's `unpack` and nothing else.
 * The bodies are read from disk before the clock starts.
 *
 *   node dist/bench/decode-baseline.js --recording DIR --spans N
 */
import {parseArgs} from 'node:util'
import {unpack} from 'msgpackr'
import {loadRecording, payloadPlan} from './record-payloads.js'

const {values} = parseArgs({options: {recording: {type: 'string'}, spans: {type: 'string'}}})
if (!values.recording || !values.spans) throw new Error('--recording and --spans are required')
const rec = await loadRecording(values.recording)
const plan = payloadPlan(rec.payloads, Number(values.spans))

let bytes = 0
let values_ = 0
const started = performance.now()
for (const i of plan.order) {
  const decoded = unpack(rec.bodies[i]) as unknown[]
  // touch the result so the decode cannot be optimised away
  values_ += decoded.length
  bytes += rec.bodies[i].length
}
const ms = performance.now() - started
process.stdout.write(JSON.stringify({payloads: plan.order.length, spans: plan.spans, bytes, ms, top_level_values: values_}) + '\n')
