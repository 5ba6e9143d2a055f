/**
 * Measures the demo pipeline's throughput (events/s delivered by the sink)
 * with and without an open `info` tracing window, alternating the two so that
 * drifting machine load hits both alike.
 *
 *   npx tsc -p tsconfig.test.json && node dist/bench/demo-throughput.js [--period 10] [--rounds 3] [--rate 0] [--level info]
 *
 * `--rate 0` lets the generator write as fast as the pipeline drains, so the
 * figure is the pipeline's capacity on this machine. The intake here only
 * counts bytes (no decoding), to keep the bench's own cost small.
 */
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import os from 'node:os'
import {parseArgs} from 'node:util'
import {spawnDemo, type SpawnedDemo} from '../src/demo/spawn.js'
import type {TracingStatus, TracingWindow} from '../src/protocol/tracing-control.js'

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
const PERIOD_S = Number(values.period)
const ROUNDS = Number(values.rounds)
const WARMUP_S = Number(values.warmup)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function sinkSent(demo: SpawnedDemo): Promise<number> {
  const text = await (await fetch(demo.metrics)).text()
  const m = /vector_component_sent_events_total\{component_id="http_out"[^}]*\} (\d+)/.exec(text)
  if (!m) throw new Error('no sink counter in /metrics')
  return Number(m[1])
}

async function countingIntake(): Promise<{url: string; bytes(): number; close(): Promise<void>}> {
  let bytes = 0
  const server = http.createServer((req, res) => {
    req.on('data', (c: Buffer) => (bytes += c.length))
    req.on('end', () => res.writeHead(200, {'content-type': 'application/json'}).end('{"rate_by_service":{"service:,env:":1}}'))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bytes: () => bytes,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

/** Events/s the sink delivered over one period. */
async function measure(demo: SpawnedDemo): Promise<number> {
  const c0 = await sinkSent(demo)
  const t0 = performance.now()
  await sleep(PERIOD_S * 1000)
  const c1 = await sinkSent(demo)
  return ((c1 - c0) * 1000) / (performance.now() - t0)
}

async function main(): Promise<void> {
  const demo = await spawnDemo({scenario: values.scenario, extraArgs: ['--rate', String(values.rate)]})
  const intake = await countingIntake()
  const off: number[] = []
  const on: number[] = []
  const windows: TracingWindow[] = []
  try {
    await sleep(WARMUP_S * 1000)
    for (let round = 1; round <= ROUNDS; round++) {
      off.push(await measure(demo))
      const res = await fetch(`${demo.api}/tracing`, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        // A little longer than the period, so the whole measured period is inside the window.
        body: JSON.stringify({duration_secs: PERIOD_S + 1, endpoint: intake.url, level: values.level}),
      })
      if (res.status !== 201) throw new Error(`POST /tracing: ${res.status} ${await res.text()}`)
      const {window} = (await res.json()) as {window: TracingWindow}
      on.push(await measure(demo))
      for (;;) {
        const status = (await (await fetch(`${demo.api}/tracing`)).json()) as TracingStatus
        if (status.window?.id === window.id && status.window.state === 'ended') {
          windows.push(status.window)
          break
        }
        await sleep(250)
      }
      process.stderr.write(`round ${round}: off ${off.at(-1)?.toFixed(0)} ev/s, on ${on.at(-1)?.toFixed(0)} ev/s\n`)
    }
  } finally {
    await intake.close()
    await demo.stop()
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  const spans = windows.reduce((a, w) => a + w.spans_started, 0)
  const result = {
    machine: {cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg().map((l) => +l.toFixed(2)), node: process.version},
    settings: {period_s: PERIOD_S, rounds: ROUNDS, rate: Number(values.rate), level: values.level, scenario: values.scenario},
    events_per_s_without_window: off.map((x) => Math.round(x)),
    events_per_s_with_window: on.map((x) => Math.round(x)),
    mean_without: Math.round(mean(off)),
    mean_with: Math.round(mean(on)),
    change_percent: +((100 * (mean(on) - mean(off))) / mean(off)).toFixed(1),
    spans_per_s_in_windows: Math.round(spans / (windows.length * (PERIOD_S + 1))),
    spans_dropped: windows.reduce((a, w) => a + w.spans_dropped, 0),
    intake_bytes: intake.bytes(),
  }
  process.stdout.write(JSON.stringify(result, null, 2) + '\n')
}

await main()
