/**
 * Host facts next to the spans, so support can tell a slow sink from a starved
 * host. Only cheap, local calls: no `versions()` without a list (it spawns ~30
 * processes), no `inetLatency()` (it pings a public address), nothing that
 * needs root. Each call has its own timeout and reports its own status.
 */
import os from 'node:os'

/** systeminformation calls take < 150 ms here; 3 s means something is stuck. */
const CALL_TIMEOUT_MS = 3_000

export interface HostFacts {
  collected_at: string
  node: {version: string; platform: string; arch: string}
  os: Record<string, unknown>
  cpu: Record<string, unknown>
  load: Record<string, unknown>
  memory: Record<string, unknown>
  filesystems: unknown[]
  network_interfaces: unknown[]
  time: Record<string, unknown>
  /** One entry per call: ok, or why it is missing. */
  status: Record<string, {ok: boolean; error?: string; duration_ms: number}>
}

async function timed<T>(name: string, status: HostFacts['status'], fn: () => Promise<T>, fallback: T): Promise<T> {
  const t0 = performance.now()
  let timer: NodeJS.Timeout | undefined
  try {
    const value = await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS)
        timer.unref()
      }),
    ])
    status[name] = {ok: true, duration_ms: Math.round(performance.now() - t0)}
    return value
  } catch (e) {
    status[name] = {ok: false, error: e instanceof Error ? e.message : String(e), duration_ms: Math.round(performance.now() - t0)}
    return fallback
  } finally {
    clearTimeout(timer)
  }
}

/** Bounds the whole collection (each call has its own 3 s) should a shell command systeminformation runs never return. */
export const HOST_FACTS_WORKER_TIMEOUT_MS = 20_000

/**
 * Collects in a worker thread. systeminformation runs shell commands
 * synchronously (execSync: `date`, `hostname -f`, and `ip`/`ethtool`-style
 * probes per network interface), which blocked vdiag's event loop for 1–3 s
 * right after the window opened on a loaded host: the intake then answered
 * the pipeline's first payloads after dd-trace's 2 s request timeout, the
 * pipeline counted them as dropped although they had arrived, and retried.
 */
export async function collectHostFacts(): Promise<HostFacts> {
  const {Worker} = await import('node:worker_threads')
  const worker = new Worker(new URL('./host-facts-worker.js', import.meta.url))
  let timer: NodeJS.Timeout | undefined
  try {
    return await new Promise<HostFacts>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`host facts not collected within ${HOST_FACTS_WORKER_TIMEOUT_MS} ms`)), HOST_FACTS_WORKER_TIMEOUT_MS)
      worker.once('message', (facts: HostFacts) => resolve(facts))
      worker.once('error', reject)
      worker.once('exit', (code) => reject(new Error(`the host facts worker exited (code ${code}) without an answer`)))
    })
  } finally {
    clearTimeout(timer)
    await worker.terminate()
  }
}

/** The collection itself, on the calling thread (the worker runs this). */
export async function collectHostFactsHere(): Promise<HostFacts> {
  const status: HostFacts['status'] = {}
  const si = (await import('systeminformation')).default
  const [osInfo, cpu, load, mem, fsSize, nets, time] = await Promise.all([
    timed('os', status, () => si.osInfo(), null),
    timed('cpu', status, () => si.cpu(), null),
    timed('load', status, () => si.currentLoad(), null),
    timed('memory', status, () => si.mem(), null),
    timed('filesystems', status, () => si.fsSize(), []),
    timed('network_interfaces', status, async () => {
      const n = await si.networkInterfaces()
      return Array.isArray(n) ? n : [n]
    }, []),
    timed('time', status, async () => si.time(), null),
  ])
  return {
    collected_at: new Date().toISOString(),
    node: {version: process.version, platform: process.platform, arch: process.arch},
    os: osInfo ? {platform: osInfo.platform, distro: osInfo.distro, release: osInfo.release, kernel: osInfo.kernel, arch: osInfo.arch, hostname: osInfo.hostname, virtual: (osInfo as {hypervizor?: string}).hypervizor ?? null} : {hostname: os.hostname()},
    cpu: cpu ? {manufacturer: cpu.manufacturer, brand: cpu.brand, speed_ghz: cpu.speed, cores: cpu.cores, physical_cores: cpu.physicalCores, virtualization: cpu.virtualization} : {cores: os.cpus().length},
    load: load ? {current_pct: round(load.currentLoad), user_pct: round(load.currentLoadUser), system_pct: round(load.currentLoadSystem), loadavg: os.loadavg()} : {loadavg: os.loadavg()},
    memory: mem ? {total: mem.total, available: mem.available, used: mem.used, swap_total: mem.swaptotal, swap_used: mem.swapused} : {total: os.totalmem(), free: os.freemem()},
    filesystems: (fsSize ?? []).map((f) => ({fs: f.fs, type: f.type, mount: f.mount, size: f.size, used: f.used, use_pct: f.use})),
    network_interfaces: (nets ?? []).map((n) => {
      const i = n as {iface: string; ip4: string; ip6: string; mac: string; internal: boolean; operstate: string; speed: number | null; type: string}
      return {iface: i.iface, ip4: i.ip4, ip6: i.ip6, internal: i.internal, operstate: i.operstate, speed_mbit: i.speed, type: i.type}
    }),
    time: time ? {current: time.current, uptime_s: time.uptime, timezone: time.timezone} : {current: Date.now(), uptime_s: os.uptime()},
    status,
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10
}
