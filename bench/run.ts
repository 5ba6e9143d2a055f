/**
 * `npm run bench`: runs the benchmarks, prints a table and writes
 * bench/results.json. See bench/README.md for what each one measures.
 *
 *   npm run bench -- [--only intake,replay,startup,overhead_info,overhead_debug,tee] [--quick]
 *                    [--rounds N] [--spans N] [--recordings DIR] [--out FILE]
 *
 * --quick: fewer spans and rounds, for iterating (the figures are noisier).
 * --recordings DIR: keep the recorded dd-trace payloads there and reuse
 *   them on the next run (default: record afresh into a temp dir, removed).
 */
import {existsSync} from 'node:fs'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {packageRoot} from '../src/util/paths.js'
import {runProcess} from './child.js'
import {benchIntake} from './intake-throughput.js'
import {loadRecording, recordPayloads, type Protocol, type Recording} from './record-payloads.js'
import {benchReplay} from './replay-throughput.js'
import type {BenchResult} from './result.js'
import {machine, round} from './stats.js'
import {benchStartup} from './startup.js'
import {benchTee} from './tee-latency.js'
import {benchOverhead} from './tracing-overhead.js'

const ALL = ['intake', 'replay', 'startup', 'overhead_info', 'overhead_debug', 'tee'] as const
type Name = (typeof ALL)[number]

/** Settings per mode. Full: what the figures in the README mean; quick: minutes, for iterating. */
const MODES = {
  full: {spans: 1_000_000, intakeRounds: 3, replayRounds: 3, startupRuns: 15, overheadRounds: 5, overheadPeriod: 10, overheadWarmup: 5, teePayloads: 300, recordSeconds: 6},
  quick: {spans: 100_000, intakeRounds: 1, replayRounds: 1, startupRuns: 10, overheadRounds: 2, overheadPeriod: 4, overheadWarmup: 3, teePayloads: 60, recordSeconds: 4},
}

const {values} = parseArgs({
  options: {
    only: {type: 'string'},
    quick: {type: 'boolean', default: false},
    rounds: {type: 'string'},
    spans: {type: 'string'},
    recordings: {type: 'string'},
    out: {type: 'string', default: path.join(packageRoot, 'bench', 'results.json')},
    concurrency: {type: 'string', default: '2'},
  },
})

const log = (line: string): void => void process.stderr.write(line + '\n')

function selected(): Name[] {
  if (!values.only) return [...ALL]
  const names = values.only.split(',').map((s) => s.trim()).filter(Boolean)
  const out = new Set<Name>()
  for (const n of names) {
    if (n === 'overhead') {
      out.add('overhead_info')
      out.add('overhead_debug')
    } else if ((ALL as readonly string[]).includes(n)) out.add(n as Name)
    else throw new Error(`--only: unknown benchmark "${n}" (one of ${ALL.join(', ')}, overhead)`)
  }
  return ALL.filter((n) => out.has(n))
}

/** oclif.manifest.json: start-up is measured as shipped (with it). Made when missing and removed again afterwards, leaving the tree as found. */
async function ensureManifest(): Promise<() => Promise<void>> {
  const file = path.join(packageRoot, 'oclif.manifest.json')
  if (existsSync(file)) return async () => undefined
  const r = await runProcess(process.execPath, [path.join(packageRoot, 'node_modules', 'oclif', 'bin', 'run.js'), 'manifest'], {timeoutMs: 120_000, cwd: packageRoot})
  if (r.code !== 0) throw new Error(`oclif manifest failed: ${r.stderr.trim().slice(-1000)}`)
  log('made oclif.manifest.json for the run (removed afterwards)')
  return () => rm(file, {force: true})
}

async function recordings(dir: string | undefined, seconds: number): Promise<{recs: Recording[]; cleanup: () => Promise<void>}> {
  const root = dir ?? (await mkdtemp(path.join(os.tmpdir(), 'vdiag-bench-recordings-')))
  const recs: Recording[] = []
  for (const protocol of ['0.4', '0.5'] as Protocol[]) {
    const sub = path.join(root, `v${protocol}`)
    if (existsSync(path.join(sub, 'index.json'))) {
      recs.push(await loadRecording(sub))
      log(`using the recorded v${protocol} payloads in ${sub}`)
      continue
    }
    await mkdir(sub, {recursive: true})
    log(`recording dd-trace v${protocol} payloads from the demo (${seconds} s window) ...`)
    const r = await recordPayloads({dir: sub, protocol, seconds, level: 'info'})
    log(`  ${r.payloads.length} payloads, ${r.spans} spans, ${round(r.bytes / r.spans, 0)} B/span`)
    recs.push(r)
  }
  return {recs, cleanup: dir ? async () => undefined : () => rm(root, {recursive: true, force: true})}
}

function fmt(x: unknown): string {
  if (x === null || x === undefined) return '-'
  if (typeof x === 'number') return Math.abs(x) >= 1000 ? Math.round(x).toLocaleString('en-US') : String(x)
  return String(x)
}

