/**
 * The end of a log file, read with one positioned read: never more than
 * `maxBytes` in memory, whatever the file's size, and cut at a line boundary
 * so the first line kept is whole.
 */
import {constants, open} from 'node:fs/promises'
import {lineTimestamp} from './timestamps.js'

export interface FileTail {
  lines: string[]
  bytesRead: number
  /** The file held more than what was read. */
  truncated: boolean
}

export class LogReadError extends Error {}

/** A crash can leave a run of NUL bytes in a text log; more than this share means the file is not text (gzip, binary). */
const MAX_NUL_FRACTION = 0.01

function countNuls(b: Buffer): number {
  let n = 0
  for (let i = b.indexOf(0); i >= 0; i = b.indexOf(0, i + 1)) n++
  return n
}

export async function readTail(file: string, maxBytes: number): Promise<FileTail> {
  let fh
  try {
    // O_NONBLOCK: a FIFO given by mistake must not block the capture; it is refused below as not a regular file.
    fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new LogReadError(code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (e as Error).message)
  }
  try {
    const st = await fh.stat()
    if (!st.isFile()) throw new LogReadError('not a regular file')
    const start = Math.max(0, st.size - maxBytes)
    const buf = Buffer.alloc(st.size - start)
    let got = 0
    // The file may shrink meanwhile (rotation): keep what could be read.
    while (got < buf.length) {
      const {bytesRead} = await fh.read(buf, got, buf.length - got, start + got)
      if (bytesRead === 0) break
      got += bytesRead
    }
    let body = buf.subarray(0, got)
    const nuls = countNuls(body)
    if (nuls > body.length * MAX_NUL_FRACTION) throw new LogReadError('binary content (NUL bytes): compressed or binary logs are not collected')
    if (nuls > 0) body = Buffer.from(body.filter((b) => b !== 0))
    if (start > 0) {
      // The first line read is a fragment of a longer one.
      const nl = body.indexOf(0x0a)
      body = nl < 0 ? body.subarray(body.length) : body.subarray(nl + 1)
    }
    const text = body.toString('utf8')
    const lines = text.split(/\r?\n/)
    if (lines.at(-1) === '') lines.pop()
    return {lines, bytesRead: got, truncated: start > 0}
  } finally {
    await fh.close()
  }
}

/** Timestamps must start at least this share of the lines for the file to count as timestamped (the rest are continuations: stack traces, multi-line messages). */
export const MIN_STAMPED_FRACTION = 0.25
/** Some formats stamp whole seconds: a line stamped 12:00:00 belongs to a window opened at 12:00:00.4. */
export const WINDOW_SLACK_MS = 1_000

export interface Selection {
  lines: string[]
  mode: 'window' | 'tail'
  first: number | null
  last: number | null
}

/**
 * The lines of the window when the lines carry timestamps: a stamped line is
 * kept when its time falls in [since, until] (plus slack), an unstamped line
 * goes with the stamped line before it. Otherwise every line (the tail).
 */
export function selectWindow(lines: string[], since: number, until: number): Selection {
  const stamps = lines.map(lineTimestamp)
  let stamped = 0
  let nonEmpty = 0
  let first: number | null = null
  let last: number | null = null
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '') nonEmpty++
    const t = stamps[i]
    if (t === null || t === undefined) continue
    stamped++
    if (first === null) first = t
    last = t
  }
  if (stamped === 0 || stamped < nonEmpty * MIN_STAMPED_FRACTION) return {lines, mode: 'tail', first, last}
  const kept: string[] = []
  // Lines before the first stamp continue a record from before the tail: its time is unknown.
  let keep = false
  for (let i = 0; i < lines.length; i++) {
    const t = stamps[i]
    if (t !== null && t !== undefined) keep = t >= since - WINDOW_SLACK_MS && t <= until + WINDOW_SLACK_MS
    if (keep) kept.push(lines[i]!)
  }
  return {lines: kept, mode: 'window', first, last}
}
