/**
 * Benchmark 1, intake throughput. Per round and protocol: a fresh intake
 * process (intake-process.ts) receives a fixed number of spans from the
 * load generator (load-generator.ts, another process), and the baseline
 * (decode-baseline.ts, a third) decodes the same payloads with msgpackr
 * alone; the two alternate which goes first. Afterwards the spans file the
 * intake wrote is read back and its lines counted: spans lost = spans the
 * generator had accepted − lines stored.
 */
import {createReadStream} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {createGunzip} from 'node:zlib'
import {ENTRY} from '../src/bundle/format.js'
import type {IntakeStats} from '../src/intake/server.js'
import {cpuProfArgs, runJsonChild, startServiceChild} from './child.js'
import type {Recording} from './record-payloads.js'
import {median, round} from './stats.js'
import type {BenchResult} from './result.js'

/** Target: the intake keeps up with at least this share of bare msgpack decoding. */
export const INTAKE_MIN_RATIO = 0.6
/** Target: the intake process's peak RSS, whatever the span count. */
export const INTAKE_MAX_RSS_MB = 200
/** One phase (1 M spans through a loaded machine) must not take longer. */
const PHASE_TIMEOUT_MS = 10 * 60_000
const START_TIMEOUT_MS = 30_000

export interface IntakeBenchOptions {
  recordings: Recording[]
  spans: number
  rounds: number
  concurrency: number
  log(line: string): void
}

interface LoadResult {
  payloads: number
  spans_sent: number
  spans_accepted: number
  bytes: number
  ms: number
  statuses: Record<string, number>
}
interface BaselineResult {
  spans: number
  bytes: number
  ms: number
  cpu_ms: number
}
interface Cpu {
  user: number
  system: number
}
interface StopAnswer {
  stats: IntakeStats
  rejects: string[]
  cpu: Cpu
  peak_rss_mb: number | null
}

/** Lines in a gzip NDJSON file, counted on the bytes (no parsing). */
export async function countGzipLines(file: string): Promise<number> {
  let n = 0
  for await (const chunk of createReadStream(file).pipe(createGunzip()) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++
  }
  return n
}

async function intakeRound(rec: Recording, o: IntakeBenchOptions): Promise<{load: LoadResult; stored: number; peakRssMb: number | null; cpuMs: number; stop: StopAnswer}> {
  const staging = await mkdtemp(path.join(os.tmpdir(), 'vdiag-bench-intake-'))
  const intake = await startServiceChild<{url: string; pid: number}>('intake-process.js', ['--dir', staging], {timeoutMs: START_TIMEOUT_MS, nodeArgs: cpuProfArgs()})
  try {
    const cpu0 = await intake.request<Cpu>('cpu', START_TIMEOUT_MS)
    const load = await runJsonChild<LoadResult>('load-generator.js', ['--recording', rec.dir, '--url', intake.ready.url, '--spans', String(o.spans), '--concurrency', String(o.concurrency)], {
      timeoutMs: PHASE_TIMEOUT_MS,
    })
    const stop = await intake.request<StopAnswer>('stop', PHASE_TIMEOUT_MS)
    const stored = await countGzipLines(path.join(staging, ENTRY.spans))
    // includes closing (the last gzip block, the index): work the intake does for these spans
    const cpuMs = (stop.cpu.user - cpu0.user + stop.cpu.system - cpu0.system) / 1000
    return {load, stored, peakRssMb: stop.peak_rss_mb, cpuMs, stop}
  } finally {
    await intake.stop()
    await rm(staging, {recursive: true, force: true})
  }
}

