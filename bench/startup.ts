/**
 * Benchmark 3, start-up: `vdiag --help` and `vdiag replay --help` against a
 * bare `node -e 0`, the three interleaved run by run, each timed from spawn
 * to exit. Needs oclif.manifest.json (run.ts makes sure it exists): without
 * it oclif imports every command to list them.
 */
import path from 'node:path'
import {packageRoot} from '../src/util/paths.js'
import {runProcess} from './child.js'
import type {BenchResult} from './result.js'
import {median, percentile, round} from './stats.js'

export const STARTUP_MAX_RATIO = 3
const RUN_TIMEOUT_MS = 60_000

export async function benchStartup(o: {runs: number; log(line: string): void}): Promise<BenchResult> {
  const bin = path.join(packageRoot, 'bin', 'run.js')
  const commands: Record<string, string[]> = {node: ['-e', '0'], help: [bin, '--help'], replay_help: [bin, 'replay', '--help']}
  const samples: Record<string, number[]> = {node: [], help: [], replay_help: []}
  const names = Object.keys(commands)
  // one unmeasured run each: the first spawn pays for cold file caches
  for (const name of names) await runProcess(process.execPath, commands[name], {timeoutMs: RUN_TIMEOUT_MS, cwd: packageRoot})
  for (let i = 0; i < o.runs; i++) {
    // rotate the order so no command always runs right after another
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length]
      const r = await runProcess(process.execPath, commands[name], {timeoutMs: RUN_TIMEOUT_MS, cwd: packageRoot})
      if (r.code !== 0) throw new Error(`${name} exited ${r.code ?? r.signal}: ${r.stderr.trim().slice(-1000)}`)
      samples[name].push(r.ms)
    }
  }
  const med = (name: string) => median(samples[name])
  const node = med('node')
  const help = med('help')
  const replayHelp = med('replay_help')
  o.log(`  startup: node -e 0 ${Math.round(node)} ms, vdiag --help ${Math.round(help)} ms, vdiag replay --help ${Math.round(replayHelp)} ms (medians of ${o.runs})`)
  const worst = Math.max(help, replayHelp) / node
  return {
    value: Math.round(help),
    baseline: Math.round(node),
    ratio: round(help / node),
    unit: 'ms',
    p99: Math.round(percentile(samples.help, 99)),
    replay_help: {value: Math.round(replayHelp), baseline: Math.round(node), ratio: round(replayHelp / node), unit: 'ms', p99: Math.round(percentile(samples.replay_help, 99))},
    runs: o.runs,
    samples_ms: Object.fromEntries(names.map((n) => [n, samples[n].map(Math.round)])),
    target: {text: `vdiag --help and vdiag replay --help ≤ ${STARTUP_MAX_RATIO} × node -e 0`, pass: worst <= STARTUP_MAX_RATIO},
  }
}
