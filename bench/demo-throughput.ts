/**
 * Measures the demo pipeline's throughput (events/s delivered by the sink)
 * with and without an open tracing window, alternating the two so that
 * drifting machine load hits both alike. The same measurement as
 * `npm run bench -- --only overhead_info`, for one level, standalone.
 *
 *   npx tsc -p tsconfig.test.json && node dist/bench/demo-throughput.js [--period 10] [--rounds 3] [--rate 0] [--level info]
 */
import os from 'node:os'
import {parseArgs} from 'node:util'
import type {TracingLevel} from '../src/protocol/tracing-control.js'
import {runOverhead} from './tracing-overhead.js'

const {values} = parseArgs({
  options: {
    period: {type: 'string', default: '10'},
    rounds: {type: 'string', default: '3'},
    rate: {type: 'string', default: '0'},
    level: {type: 'string', default: 'info'},
    scenario: {type: 'string', default: 'balanced'},
    warmup: {type: 'string', default: '5'},
  },
})
const level = values.level as TracingLevel
const period = Number(values.period)
const run = await runOverhead({
  levels: [level],
  period,
  rounds: Number(values.rounds),
  warmup: Number(values.warmup),
  rate: Number(values.rate),
  scenario: values.scenario!,
  log: (l) => process.stderr.write(l + '\n'),
})
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
const on = run.on[level]
const windows = run.windows[level]
const spans = windows.reduce((a, w) => a + w.spans_started, 0)
const result = {
  machine: {cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg().map((l) => +l.toFixed(2)), node: process.version},
  settings: {period_s: period, rounds: Number(values.rounds), rate: Number(values.rate), level, scenario: values.scenario},
  events_per_s_without_window: run.off.map((x) => Math.round(x)),
  events_per_s_with_window: on.map((x) => Math.round(x)),
  mean_without: Math.round(mean(run.off)),
  mean_with: Math.round(mean(on)),
  change_percent: +((100 * (mean(on) - mean(run.off))) / mean(run.off)).toFixed(1),
  spans_per_s_in_windows: Math.round(spans / (windows.length * (period + 1))),
  spans_dropped: windows.reduce((a, w) => a + w.spans_dropped, 0),
  intake_bytes: run.intakeBytes,
}
process.stdout.write(JSON.stringify(result, null, 2) + '\n')
