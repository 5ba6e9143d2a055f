/**
 * Starts `vdiag demo` as a child process on free ports and reads the
 * addresses it chose from its first stdout line. `vdiag capture --demo` and
 * the tests use it, so the demo runs as a real, separate process.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import path from 'node:path'
import {createInterface} from 'node:readline'
import {packageRoot} from '../util/paths.js'

/** The demo writes its first line after creating its files (slow-discovery: thousands) on a possibly loaded machine. */
export const SPAWN_TIMEOUT_MS = 60_000
/** SIGTERM lets the demo end an open window and flush; after this long it is killed. */
export const STOP_GRACE_MS = 10_000
/** Keep the end of stderr only: enough to explain a failure, bounded for a long run. */
const MAX_STDERR_CHARS = 64 * 1024

export interface SpawnDemoOptions {
  scenario?: string
  apiProtocol?: 'grpc' | 'graphql'
  tracing?: boolean
  token?: string
  extraArgs?: string[]
  env?: NodeJS.ProcessEnv
}

export interface SpawnedDemo {
  api: string
  metrics: string
  pid: number
  child: ChildProcess
  stderr(): string
  /** SIGTERM, wait (SIGKILL after STOP_GRACE_MS); resolves with the exit code (null if killed by a signal). */
  stop(): Promise<number | null>
}

export async function spawnDemo(opts: SpawnDemoOptions = {}): Promise<SpawnedDemo> {
  const args = [path.join(packageRoot, 'bin', 'run.js'), 'demo', '--api-address', '127.0.0.1:0', '--metrics-address', '127.0.0.1:0']
  if (opts.scenario !== undefined) args.push('--scenario', opts.scenario)
  if (opts.apiProtocol !== undefined) args.push('--api-protocol', opts.apiProtocol)
  if (opts.tracing === false) args.push('--no-tracing')
  if (opts.token !== undefined) args.push('--token', opts.token)
  args.push(...(opts.extraArgs ?? []))

  const child = spawn(process.execPath, args, {cwd: packageRoot, env: {...process.env, ...opts.env}, stdio: ['ignore', 'pipe', 'pipe']})
  let stderr = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-MAX_STDERR_CHARS)
  })
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode)
    else child.once('exit', (code) => resolve(code))
  })

  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
      const code = await exited
      clearTimeout(timer)
      return code
    }
    return exited
  }

  const lines = createInterface({input: child.stdout as NodeJS.ReadableStream})
  let first: string
  try {
    first = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`demo did not start within ${SPAWN_TIMEOUT_MS / 1000}s`)), SPAWN_TIMEOUT_MS)
      lines.once('line', (line) => {
        clearTimeout(timer)
        resolve(line)
      })
      child.once('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
      void exited.then((code) => {
        clearTimeout(timer)
        reject(new Error(`demo exited (code ${code}) before it was ready`))
      })
    })
  } catch (err) {
    await stop()
    throw new Error(`${(err as Error).message}\n${stderr.trim()}`)
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  lines.on('line', () => undefined)

  let info: {api?: unknown; metrics?: unknown; pid?: unknown}
  try {
    info = JSON.parse(first) as typeof info
  } catch {
    await stop()
    throw new Error(`demo's first stdout line is not JSON: ${first}\n${stderr.trim()}`)
  }
  if (typeof info.api !== 'string' || typeof info.metrics !== 'string' || typeof info.pid !== 'number') {
    await stop()
    throw new Error(`demo's first stdout line lacks api/metrics/pid: ${first}`)
  }
  return {api: info.api, metrics: info.metrics, pid: info.pid, child, stderr: () => stderr, stop}
}
