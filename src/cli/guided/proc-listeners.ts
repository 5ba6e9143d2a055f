/**
 * Which local processes that look like a pipeline (Vector, or the vdiag demo)
 * listen on which TCP ports, read from Linux's /proc: LISTEN sockets from
 * /proc/net/tcp{,6}, mapped by socket inode to /proc/<pid>/fd, named by
 * /proc/<pid>/cmdline. Best effort by design: on another OS, without /proc,
 * or for a process we may not inspect, it finds less, and it never throws.
 */
import {readdir, readFile, readlink} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

/** Bounds, so a host with a huge process table or a process with a huge fd table cannot stall the prompt. */
const MAX_PROCESSES_SCANNED = 10_000
const MAX_FDS_PER_PROCESS = 10_000
/** cmdline is read only to name the program; its first few KiB are plenty. */
const MAX_CMDLINE_CHARS = 4_096
/** A pipeline listens on a handful of ports (API, metrics, sources); more are not worth probing. */
const MAX_PORTS_PER_PROCESS = 16
/** `node [a few runtime flags] bin/run.js demo`: the program is among the first arguments. */
const MAX_ARGS_BEFORE_SUBCOMMAND = 4

/** TCP state 0A is LISTEN (include/net/tcp_states.h). */
const TCP_LISTEN = '0A'

export interface ListenSocket {
  /** The bound address as text: `0.0.0.0`, `127.0.0.1`, `::`, `::1`, ... */
  address: string
  port: number
  inode: string
}

export interface PipelineProcess {
  pid: number
  /** What it is, for the person choosing: `vector` or `vdiag demo`. */
  kind: 'vector' | 'vdiag demo'
  /** Loopback URLs (http://host:port) at which its listening ports can be reached from here. */
  urls: string[]
}

export interface ProcScanOptions {
  /** Tests point this at a fake tree; default /proc. */
  procRoot?: string
  /** Skip this pid (ourselves). */
  selfPid?: number
}

export async function findPipelineProcesses(opts: ProcScanOptions = {}): Promise<PipelineProcess[]> {
  const root = opts.procRoot ?? '/proc'
  try {
    const listening = new Map<string, ListenSocket>()
    for (const [file, family] of [['tcp', 4], ['tcp6', 6]] as const) {
      const text = await readFile(path.join(root, 'net', file), 'utf8').catch(() => '')
      for (const s of parseProcNetTcp(text, family)) listening.set(s.inode, s)
    }
    if (listening.size === 0) return []

    const pids = (await readdir(root).catch(() => [] as string[])).filter((n) => /^\d+$/.test(n)).slice(0, MAX_PROCESSES_SCANNED)
    const found: PipelineProcess[] = []
    for (const name of pids) {
      const pid = Number(name)
      if (pid === opts.selfPid) continue
      const kind = await processKind(root, pid)
      if (!kind) continue
      const urls = new Set<string>()
      for (const inode of await socketInodes(root, pid)) {
        const s = listening.get(inode)
        const url = s ? loopbackUrl(s.address, s.port) : null
        if (url) urls.add(url)
        if (urls.size >= MAX_PORTS_PER_PROCESS) break
      }
      if (urls.size) found.push({pid, kind, urls: [...urls]})
    }
    return found
  } catch {
    return []
  }
}

/** LISTEN sockets of one /proc/net/tcp or tcp6 table. Malformed lines are skipped. */
export function parseProcNetTcp(text: string, family: 4 | 6, littleEndian = os.endianness() === 'LE'): ListenSocket[] {
  const out: ListenSocket[] = []
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
    if (f.length < 10 || f[3] !== TCP_LISTEN) continue
    const [hexAddr, hexPort] = f[1].split(':')
    const address = decodeAddress(hexAddr ?? '', family, littleEndian)
    const port = Number.parseInt(hexPort ?? '', 16)
    const inode = f[9]
    if (address === null || !Number.isInteger(port) || port <= 0 || port > 65_535 || !/^\d+$/.test(inode) || inode === '0') continue
    out.push({address, port, inode})
  }
  return out
}

