/**
 * Benchmark 2, replay throughput: the real CLI, `vdiag replay BUNDLE --json`,
 * as a child process on a generated bundle (bench/generate-bundle.ts, then
 * the real bundle writer into a .tar.gz), against the baseline of streaming
 * the same span file through gunzip + JSON.parse in a child of its own.
 * Both are timed from spawn to exit (so both include Node's start-up) and
 * alternate which goes first; each reports its peak RSS (rss-probe.ts).
 */
import {mkdir, mkdtemp, rm, stat} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {ENTRY} from '../src/bundle/format.js'
import {packageRoot} from '../src/util/paths.js'
import {benchScript, cpuProfArgs, runNode} from './child.js'
import type {BenchResult} from './result.js'
import {median, round} from './stats.js'

export const REPLAY_MAX_RATIO = 2.5
export const REPLAY_MAX_RSS_MB = 500
const RUN_TIMEOUT_MS = 10 * 60_000

export interface ReplayBenchOptions {
  spans: number
  rounds: number
  log(line: string): void
}

interface Sample {
  ms: number
  rss: number | null
}

export async function benchReplay(o: ReplayBenchOptions): Promise<BenchResult> {
  const temp = await mkdtemp(path.join(os.tmpdir(), 'vdiag-bench-replay-'))
  try {
    const staging = path.join(temp, 'staging')
    await mkdir(staging)
    const started = performance.now()
    const {generateBundleDir} = await import('./generate-bundle.js')
    const generated = await generateBundleDir({dir: staging, spans: o.spans, scenario: 'slow-discovery', level: 'debug', seed: 1})
    const {writeBundle} = await import('../src/bundle/writer.js')
    const {files: _files, ...draft} = generated.manifest
    const bundle = path.join(temp, 'bench-bundle.tar.gz')
    const written = await writeBundle({stagingDir: staging, topFolder: 'vdiag-bench-bundle', output: bundle, format: 'tar.gz', manifest: draft})
    const spansFile = path.join(staging, ENTRY.spans)
    o.log(`  replay: generated ${generated.spans} spans, bundle ${round(written.size / 1e6, 1)} MB (span file ${round((await stat(spansFile)).size / 1e6, 1)} MB) in ${Math.round((performance.now() - started) / 1000)} s`)

    const replay: Sample[] = []
    const base: Sample[] = []
    const runReplay = async () => {
      const r = await runNode([...cpuProfArgs(), path.join(packageRoot, 'bin', 'run.js'), 'replay', bundle, '--json'], {timeoutMs: RUN_TIMEOUT_MS, probeRss: true, cwd: temp})
      if (r.code !== 0) throw new Error(`vdiag replay exited ${r.code ?? r.signal}: ${r.stderr.trim().slice(-2000)}`)
      const total = (JSON.parse(r.stdout) as {spans?: {total?: number}}).spans?.total
      if (total !== generated.spans) throw new Error(`vdiag replay analysed ${total} spans, the bundle has ${generated.spans}`)
      replay.push({ms: r.ms, rss: r.peakRssMb})
    }
    const runBaseline = async () => {
      const r = await runNode([benchScript('spans-baseline.js'), spansFile], {timeoutMs: RUN_TIMEOUT_MS, probeRss: true})
      if (r.code !== 0) throw new Error(`spans-baseline exited ${r.code ?? r.signal}: ${r.stderr.trim().slice(-2000)}`)
      base.push({ms: r.ms, rss: r.peakRssMb})
    }
    for (let i = 0; i < o.rounds; i++) {
      if (i % 2 === 0) {
        await runBaseline()
        await runReplay()
      } else {
        await runReplay()
        await runBaseline()
      }
      o.log(`  replay round ${i + 1}: vdiag replay ${Math.round(replay[i].ms)} ms / ${replay[i].rss} MB, baseline ${Math.round(base[i].ms)} ms / ${base[i].rss} MB`)
    }
    const value = median(replay.map((s) => s.ms))
    const baseline = median(base.map((s) => s.ms))
    const ratio = value / baseline
    const peak = replay.every((s) => s.rss !== null) ? Math.max(...replay.map((s) => s.rss as number)) : null
    return {
      value: Math.round(value),
      baseline: Math.round(baseline),
      ratio: round(ratio),
      unit: 'ms',
      spans: generated.spans,
      spans_per_s: Math.round((generated.spans * 1000) / value),
      baseline_spans_per_s: Math.round((generated.spans * 1000) / baseline),
      bundle_mb: round(written.size / 1e6, 1),
      peak_rss_mb: peak,
      baseline_peak_rss_mb: Math.max(...base.map((s) => s.rss ?? 0)),
      rounds: {replay_ms: replay.map((s) => Math.round(s.ms)), baseline_ms: base.map((s) => Math.round(s.ms)), replay_peak_rss_mb: replay.map((s) => s.rss)},
      target: {text: `time ≤ ${REPLAY_MAX_RATIO} × baseline, peak RSS ≤ ${REPLAY_MAX_RSS_MB} MB`, pass: ratio <= REPLAY_MAX_RATIO && peak !== null && peak <= REPLAY_MAX_RSS_MB},
    }
  } finally {
    await rm(temp, {recursive: true, force: true})
  }
}
