/**
 * Running the processes a benchmark measures: one-shot children that print a
 * JSON result line, long-lived children that print a "ready" JSON line and
 * then take commands on stdin, and reading a process's peak RSS. Every child
 * has a deadline and is killed if it overruns, so a benchmark never hangs.
 */
import {spawn, type ChildProcess, type SpawnOptions} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {readFile, rm} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {createInterface, type Interface} from 'node:readline'
import {fileURLToPath} from 'node:url'

/** dist/bench, where the compiled benchmark scripts are. */
export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
export const benchScript = (name: string): string => path.join(BENCH_DIR, name)
/** How long a service child that was told to stop may take to exit before it is killed. */
const STOP_GRACE_MS = 10_000
/** Output kept from a child's stderr, to explain its failure. */
const MAX_STDERR_CHARS = 16 * 1024

/** `--cpu-prof` flags for the measured vdiag processes when BENCH_CPU_PROF_DIR is set (profiling slows them: not for figures). */
export function cpuProfArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROF_DIR
  return dir ? ['--cpu-prof', '--cpu-prof-dir', dir] : []
}

/** Peak RSS (VmHWM) of a running process in MB, or null where /proc is not there. */
export function vmHwmMb(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Math.round(Number(m[1]) / 1024) : null
  } catch {
    return null
  }
}

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  ms: number
  /** Peak RSS from the rss-probe preload (when asked for), MB. */
  peakRssMb: number | null
}

export interface RunOptions {
  timeoutMs: number
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Preload rss-probe to learn the process's peak RSS (only for `node` commands: adds `--import`). */
  probeRss?: boolean
  /** Keep stdout (default true); false sends it to /dev/null, as for a large --json. */
  captureStdout?: boolean
}

/** Runs `node ...args` to completion, timing it from spawn to exit. */
export async function runNode(args: string[], opts: RunOptions): Promise<RunResult> {
  let rssFile: string | null = null
  const nodeArgs = [...args]
  const env = {...process.env, ...opts.env}
  if (opts.probeRss) {
    rssFile = path.join(os.tmpdir(), `vdiag-bench-rss-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`)
    nodeArgs.unshift('--import', benchScript('rss-probe.js'))
    env.BENCH_RSS_FILE = rssFile
  }
  try {
    const r = await runProcess(process.execPath, nodeArgs, {timeoutMs: opts.timeoutMs, env, cwd: opts.cwd, captureStdout: opts.captureStdout})
    let peak: number | null = null
    if (rssFile) {
      try {
        peak = Math.round((JSON.parse(await readFile(rssFile, 'utf8')) as {max_rss_kb: number}).max_rss_kb / 1024)
      } catch {
        peak = null
      }
    }
    return {...r, peakRssMb: peak}
  } finally {
    if (rssFile) await rm(rssFile, {force: true})
  }
}

export async function runProcess(
  command: string,
  args: string[],
  opts: {timeoutMs: number; env?: NodeJS.ProcessEnv; cwd?: string; captureStdout?: boolean},
): Promise<Omit<RunResult, 'peakRssMb'>> {
  const capture = opts.captureStdout ?? true
  const spawnOpts: SpawnOptions = {env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', capture ? 'pipe' : 'ignore', 'pipe']}
  const started = performance.now()
  const child = spawn(command, args, spawnOpts)
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (stdout += c))
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-MAX_STDERR_CHARS)))
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs)
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (c, s) => resolve([c, s]))
    })
    const ms = performance.now() - started
    if (signal === 'SIGKILL' && ms >= opts.timeoutMs) throw new Error(`${path.basename(args.at(-1) ?? command)} overran ${opts.timeoutMs / 1000}s and was killed`)
    return {code, signal, stdout, stderr, ms}
  } finally {
    clearTimeout(timer)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
}

