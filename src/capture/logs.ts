/**
 * `--logs`: the end of the pipeline's logs over the capture window, redacted
 * line by line. A spec is a file path (its tail: the last `maxBytes` at most,
 * cut at a line; then the window's lines when the lines carry timestamps) or
 * `journal:UNIT` (journalctl, when it is installed). Every spec gets a record
 * with its status; nothing here throws for a bad spec.
 */
import path from 'node:path'
import {ENTRY, logEntry, type LogCollection, type LogSourceRecord} from '../bundle/format.js'
import type {Redactor} from '../bundle/redaction.js'
import {readTail, selectWindow} from './logs/file-tail.js'
import {findJournalctl, isValidUnit, readJournal} from './logs/journal.js'
import {lineTimestamp} from './logs/timestamps.js'

const MiB = 1024 * 1024
/** sos report's default per-log tail: enough for hours of a pipeline's own logs. */
export const DEFAULT_LOG_MAX_BYTES = 25 * MiB
/** journalctl filtering one unit over minutes answers in well under a second; a large, cold journal can take seconds. */
export const DEFAULT_JOURNAL_TIMEOUT_MS = 20_000
export const JOURNAL_PREFIX = 'journal:'

export interface LogOptions {
  since: Date
  until: Date
  /** Cap per spec; the end is kept. */
  maxBytes: number
  redactor: Redactor
  journalTimeoutMs?: number
  /** Path of journalctl; default: looked up on PATH. null: treat it as absent. */
  journalctl?: string | null
  /** Aborting stops a running journalctl and marks the remaining specs canceled. */
  signal?: AbortSignal
}

export interface LogDocument {
  /** Bundle entry, e.g. `logs/01-vector.log`. */
  entry: string
  /** Redacted lines, newline-terminated. */
  text: string
}

export interface CollectedLogs {
  /** What goes to logs/index.json (already redacted). */
  collection: LogCollection
  documents: LogDocument[]
}

function iso(t: number | null): string | null {
  return t === null ? null : new Date(t).toISOString()
}

function stampRange(lines: string[]): {first: number | null; last: number | null} {
  let first: number | null = null
  let last: number | null = null
  for (const l of lines) {
    const t = lineTimestamp(l)
    if (t === null) continue
    first ??= t
    last = t
  }
  return {first, last}
}

export async function collectLogs(specs: string[], opts: LogOptions): Promise<CollectedLogs> {
  const since = opts.since.getTime()
  const until = opts.until.getTime()
  if (!Number.isFinite(since) || !Number.isFinite(until) || since > until) throw new RangeError('collectLogs: since must be a valid date no later than until')
  if (!Number.isSafeInteger(opts.maxBytes) || opts.maxBytes <= 0) throw new RangeError('collectLogs: maxBytes must be a positive integer')
  const {redactor} = opts
  const index = ENTRY.logsIndex
  const sources: LogSourceRecord[] = []
  const documents: LogDocument[] = []
  let n = 0
  let journalctl: string | null | undefined = opts.journalctl

  for (const spec of specs) {
    const t0 = performance.now()
    const isJournal = spec.startsWith(JOURNAL_PREFIX)
    const rec: LogSourceRecord = {
      spec: redactor.redactText(spec, index, 'sources[].spec'),
      kind: isJournal ? 'journal' : 'file',
      entry: null,
      status: 'ok',
      selection: null,
      bytes_read: 0,
      truncated: false,
      lines: 0,
      first_timestamp: null,
      last_timestamp: null,
      duration_ms: 0,
    }
    const finish = (fields: Partial<LogSourceRecord>) => {
      Object.assign(rec, fields)
      if (rec.error !== undefined) rec.error = redactor.redactText(rec.error, index, 'sources[].error')
      if (rec.note !== undefined) rec.note = redactor.redactText(rec.note, index, 'sources[].note')
      rec.duration_ms = Math.round(performance.now() - t0)
      sources.push(rec)
    }
    const keep = (name: string, lines: string[]) => {
      if (lines.length === 0) return
      const entry = logEntry(++n, name)
      // One line redactor per file: a private key dumped over several lines goes whole.
      const redactLine = redactor.lineRedactor(entry)
      documents.push({entry, text: lines.map(redactLine).join('\n') + '\n'})
      rec.entry = entry
      rec.lines = lines.length
    }

    if (opts.signal?.aborted) {
      finish({status: 'canceled', error: 'canceled before it was read'})
      continue
    }

    if (isJournal) {
      const unit = spec.slice(JOURNAL_PREFIX.length)
      if (!isValidUnit(unit)) {
        finish({status: 'failed', error: `"${unit}" is not a systemd unit name (journal:UNIT, e.g. journal:vector.service)`})
        continue
      }
      if (journalctl === undefined) journalctl = await findJournalctl()
      if (journalctl === null) {
        finish({status: 'skipped', error: 'journalctl is not installed on this host (no systemd journal to read)'})
        continue
      }
      const r = await readJournal(unit, {since: opts.since, until: opts.until, maxBytes: opts.maxBytes, timeoutMs: opts.journalTimeoutMs ?? DEFAULT_JOURNAL_TIMEOUT_MS, journalctl, signal: opts.signal})
      keep(`journal-${unit}`, r.lines)
      const {first, last} = stampRange(r.lines)
      const fields: Partial<LogSourceRecord> = {
        status: r.outcome,
        selection: 'journal',
        bytes_read: r.bytesRead,
        truncated: r.truncated,
        first_timestamp: iso(first),
        last_timestamp: iso(last),
      }
      if (r.error !== undefined) fields.error = r.error
      const notes = [r.stderr ? `journalctl said: ${r.stderr.split('\n').slice(0, 3).join(' / ')}` : '', r.outcome === 'ok' && r.lines.length === 0 ? 'no journal entries for this unit in the window' : '']
        .filter(Boolean)
        .join('; ')
      if (notes) fields.note = notes
      finish(fields)
      continue
    }

    try {
      const tail = await readTail(spec, opts.maxBytes)
      const sel = selectWindow(tail.lines, since, until)
      keep(path.basename(spec), sel.lines)
      const fields: Partial<LogSourceRecord> = {
        selection: sel.mode,
        bytes_read: tail.bytesRead,
        truncated: tail.truncated,
        first_timestamp: iso(sel.first),
        last_timestamp: iso(sel.last),
      }
      if (sel.lines.length === 0) {
        fields.note =
          tail.lines.length === 0
            ? tail.truncated
              ? `the last ${opts.maxBytes} bytes hold no complete line`
              : 'the file is empty'
            : `no line in the window; the lines read are stamped from ${iso(sel.first)} to ${iso(sel.last)}`
      }
      finish(fields)
    } catch (e) {
      finish({status: 'failed', error: e instanceof Error ? e.message : String(e)})
    }
  }
  return {collection: {since: opts.since.toISOString(), until: opts.until.toISOString(), max_bytes: opts.maxBytes, sources}, documents}
}
