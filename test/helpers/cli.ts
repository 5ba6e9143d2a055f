/**
 * Runs the real CLI (bin/run.js) as a child process, the way a user does.
 * (oclif's in-process runner mixes its output with node:test's protocol.)
 */
import {spawn, type ChildProcess} from 'node:child_process'
import path from 'node:path'
import {packageRoot} from '../../src/util/paths.js'

export const BIN = path.join(packageRoot, 'bin', 'run.js')

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface RunningCli {
  child: ChildProcess
  stdout(): string
  stderr(): string
  /** Resolves with the first stdout line matching `test` (NDJSON events). */
  waitForLine(test: (line: string) => boolean, timeoutMs?: number): Promise<string>
  done: Promise<CliResult>
}

export function startCli(args: string[], opts: {cwd?: string; env?: NodeJS.ProcessEnv} = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? packageRoot,
    env: {...process.env, ...opts.env},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  const waiters: {test: (l: string) => boolean; resolve: (l: string) => void}[] = []
  let partial = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d
    partial += d
    let i
    while ((i = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, i)
      partial = partial.slice(i + 1)
      for (const w of [...waiters]) {
        if (w.test(line)) {
          waiters.splice(waiters.indexOf(w), 1)
          w.resolve(line)
        }
      }
    }
  })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({code, signal, stdout: out, stderr: err})))
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitForLine(test, timeoutMs = 60_000) {
      for (const line of out.split('\n')) if (test(line)) return Promise.resolve(line)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching line within ${timeoutMs} ms; stdout:\n${out}\nstderr:\n${err}`)), timeoutMs)
        waiters.push({test, resolve: (l) => (clearTimeout(timer), resolve(l))})
        void done.then(() => {
          clearTimeout(timer)
          reject(new Error(`process exited before a matching line; stdout:\n${out}\nstderr:\n${err}`))
        })
      })
    },
    done,
  }
}

/** Runs to completion, killing the process if it outlives `timeoutMs` (a hang is a failure, not a stuck suite). */
export async function runCli(args: string[], opts: {cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number} = {}): Promise<CliResult> {
  const r = startCli(args, opts)
  const timer = setTimeout(() => r.child.kill('SIGKILL'), opts.timeoutMs ?? 120_000)
  try {
    return await r.done
  } finally {
    clearTimeout(timer)
  }
}

export function events(stdout: string): {event: string; [k: string]: unknown}[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as {event: string})
}