function protocolResult(rec: Recording, load: LoadResult[], base: BaselineResult[], stored: number[], rss: (number | null)[], cpuMs: number[], o: IntakeBenchOptions) {
  const rates = load.map((l) => (l.spans_sent * 1000) / l.ms)
  const mbs = load.map((l) => l.bytes / 1000 / l.ms)
  const baseRates = base.map((b) => (b.spans * 1000) / b.ms)
  const value = median(rates)
  const baseline = median(baseRates)
  const lost = load.reduce((a, l, i) => a + (l.spans_sent - stored[i]), 0)
  const peak = rss.every((r) => r !== null) ? Math.max(...(rss as number[])) : null
  const ratio = value / baseline
  // per CPU-second of the process doing the work (all its threads): what a loaded machine distorts least
  const cpuRate = median(load.map((l, i) => (l.spans_sent * 1000) / cpuMs[i]))
  const baseCpuRate = median(base.map((b) => (b.spans * 1000) / b.cpu_ms))
  return {
    value: Math.round(value),
    baseline: Math.round(baseline),
    ratio: round(ratio),
    unit: 'spans/s',
    mb_per_s: round(median(mbs), 1),
    baseline_mb_per_s: round(median(base.map((b) => b.bytes / 1000 / b.ms)), 1),
    spans_per_cpu_s: Math.round(cpuRate),
    baseline_spans_per_cpu_s: Math.round(baseCpuRate),
    cpu_ratio: round(cpuRate / baseCpuRate),
    spans_per_round: load[0]?.spans_sent ?? 0,
    payloads_per_round: load[0]?.payloads ?? 0,
    bytes_per_span: round(rec.bytes / rec.spans, 0),
    spans_lost: lost,
    peak_rss_mb: peak,
    rounds: {intake_spans_per_s: rates.map(Math.round), baseline_spans_per_s: baseRates.map(Math.round), intake_cpu_ms: cpuMs.map(Math.round), baseline_cpu_ms: base.map((b) => Math.round(b.cpu_ms)), stored_lines: stored, peak_rss_mb: rss},
    concurrency: o.concurrency,
    pass: ratio >= INTAKE_MIN_RATIO && lost === 0 && peak !== null && peak <= INTAKE_MAX_RSS_MB,
  }
}

export async function benchIntake(o: IntakeBenchOptions): Promise<BenchResult> {
  const perProtocol: Record<string, ReturnType<typeof protocolResult>> = {}
  const data = o.recordings.map(() => ({load: [] as LoadResult[], base: [] as BaselineResult[], stored: [] as number[], rss: [] as (number | null)[], cpu: [] as number[]}))
  for (let r = 0; r < o.rounds; r++) {
    for (const [k, rec] of o.recordings.entries()) {
      const d = data[k]
      const baseline = () =>
        runJsonChild<BaselineResult>('decode-baseline.js', ['--recording', rec.dir, '--spans', String(o.spans)], {timeoutMs: PHASE_TIMEOUT_MS}).then((b) => void d.base.push(b))
      const intake = () =>
        intakeRound(rec, o).then((x) => {
          d.load.push(x.load)
          d.stored.push(x.stored)
          d.rss.push(x.peakRssMb)
          d.cpu.push(x.cpuMs)
          if (x.stop.rejects.length) o.log(`  intake refused payloads: ${x.stop.rejects.join('; ')}`)
        })
      // alternate which goes first, so a drift in machine load hits both alike
      if (r % 2 === 0) {
        await baseline()
        await intake()
      } else {
        await intake()
        await baseline()
      }
      const l = d.load.at(-1)!
      const b = d.base.at(-1)!
      o.log(
        `  intake v${rec.protocol} round ${r + 1}: ${Math.round((l.spans_sent * 1000) / l.ms)} spans/s (${l.spans_sent} sent, ${d.stored.at(-1)} stored, ` +
          `${d.rss.at(-1)} MB peak, ${Math.round((l.spans_sent * 1000) / d.cpu.at(-1)!)} spans/CPU-s) vs unpack ${Math.round((b.spans * 1000) / b.ms)} spans/s (${Math.round((b.spans * 1000) / b.cpu_ms)} spans/CPU-s)`,
      )
    }
  }
  for (const [k, rec] of o.recordings.entries()) perProtocol[`v${rec.protocol}`] = protocolResult(rec, data[k].load, data[k].base, data[k].stored, data[k].rss, data[k].cpu, o)
  const all = Object.values(perProtocol)
  const head = all[0]
  return {
    value: head.value,
    baseline: head.baseline,
    ratio: head.ratio,
    unit: head.unit,
    headline: `v${o.recordings[0].protocol}`,
    mb_per_s: head.mb_per_s,
    cpu_ratio: head.cpu_ratio,
    spans_lost: all.reduce((a, p) => a + p.spans_lost, 0),
    peak_rss_mb: all.some((p) => p.peak_rss_mb === null) ? null : Math.max(...all.map((p) => p.peak_rss_mb as number)),
    protocols: perProtocol,
    target: {
      text: `spans/s ≥ ${INTAKE_MIN_RATIO} × baseline (every protocol), spans lost = 0, peak RSS ≤ ${INTAKE_MAX_RSS_MB} MB`,
      pass: all.every((p) => p.pass),
    },
  }
}
