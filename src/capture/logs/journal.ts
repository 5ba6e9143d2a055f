/**
 * `journal:UNIT`: the unit's journal over the window through journalctl.
 * journalctl is asked for the newest entries first (`-r`), so reading can stop
 * as soon as `maxBytes` are in and what was read is the end of the window;
 * the entries are then put back in time order. A timeout bounds a slow
 * journal; the child is always killed before returning.
 */
import {spawn} from 'node:child_process'
import {access, constants} from 'node:fs/promises'
import path from 'node:path'

/** journalctl's stderr is only kept for its first lines (warnings, the reason for a failure). */
const MAX_STDERR_BYTES = 4 * 1024

export interface JournalOptions {
  since: Date
  until: Date
  maxBytes: number
  timeoutMs: number
  /** Path of journalctl. */
  journalctl: string
  signal?: AbortSignal
}

export interface JournalRead {
  outcome: 'ok' | 'failed' | 'timeout' | 'canceled'
  /** In time order. */
  lines: string[]
  bytesRead: number
  truncated: boolean
  /** journalctl's stderr, trimmed (may hold its warnings even on success). */
  stderr: string
  error?: string
}

/** journalctl on PATH, or null. */
export async function findJournalctl(envPath = process.env.PATH ?? ''): Promise<string | null> {
  for (const dir of envPath.split(path.delimiter)) {
    if (dir === '') continue
    const p = path.join(dir, 'journalctl')
    try {
      await access(p, constants.X_OK)
      return p
    } catch {
      // not here
    }
  }
  return null
}

/** A unit name as systemd allows it; anything else (an option, a path) is refused before it reaches argv. */
export function isValidUnit(unit: string): boolean {
  return /^[A-Za-z0-9:_.@\\-]{1,256}$/.test(unit) && !unit.startsWith('-')
}

export function journalArgs(unit: string, since: Date, until: Date): string[] {
  // Epoch seconds (`@N`) are unambiguous whatever the host's time zone.
  return ['-u', unit, '--since', `@${Math.floor(since.getTime() / 1000)}`, '--until', `@${Math.ceil(until.getTime() / 1000)}`, '-o', 'short-iso', '--no-pager', '-r']
}

export async function readJournal(unit: string, opts: JournalOptions): Promise<JournalRead> {
  const child = spawn(opts.journalctl, journalArgs(unit, opts.since, opts.until), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: ''},
  })
  const chunks: Buffer[] = []
  let bytes = 0
  let truncated = false
  let stderr = ''
  let stopped: 'timeout' | 'canceled' | 'full' | null = null
  const stop = (why: 'timeout' | 'canceled' | 'full') => {
    if (stopped !== null) return
    stopped = why
    child.stdout.destroy()
    child.kill(why === 'full' ? 'SIGTERM' : 'SIGKILL')
  }
  child.stdout.on('data', (d: Buffer) => {
    if (stopped !== null) return
    chunks.push(d)
    bytes += d.length
    if (bytes >= opts.maxBytes) {
      truncated = true
      stop('full')
    }
  })
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < MAX_STDERR_BYTES) stderr += d.slice(0, MAX_STDERR_BYTES - stderr.length)
  })
  const timer = setTimeout(() => {
    // Also when already stopping: a journalctl that ignored SIGTERM is killed here.
    stop('timeout')
    child.kill('SIGKILL')
    child.stderr.destroy()
  }, opts.timeoutMs)
  const onAbort = () => stop('canceled')
  opts.signal?.addEventListener('abort', onAbort, {once: true})
  if (opts.signal?.aborted) stop('canceled')

  let spawnError: Error | null = null
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', (e) => {
      spawnError = e
      resolve(null)
    })
    child.once('close', (c) => resolve(c))
  })
  clearTimeout(timer)
  opts.signal?.removeEventListener('abort', onAbort)

  const lines = newestFirstToTimeOrder(Buffer.concat(chunks).subarray(0, opts.maxBytes).toString('utf8'), truncated || stopped === 'timeout' || stopped === 'canceled')
  const base = {lines, bytesRead: Math.min(bytes, opts.maxBytes), truncated, stderr: stderr.trim()}
  if (spawnError !== null) return {...base, outcome: 'failed', error: `could not run journalctl: ${(spawnError as Error).message}`}
  if (stopped === 'timeout') return {...base, outcome: 'timeout', error: `journalctl did not finish within ${opts.timeoutMs} ms`}
  if (stopped === 'canceled') return {...base, outcome: 'canceled', error: 'canceled'}
  if (stopped === null && code !== 0) {
    return {...base, outcome: 'failed', error: `journalctl exited with status ${code}${stderr.trim() ? `: ${firstLine(stderr)}` : ''}`}
  }
  return {...base, outcome: 'ok'}
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0]!.trim()
}

/**
 * `-r` prints entries newest first, each entry's own lines in order (a
 * multi-line message continues on indented lines). Entries are regrouped and
 * reversed. When reading was cut short, the last line and the last entry may
 * be incomplete and are dropped.
 */
export function newestFirstToTimeOrder(text: string, cut: boolean): string[] {
  const raw = text.split('\n')
  if (cut) raw.pop()
  else if (raw.at(-1) === '') raw.pop()
  const groups: string[][] = []
  for (const line of raw) {
    if (line === '-- No entries --') continue
    if (/^[ \t]/.test(line) && groups.length > 0 && !groups.at(-1)![0]!.startsWith('-- ')) groups.at(-1)!.push(line)
    else groups.push([line])
  }
  if (cut) groups.pop()
  return groups.reverse().flat()
}
