/**
 * Looks for pipelines on this host when no --api was given: the default
 * address, addresses in this shell's VECTOR_* variables, and the listening
 * ports of processes named `vector` or running the vdiag demo. Every
 * candidate is asked `GET /health` briefly; only those that answer healthy
 * are offered. Never throws: what cannot be inspected is simply not found.
 */
import {addressesFromEnv, type EnvAddress} from './env-addresses.js'
import {findPipelineProcesses, type ProcScanOptions} from './proc-listeners.js'

/** Vector's default `api.address`. */
export const DEFAULT_API_URL = 'http://127.0.0.1:8686'
/**
 * /health answers from memory; 1.5 s still tolerates a loaded host while a
 * person waiting at the prompt does not notice. All candidates are probed at
 * once, so this bounds the whole probe.
 */
export const DISCOVERY_HEALTH_TIMEOUT_MS = 1_500
/** More candidates than this would not fit a prompt anyone reads. */
const MAX_CANDIDATES = 24

export interface PipelineCandidate {
  url: string
  /** Why it is a candidate: `VECTOR_API_ADDRESS`, `default address`, `vector (pid 42)`. */
  sources: string[]
}

export interface Discovery {
  /** Candidates that answered /health healthy, in the order: environment, default address, processes. */
  pipelines: PipelineCandidate[]
  /** Every address that was asked. */
  tried: PipelineCandidate[]
  /** VECTOR_* addresses off this host, which discovery does not probe. */
  offHost: EnvAddress[]
}

export interface DiscoverOptions extends ProcScanOptions {
  env?: NodeJS.ProcessEnv
  defaultUrl?: string
  timeoutMs?: number
  /** Replaceable for tests; default: checkHealth from src/attach/health.ts. */
  isHealthy?: (url: string, timeoutMs: number) => Promise<boolean>
}

export async function discoverPipelines(opts: DiscoverOptions = {}): Promise<Discovery> {
  const byUrl = new Map<string, PipelineCandidate>()
  const add = (url: string, source: string) => {
    const key = url.replace(/\/+$/, '')
    const c = byUrl.get(key)
    if (c) {
      if (!c.sources.includes(source)) c.sources.push(source)
    } else if (byUrl.size < MAX_CANDIDATES) {
      byUrl.set(key, {url: key, sources: [source]})
    }
  }
  // The shell's own variables first: the person configured them on purpose.
  const env = addressesFromEnv(opts.env ?? process.env)
  for (const a of env.found) add(a.url, a.variable)
  add(opts.defaultUrl ?? DEFAULT_API_URL, 'default address')
  const procs = await findPipelineProcesses({procRoot: opts.procRoot, selfPid: opts.selfPid ?? process.pid})
  for (const p of procs) for (const url of p.urls) add(url, `${p.kind} (pid ${p.pid})`)

  const tried = [...byUrl.values()]
  const healthy = opts.isHealthy ?? answersHealthy
  const timeoutMs = opts.timeoutMs ?? DISCOVERY_HEALTH_TIMEOUT_MS
  const ok = await Promise.all(tried.map((c) => healthy(c.url, timeoutMs).catch(() => false)))
  return {pipelines: tried.filter((_, i) => ok[i]), tried, offHost: env.offHost}
}

async function answersHealthy(url: string, timeoutMs: number): Promise<boolean> {
  const {checkHealth} = await import('../../attach/health.js')
  try {
    // No token here: discovery must not hand the admin token to whatever happens to listen on a port.
    await checkHealth({url, timeoutMs})
    return true
  } catch {
    return false
  }
}

/** One line per candidate, for prompts and messages. */
export function describeCandidate(c: PipelineCandidate): string {
  return `${c.url}  (${c.sources.join(', ')})`
}
