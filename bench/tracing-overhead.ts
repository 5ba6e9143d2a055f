/**
 * Benchmark 4, tracing overhead on the pipeline: the demo's throughput
 * (events/s delivered by its sink, `--rate 0` so the generator writes as
 * fast as the pipeline drains) with no window, an `info` window and a
 * `debug` window, in one demo process, the three interleaved in rotating
 * order over several rounds. The window's endpoint is an intake that only
 * counts bytes, so that the figure is the pipeline's own tracing cost
 * (dd-trace spans, encoding, flushing), not vdiag's decoding competing for
 * the same cores.
 */
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {spawnDemo, type SpawnedDemo} from '../src/demo/spawn.js'
import type {TracingLevel, TracingStatus, TracingWindow} from '../src/protocol/tracing-control.js'
import type {BenchResult} from './result.js'
import {median, round, sleep} from './stats.js'

/** Target: a window costs the pipeline at most this share of its throughput. */
export const OVERHEAD_MAX_DROP = 0.05
/** After the window's expiry the demo must report it ended within this (it allows itself a few seconds to flush). */
const WINDOW_END_TIMEOUT_MS = 30_000

export interface OverheadOptions {
  levels: TracingLevel[]
  /** Seconds per measurement. */
  period: number
  rounds: number
  /** Seconds the pipeline runs before the first measurement. */
  warmup: number
  rate: number
  scenario: string
  log(line: string): void
}

export interface OverheadRun {
  off: number[]
  on: Record<string, number[]>
  windows: Record<string, TracingWindow[]>
  intakeBytes: number
}

async function sinkSent(demo: SpawnedDemo): Promise<number> {
  const text = await (await fetch(demo.metrics)).text()
  const m = /vector_component_sent_events_total\{component_id="http_out"[^}]*\} (\d+)/.exec(text)
  if (!m) throw new Error('no sink counter in the demo /metrics')
  return Number(m[1])
}

/** Accepts trace payloads and counts their bytes, without decoding them. */
export async function countingIntake(): Promise<{url: string; bytes(): number; close(): Promise<void>}> {
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
async function measure(demo: SpawnedDemo, periodS: number): Promise<number> {
  const c0 = await sinkSent(demo)
  const t0 = performance.now()
  await sleep(periodS * 1000)
  const c1 = await sinkSent(demo)
  return ((c1 - c0) * 1000) / (performance.now() - t0)
}

async function withWindow(demo: SpawnedDemo, endpoint: string, level: TracingLevel, periodS: number): Promise<{rate: number; window: TracingWindow}> {
  const res = await fetch(`${demo.api}/tracing`, {
    method: 'POST',
    headers: {'content-type': 'application/json'},
    // a little longer than the period, so that the whole measured period is inside the window
    body: JSON.stringify({duration_secs: periodS + 1, endpoint, level}),
  })
  if (res.status !== 201) throw new Error(`POST /tracing: ${res.status} ${await res.text()}`)
  const {window} = (await res.json()) as {window: TracingWindow}
  const rate = await measure(demo, periodS)
  const deadline = Date.now() + WINDOW_END_TIMEOUT_MS
  for (;;) {
    const status = (await (await fetch(`${demo.api}/tracing`)).json()) as TracingStatus
    if (status.window?.id === window.id && status.window.state === 'ended') return {rate, window: status.window}
    if (Date.now() > deadline) throw new Error(`window ${window.id} did not end in time`)
    await sleep(250)
  }
}

/** Runs the rounds; the raw samples, for benchOverhead or the demo-throughput CLI. */
export async function runOverhead(o: OverheadOptions): Promise<OverheadRun> {
  const demo = await spawnDemo({scenario: o.scenario, extraArgs: ['--rate', String(o.rate)]})
  const intake = await countingIntake()
  const run: OverheadRun = {off: [], on: Object.fromEntries(o.levels.map((l) => [l, []])), windows: Object.fromEntries(o.levels.map((l) => [l, []])), intakeBytes: 0}
  try {
    await sleep(o.warmup * 1000)
    const kinds: (TracingLevel | 'off')[] = ['off', ...o.levels]
    for (let r = 0; r < o.rounds; r++) {
      const parts: string[] = []
      for (let k = 0; k < kinds.length; k++) {
        const kind = kinds[(r + k) % kinds.length]
        if (kind === 'off') {
          run.off.push(await measure(demo, o.period))
          parts.push(`off ${Math.round(run.off.at(-1)!)}`)
        } else {
          const {rate, window} = await withWindow(demo, intake.url, kind, o.period)
          run.on[kind].push(rate)
          run.windows[kind].push(window)
          parts.push(`${kind} ${Math.round(rate)}`)
        }
      }
      o.log(`  overhead round ${r + 1}: events/s ${parts.join(', ')}`)
    }
  } finally {
    run.intakeBytes = intake.bytes()
    await intake.close()
    await demo.stop()
  }
  return run
}

export async function benchOverhead(o: OverheadOptions): Promise<Record<string, BenchResult>> {
  const run = await runOverhead(o)
  const baseline = median(run.off)
  const out: Record<string, BenchResult> = {}
  for (const level of o.levels) {
    const value = median(run.on[level])
    const ratio = value / baseline
    const windows = run.windows[level]
    const spans = windows.reduce((a, w) => a + w.spans_started, 0)
    out[`overhead_${level}`] = {
      value: Math.round(value),
      baseline: Math.round(baseline),
      ratio: round(ratio, 3),
      unit: 'events/s',
      change_percent: round(100 * (ratio - 1), 1),
      // each round's window against the same round's no-window period: less sensitive to slow drifts in machine load
      paired_ratio: round(median(run.on[level].map((v, i) => v / run.off[i])), 3),
      spans_per_s: Math.round(spans / (windows.length * (o.period + 1))),
      spans_dropped: windows.reduce((a, w) => a + w.spans_dropped, 0),
      rounds: {with_window: run.on[level].map(Math.round), without_window: run.off.map(Math.round)},
      settings: {period_s: o.period, rate: o.rate, scenario: o.scenario},
      target: {text: `events/s with a ${level} window ≥ ${1 - OVERHEAD_MAX_DROP} × without (≤ ${OVERHEAD_MAX_DROP * 100} % lower)`, pass: ratio >= 1 - OVERHEAD_MAX_DROP},
    }
  }
  return out
}