function table(results: Record<string, BenchResult>): string {
  const head = ['benchmark', 'value', 'baseline', 'ratio', 'p99', 'unit', 'target', 'result']
  const rows = Object.entries(results).map(([name, r]) => {
    const extra: string[] = []
    if (name === 'intake') {
      for (const [p, v] of Object.entries((r.protocols ?? {}) as Record<string, {value: number; baseline: number; ratio: number; mb_per_s: number; cpu_ratio: number}>)) {
        extra.push(`${p} ${fmt(v.value)}/${fmt(v.baseline)}=${v.ratio} ${v.mb_per_s} MB/s (per CPU-s ×${v.cpu_ratio})`)
      }
      extra.push(`lost ${fmt(r.spans_lost)}`, `rss ${fmt(r.peak_rss_mb)} MB`)
    }
    if (name === 'replay') extra.push(`rss ${fmt(r.peak_rss_mb)} MB`, `${fmt(r.spans_per_s)} spans/s`)
    if (name === 'startup') {
      const rh = r.replay_help as {value: number; ratio: number}
      extra.push(`replay --help ${rh.value} ms ×${rh.ratio}`)
    }
    if (name.startsWith('overhead')) extra.push(`${fmt(r.change_percent)} %`)
    if (name === 'tee' && r.available !== false) extra.push(`added ${fmt(r.added_median_ms)} ms (p99 +${fmt(r.added_p99_ms)} ms)`)
    if (r.available === false) extra.push(`n/a: ${r.reason}`)
    const verdict = r.target.pass === null ? 'n/a' : r.target.pass ? 'PASS' : 'MISS'
    return [name, fmt(r.value), fmt(r.baseline), fmt(r.ratio), fmt(r.p99), r.unit, r.target.text, `${verdict}  ${extra.join(', ')}`]
  })
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === head.length - 1 ? 0 : r[i].length))))
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join(' | ')
  return [line(head), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n')
}

async function main(): Promise<void> {
  const mode = values.quick ? MODES.quick : MODES.full
  const spans = values.spans ? Number(values.spans) : mode.spans
  const rounds = values.rounds ? Number(values.rounds) : undefined
  const names = selected()
  const started = Date.now()
  const host = machine()
  const results: Record<string, BenchResult> = {}
  const errors: string[] = []
  const cleanups: (() => Promise<void>)[] = []
  const onSignal = () => void Promise.all(cleanups.map((c) => c().catch(() => undefined))).finally(() => process.exit(130))
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  log(`vdiag benchmarks (${values.quick ? 'quick' : 'full'}): ${names.join(', ')}`)
  const attempt = async (key: Name | 'overhead', unit: string, target: string, fn: () => Promise<void>) => {
    try {
      await fn()
    } catch (e) {
      const reason = (e as Error).message.split('\n')[0].slice(0, 500)
      errors.push(`${key}: ${(e as Error).stack ?? reason}`)
      log(`${key} FAILED: ${reason}`)
      const keys = key === 'overhead' ? names.filter((n) => n.startsWith('overhead')) : [key]
      for (const k of keys) results[k] = {value: null, baseline: null, ratio: null, unit, available: false, reason: `failed: ${reason}`, target: {text: target, pass: false}}
    }
  }
  try {
    let recs: Recording[] | null = null
    const needRecordings = names.includes('intake') || names.includes('tee')
    if (needRecordings) {
      const r = await recordings(values.recordings, mode.recordSeconds)
      cleanups.push(r.cleanup)
      recs = r.recs
    }
    if (names.includes('startup') || names.includes('replay')) cleanups.push(await ensureManifest())

    if (names.includes('intake')) {
      log(`intake: ${spans} spans per protocol per round`)
      await attempt('intake', 'spans/s', 'spans/s ≥ 0.6 × baseline, 0 lost, peak RSS ≤ 200 MB', async () => {
        results.intake = await benchIntake({recordings: recs!, spans, rounds: rounds ?? mode.intakeRounds, concurrency: Number(values.concurrency), log})
      })
    }
    if (names.includes('replay')) {
      log(`replay: ${spans}-span bundle`)
      await attempt('replay', 'ms', 'time ≤ 2.5 × baseline, peak RSS ≤ 500 MB', async () => {
        results.replay = await benchReplay({spans, rounds: rounds ?? mode.replayRounds, log})
      })
    }
    if (names.includes('startup')) {
      await attempt('startup', 'ms', '≤ 3 × node -e 0', async () => {
        results.startup = await benchStartup({runs: Math.max(rounds ?? 0, mode.startupRuns), log})
      })
    }
    const levels = names.filter((n) => n.startsWith('overhead_')).map((n) => n.slice('overhead_'.length) as 'info' | 'debug')
    if (levels.length) {
      log(`overhead: ${levels.join(' + ')} windows vs none, ${mode.overheadPeriod} s periods`)
      await attempt('overhead', 'events/s', '≤ 5 % lower', async () => {
        Object.assign(results, await benchOverhead({levels, period: mode.overheadPeriod, rounds: rounds ?? mode.overheadRounds, warmup: mode.overheadWarmup, rate: 0, scenario: 'balanced', log}))
      })
    }
    if (names.includes('tee')) {
      await attempt('tee', 'ms', 'added median latency ≤ 2 ms', async () => {
        const rec = recs!.find((r) => r.protocol === '0.4')!
        results.tee = await benchTee({recording: rec, payloads: rounds ? rounds * 100 : mode.teePayloads, log})
      })
    }
  } finally {
    for (const c of cleanups.reverse()) await c().catch((e: unknown) => log(`cleanup: ${(e as Error).message}`))
  }

  const out = {
    machine: host,
    mode: values.quick ? 'quick' : 'full',
    spans,
    started_at: new Date(started).toISOString(),
    duration_s: Math.round((Date.now() - started) / 1000),
    loadavg_at_end: os.loadavg().map((l) => round(l)),
    benchmarks: results,
  }
  await writeFile(values.out!, JSON.stringify(out, null, 2) + '\n')
  process.stdout.write(`\n${table(results)}\n\nmachine: ${out.machine.cpu}, ${out.machine.cores} cores, node ${out.machine.node}; load ${out.machine.loadavg_at_start.join(' ')} → ${out.loadavg_at_end.join(' ')}; ${out.duration_s} s\nwrote ${path.relative(process.cwd(), values.out!) || values.out}\n`)
  if (errors.length) {
    for (const e of errors) log(e)
    process.exitCode = 1
  }
}

await main()