/** Runs a bench script that prints one JSON line last; throws with its stderr if it fails. */
export async function runJsonChild<T>(script: string, args: string[], opts: RunOptions): Promise<T & {_ms: number; _peakRssMb: number | null}> {
  const r = await runNode([benchScript(script), ...args], opts)
  if (r.code !== 0) throw new Error(`${script} ${args.join(' ')} exited ${r.code ?? r.signal}: ${r.stderr.trim().slice(-2000)}`)
  const last = r.stdout.trim().split('\n').pop() ?? ''
  try {
    return {...(JSON.parse(last) as T), _ms: r.ms, _peakRssMb: r.peakRssMb}
  } catch {
    throw new Error(`${script} printed no JSON result: ${last.slice(0, 200)}`)
  }
}

/**
 * A long-lived bench child: started, read its first JSON line ("ready"),
 * then `request(cmd)` writes a line to its stdin and resolves with the next
 * JSON line it prints. `stop()` kills it if it is still there.
 */
export interface ServiceChild<Ready> {
  ready: Ready
  pid: number
  child: ChildProcess
  request<T>(cmd: string, timeoutMs: number): Promise<T>
  stderr(): string
  stop(): Promise<void>
}

export async function startServiceChild<Ready>(script: string, args: string[], opts: {timeoutMs: number; env?: NodeJS.ProcessEnv; nodeArgs?: string[]}): Promise<ServiceChild<Ready>> {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), benchScript(script), ...args], {env: {...process.env, ...opts.env}, stdio: ['pipe', 'pipe', 'pipe']})
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-MAX_STDERR_CHARS)))
  const lines: Interface = createInterface({input: child.stdout!})
  const queue: string[] = []
  let waiter: ((line: string | null) => void) | null = null
  let closed = false
  lines.on('line', (l) => {
    if (waiter) {
      const w = waiter
      waiter = null
      w(l)
    } else queue.push(l)
  })
  child.once('close', () => {
    closed = true
    waiter?.(null)
    waiter = null
  })
  child.once('error', () => undefined)
  // a command written after the child died must not become an unhandled EPIPE
  child.stdin!.on('error', () => undefined)
  const next = (timeoutMs: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const q = queue.shift()
      if (q !== undefined) return resolve(q)
      if (closed) return reject(new Error(`${script} exited: ${stderr.trim().slice(-2000)}`))
      const timer = setTimeout(() => {
        waiter = null
        reject(new Error(`${script} did not answer within ${timeoutMs / 1000}s: ${stderr.trim().slice(-2000)}`))
      }, timeoutMs)
      waiter = (l) => {
        clearTimeout(timer)
        if (l === null) reject(new Error(`${script} exited: ${stderr.trim().slice(-2000)}`))
        else resolve(l)
      }
    })
  let stopSent = false
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const gone = new Promise<void>((r) => child.once('close', () => r()))
    // after `stop` the child exits by itself (and writes its --cpu-prof profile on the way): give it the time
    if (stopSent) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([gone, new Promise<void>((r) => (timer = setTimeout(r, STOP_GRACE_MS)))])
      clearTimeout(timer)
      if (child.exitCode !== null || child.signalCode !== null) return
    }
    child.kill('SIGKILL')
    await gone
  }
  try {
    const ready = JSON.parse(await next(opts.timeoutMs)) as Ready
    return {
      ready,
      pid: child.pid!,
      child,
      stderr: () => stderr,
      stop,
      request: async <T>(cmd: string, timeoutMs: number) => {
        if (cmd === 'stop') stopSent = true
        child.stdin!.write(cmd + '\n')
        return JSON.parse(await next(timeoutMs)) as T
      },
    }
  } catch (e) {
    await stop()
    throw e
  }
}

/** Reads commands (one per line) from stdin in a service child; the loop ends when stdin does. */
export async function serveCommands(handle: (cmd: string) => Promise<unknown>): Promise<void> {
  const rl = createInterface({input: process.stdin})
  for await (const line of rl) {
    const cmd = line.trim()
    if (!cmd) continue
    const answer = await handle(cmd)
    process.stdout.write(JSON.stringify(answer) + '\n')
    if (cmd === 'stop') break
  }
  rl.close()
}
