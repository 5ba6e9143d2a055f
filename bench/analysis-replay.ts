/**
 * Times `analyseBundle` on an extracted bundle against the baseline of
 * streaming the same spans file through gunzip + readline + JSON.parse and
 * nothing else. Each run is its own child process (so peak RSS is that run's
 * alone); baseline and analysis alternate, and medians are reported, so a
 * noisy shared machine still gives a comparable ratio.
 *
 *   node dist/bench/analysis-replay.js --bundle DIR [--rounds 3]
 *   node dist/bench/analysis-replay.js --spans 1000000 [--rounds 3]   (generates a bundle in a temp dir)
 */
import {execFile} from 'node:child_process'
import {createReadStream, promises as fs} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {promisify} from 'node:util'
import {createGunzip} from 'node:zlib'
import {ENTRY, type Manifest} from '../src/bundle/format.js'

const run = promisify(execFile)
const SELF = fileURLToPath(import.meta.url)
/** A child taking longer than this is stuck, not slow. */
const CHILD_TIMEOUT_MS = 10 * 60_000

interface Sample {
  ms: number
  rss_mb: number
  spans: number
}

async function baseline(dir: string): Promise<number> {
  const rl = readline.createInterface({input: createReadStream(path.join(dir, ENTRY.spans)).pipe(createGunzip()), crlfDelay: Infinity})
  let n = 0
  for await (const line of rl) {
    JSON.parse(line)
    n++
  }
  return n
}

async function analyse(dir: string): Promise<number> {
  const {analyseBundle} = await import('../src/analysis/index.js')
  const {toJson} = await import('../src/report/json.js')
  const manifest = JSON.parse(await fs.readFile(path.join(dir, ENTRY.manifest), 'utf8')) as Manifest
  const result = await analyseBundle({root: dir, manifest, verified: true})
  toJson(result)
  return result.spans.total
}

async function child(mode: string, dir: string): Promise<void> {
  const started = performance.now()
  const spans = mode === 'baseline' ? await baseline(dir) : await analyse(dir)
  const ms = performance.now() - started
  const sample: Sample = {ms: Math.round(ms), rss_mb: Math.round(process.resourceUsage().maxRSS / 1024), spans}
  process.stdout.write(JSON.stringify(sample) + '\n')
}

async function measure(mode: string, dir: string): Promise<Sample> {
  const {stdout} = await run(process.execPath, [SELF, '--child', mode, dir], {timeout: CHILD_TIMEOUT_MS, maxBuffer: 1 << 20})
  return JSON.parse(stdout.trim().split('\n').pop()!) as Sample
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor((s.length - 1) / 2)]
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--child') return child(argv[1], argv[2])
  let dir: string | null = null
  let spans = 1_000_000
  let rounds = 3
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--bundle') dir = argv[++i]
    else if (argv[i] === '--spans') spans = Number(argv[++i])
    else if (argv[i] === '--rounds') rounds = Number(argv[++i])
    else throw new Error(`unknown argument ${argv[i]}`)
  }
  let temp: string | null = null
  if (!dir) {
    temp = await fs.mkdtemp(path.join(os.tmpdir(), 'vdiag-bench-replay-'))
    dir = temp
    const {generateBundleDir} = await import('./generate-bundle.js')
    process.stderr.write(`generating ${spans} spans in ${dir} ...\n`)
    await generateBundleDir({dir, spans, scenario: 'slow-discovery', level: 'debug', seed: 1})
  }
  try {
    const base: Sample[] = []
    const ana: Sample[] = []
    for (let r = 0; r < rounds; r++) {
      base.push(await measure('baseline', dir))
      ana.push(await measure('analyse', dir))
      process.stderr.write(`round ${r + 1}: baseline ${base[r].ms} ms / ${base[r].rss_mb} MB, analyse ${ana[r].ms} ms / ${ana[r].rss_mb} MB\n`)
    }
    const b = median(base.map((s) => s.ms))
    const a = median(ana.map((s) => s.ms))
    const report = {
      spans: ana[0].spans,
      rounds,
      baseline_ms: b,
      analyse_ms: a,
      ratio: Math.round((a / b) * 100) / 100,
      analyse_peak_rss_mb: Math.max(...ana.map((s) => s.rss_mb)),
      baseline_peak_rss_mb: Math.max(...base.map((s) => s.rss_mb)),
      machine: {cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version},
    }
    process.stdout.write(JSON.stringify(report, null, 2) + '\n')
  } finally {
    if (temp) await fs.rm(temp, {recursive: true, force: true})
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`analysis-replay: ${(e as Error).message}\n`)
    process.exitCode = 1
  })
}