/**
 * The kernel prints addresses as 32-bit words in host byte order: one word
 * for IPv4, four for IPv6.
 */
function decodeAddress(hex: string, family: 4 | 6, littleEndian: boolean): string | null {
  const words = family === 4 ? 1 : 4
  if (!new RegExp(`^[0-9A-Fa-f]{${words * 8}}$`).test(hex)) return null
  const bytes: number[] = []
  for (let w = 0; w < words; w++) {
    const word = [0, 1, 2, 3].map((i) => Number.parseInt(hex.slice(w * 8 + i * 2, w * 8 + i * 2 + 2), 16))
    bytes.push(...(littleEndian ? word.reverse() : word))
  }
  if (family === 4) return bytes.join('.')
  const groups = []
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16))
  // URL canonicalises IPv6 text (`::1`, `::ffff:7f00:1`).
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1)
}

/**
 * Where a listening socket can be reached from this host over loopback, or
 * null. Discovery only ever probes loopback: a socket bound to one specific
 * non-loopback address is left out (the user can still pass --api).
 */
export function loopbackUrl(address: string, port: number): string | null {
  if (address === '0.0.0.0' || address.startsWith('127.')) return `http://${address === '0.0.0.0' ? '127.0.0.1' : address}:${port}`
  if (address === '::' || address === '::1') return `http://[::1]:${port}`
  // IPv4-mapped, as URL prints them: ::ffff:7f00:1 is 127.0.0.1, ::ffff:0:0 is 0.0.0.0.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(address)
  if (mapped) {
    const hi = Number.parseInt(mapped[1], 16)
    const lo = Number.parseInt(mapped[2], 16)
    return loopbackUrl([hi >> 8, hi & 255, lo >> 8, lo & 255].join('.'), port)
  }
  return null
}

async function processKind(root: string, pid: number): Promise<PipelineProcess['kind'] | null> {
  const dir = path.join(root, String(pid))
  const raw = await readFile(path.join(dir, 'cmdline'), 'utf8').catch(() => '')
  const argv = raw.slice(0, MAX_CMDLINE_CHARS).split('\0').filter(Boolean)
  if (argv.length === 0) return null
  const comm = (await readFile(path.join(dir, 'comm'), 'utf8').catch(() => '')).trim()
  if (comm === 'vector' || path.basename(argv[0]) === 'vector') return 'vector'
  const cwd = await readlink(path.join(dir, 'cwd')).catch(() => '/')
  return (await isVdiagDemo(argv, cwd)) ? 'vdiag demo' : null
}

/**
 * `vdiag demo`, `node …/bin/vdiag demo` or `node bin/run.js demo` run from a
 * vdiag checkout. `run.js` alone is too common a name, so it counts only when
 * the package.json next to its bin folder names vdiag.
 */
export async function isVdiagDemo(argv: string[], cwd: string): Promise<boolean> {
  for (let i = 0; i < Math.min(argv.length - 1, MAX_ARGS_BEFORE_SUBCOMMAND); i++) {
    const arg = argv[i]
    if (argv[i + 1] !== 'demo') continue
    if (path.basename(arg) === 'vdiag') return true
    if (path.basename(arg) === 'run.js' && path.basename(path.dirname(arg)) === 'bin') {
      const pkg = path.join(path.resolve(cwd, arg), '..', '..', 'package.json')
      const name = await readFile(pkg, 'utf8').then((t) => (JSON.parse(t) as {name?: unknown}).name, () => null)
      if (name === 'vdiag') return true
    }
  }
  return false
}

async function socketInodes(root: string, pid: number): Promise<string[]> {
  const fdDir = path.join(root, String(pid), 'fd')
  const fds = (await readdir(fdDir).catch(() => [] as string[])).slice(0, MAX_FDS_PER_PROCESS)
  const inodes: string[] = []
  for (const fd of fds) {
    const target = await readlink(path.join(fdDir, fd)).catch(() => '')
    const m = /^socket:\[(\d+)\]$/.exec(target)
    if (m) inodes.push(m[1])
  }
  return inodes
}
