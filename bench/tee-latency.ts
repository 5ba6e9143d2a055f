/**
 * Benchmark 5, tee latency (`capture --via agent`): the time from sending a
 * recorded payload to having the whole answer, through vdiag's intake
 * running as a tee in front of a stub Agent, against sending it straight to
 * that stub Agent. The stub Agent (stub-agent.ts) and the intake
 * (intake-process.ts --agent) are processes of their own; the two paths
 * alternate payload by payload over keep-alive connections, one request at
 * a time as dd-trace sends them, with a pause between payloads as between
 * dd-trace's flushes (so the intake's storing of one payload is not what the
 * next one waits on).
 */
import http from 'node:http'
import {mkdtemp, rm} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {cpuProfArgs, startServiceChild, type ServiceChild} from './child.js'
import {cycleBody, idOffsets} from './payload-ids.js'
import type {Recording, RecordedPayload} from './record-payloads.js'
import {loadRecording} from './record-payloads.js'
import {notAvailable, type BenchResult} from './result.js'
import {median, percentile, round, sleep} from './stats.js'

export const TEE_MAX_ADDED_MS = 2
const TARGET_TEXT = `added median latency ≤ ${TEE_MAX_ADDED_MS} ms`
/** Between payloads: dd-trace flushes about once a second; this is enough for the intake to have stored the previous one. */
const GAP_MS = 60
/** Pairs sent before measuring: connections opened, code paths warm. */
const WARMUP_PAIRS = 10
const START_TIMEOUT_MS = 30_000
const REQUEST_TIMEOUT_MS = 30_000

export interface TeeBenchOptions {
  recording: Recording
  /** Measured payloads per path. */
  payloads: number
  log(line: string): void
}

/** Whether this tree has the tee (src/intake/tee.ts, wired into startIntake as `forward`). */
export async function teeAvailable(): Promise<string | null> {
  try {
    const mod = (await import('../src/intake/tee.js')) as {createAgentTee?: unknown}
    if (typeof mod.createAgentTee !== 'function') return 'src/intake/tee.ts has no createAgentTee'
    return null
  } catch (e) {
    return `the tee is not in this tree (${(e as Error).message.split('\n')[0]})`
  }
}

function send(agent: http.Agent, url: URL, p: RecordedPayload, body: Buffer): Promise<{ms: number; status: number}> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const req = http.request({host: url.hostname, port: url.port, path: p.path, method: 'PUT', agent, headers: {...p.headers, 'content-length': body.length}, timeout: REQUEST_TIMEOUT_MS}, (res) => {
      res.resume()
      res.on('end', () => resolve({ms: performance.now() - started, status: res.statusCode ?? 0}))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error('request timed out')))
    req.on('error', reject)
    req.end(body)
  })
}

export async function benchTee(o: TeeBenchOptions): Promise<BenchResult> {
  const missing = await teeAvailable()
  if (missing) return notAvailable('ms', TARGET_TEXT, missing)
  const rec = await loadRecording(o.recording.dir)
  const offsets = rec.bodies.map((b, i) => idOffsets(rec.payloads[i].path === '/v0.5/traces' ? 'v0.5' : 'v0.4', b))
  const staging = await mkdtemp(path.join(os.tmpdir(), 'vdiag-bench-tee-'))
  let stub: ServiceChild<{url: string}> | null = null
  let intake: ServiceChild<{url: string}> | null = null
  const direct = new http.Agent({keepAlive: true, maxSockets: 1})
  const viaTee = new http.Agent({keepAlive: true, maxSockets: 1})
  try {
    stub = await startServiceChild<{url: string}>('stub-agent.js', [], {timeoutMs: START_TIMEOUT_MS})
    intake = await startServiceChild<{url: string}>('intake-process.js', ['--dir', staging, '--agent', stub.ready.url], {timeoutMs: START_TIMEOUT_MS, nodeArgs: cpuProfArgs()})
    const targets = {direct: new URL(stub.ready.url), tee: new URL(intake.ready.url)}
    const samples = {direct: [] as number[], tee: [] as number[]}
    const statuses: Record<string, number> = {}
    let k = 0
    for (let pair = 0; pair < WARMUP_PAIRS + o.payloads; pair++) {
      // alternate which path goes first within a pair
      const order = pair % 2 === 0 ? (['direct', 'tee'] as const) : (['tee', 'direct'] as const)
      for (const which of order) {
        const i = k % rec.payloads.length
        const body = cycleBody(rec.bodies[i], offsets[i], Math.floor(k / rec.payloads.length))
        k++
        const r = await send(which === 'direct' ? direct : viaTee, targets[which], rec.payloads[i], body)
        statuses[`${which} ${r.status}`] = (statuses[`${which} ${r.status}`] ?? 0) + 1
        if (pair >= WARMUP_PAIRS) samples[which].push(r.ms)
        await sleep(GAP_MS)
      }
    }
    const stubCounts = await stub.request<{requests: number}>('stop', REQUEST_TIMEOUT_MS)
    const intakeStop = await intake.request<{stats: {store: {spans_kept: number}}; tee: {forwarded_ok: number; answered_locally: number} | null}>('stop', 60_000)
    const forwarded = intakeStop.tee?.forwarded_ok ?? 0
    // every payload sent via the tee must have reached the stub Agent through it, else it is not a tee being measured
    const teeSent = WARMUP_PAIRS + o.payloads
    if (forwarded < teeSent) return notAvailable('ms', TARGET_TEXT, `the intake forwarded ${forwarded} of ${teeSent} payloads to the Agent (answered locally: ${intakeStop.tee?.answered_locally ?? 'n/a'})`)
    const value = median(samples.tee)
    const baseline = median(samples.direct)
    const p99 = percentile(samples.tee, 99)
    const baseP99 = percentile(samples.direct, 99)
    const added = value - baseline
    o.log(`  tee: ${o.payloads} payloads each way: via tee median ${round(value)} ms p99 ${round(p99)} ms, direct median ${round(baseline)} ms p99 ${round(baseP99)} ms`)
    return {
      value: round(value),
      baseline: round(baseline),
      ratio: round(value / baseline),
      unit: 'ms',
      p99: round(p99),
      baseline_p99: round(baseP99),
      added_median_ms: round(added),
      added_p99_ms: round(p99 - baseP99),
      payloads_per_path: o.payloads,
      bytes_per_payload_median: median(rec.payloads.map((p) => p.bytes)),
      spans_per_payload_median: median(rec.payloads.map((p) => p.spans)),
      gap_ms: GAP_MS,
      stub_agent_requests: stubCounts.requests,
      spans_stored_by_tee: intakeStop.stats.store.spans_kept,
      statuses,
      target: {text: TARGET_TEXT, pass: added <= TEE_MAX_ADDED_MS},
    }
  } finally {
    direct.destroy()
    viaTee.destroy()
    await intake?.stop()
    await stub?.stop()
    await rm(staging, {recursive: true, force: true})
  }
}
