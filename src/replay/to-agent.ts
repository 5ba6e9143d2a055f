/**
 * `vdiag replay BUNDLE --to-agent URL`: every stored raw trace payload is sent
 * again, in capture order, to its original endpoint (v0.4 or v0.5) with its
 * original content headers, minus Datadog-Client-Computed-Stats so that the
 * receiving Agent computes stats itself. The bodies go as stored: byte for
 * byte what the pipeline sent, except payloads redaction re-encoded (flagged
 * in the index). --shift-to-now moves every span's start so that the latest
 * span ends now (Agents drop spans that are too old), keeping ids and
 * durations. One payload at a time, as a tracer does, with bounded retries.
 */
import {createReadStream} from 'node:fs'
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {createInterface} from 'node:readline'
import {ENTRY, payloadEntry, type PayloadRecord, type WireVersion} from '../bundle/format.js'
import {VdiagError, errorMessage} from '../errors.js'
import {AgentClient, AgentRequestError} from '../intake/agent-client.js'
import type {AgentUrl} from '../intake/agent-url.js'
import {decodePayload} from '../intake/decode.js'
import {resolveLimits} from '../intake/limits.js'
import {latestEnd, shiftStarts} from '../intake/shift.js'
import {forwardHeaders} from '../intake/tee.js'

/** One request: a local Agent reads and decodes even a 25 MiB payload in well under a second; 10 s allows for a busy one. */
export const SEND_TIMEOUT_MS = 10_000
/** Tries per payload. An Agent answering 429/5xx is usually overloaded or restarting; three retries over ~2 s ride that out. */
export const MAX_ATTEMPTS = 4
/** Wait before the first retry, doubled before each next one (250, 500, 1000 ms). */
export const RETRY_BACKOFF_MS = 250
/** Payloads in a row the Agent did not answer at all before the rest are given up on: no point in timing out on every one. */
export const MAX_UNANSWERED_PAYLOADS = 3

const TRACE_PATHS: Readonly<Record<string, WireVersion>> = {'/v0.4/traces': 'v0.4', '/v0.5/traces': 'v0.5'}
/** Tells the Agent the client computed stats already: dropped so the receiving Agent computes them. */
const COMPUTED_STATS = 'datadog-client-computed-stats'
/** Statuses worth another try: the Agent was busy (408, 429) or failing (5xx); any other refusal would be repeated. */
const retryable = (status: number): boolean => status === 408 || status === 429 || status >= 500

export interface PayloadSend {
  seq: number
  path: string
  spans: number
  /** Bytes of the body sent (after any shift). */
  bytes: number
  /** The Agent's last status; null when it never answered or nothing was sent. */
  status: number | null
  attempts: number
  accepted: boolean
  /** Why it was not accepted (or not sent). */
  error: string | null
}

export interface ToAgentReport {
  url: string
  bundle: string
  /** How far starts were moved, ns (decimal string); null without --shift-to-now. */
  shift_ns: string | null
  payloads: number
  accepted: number
  not_accepted: number
  spans: number
  spans_accepted: number
  bytes_sent: number
  results: PayloadSend[]
  /** The payloads not accepted, also in `results`. */
  failures: PayloadSend[]
}

export interface ToAgentOptions {
  bundle: string
  verify: boolean
  url: AgentUrl
  shiftToNow: boolean
  /** Epoch ns; injectable for tests. */
  nowNs?: () => bigint
  timeoutMs?: number
  maxAttempts?: number
  backoffMs?: number
  /** Called as each payload is done, for live output. */
  onResult?: (r: PayloadSend) => void
}

export async function sendBundleToAgent(opts: ToAgentOptions): Promise<ToAgentReport> {
  const {openBundle} = await import('../bundle/reader.js')
  const opened = await openBundle(opts.bundle, {verify: opts.verify})
  try {
    return await sendPayloads(opened.root, opts)
  } finally {
    await opened.cleanup()
  }
}

type IndexItem = {ok: true; record: PayloadRecord} | {ok: false; seq: number; path: string; spans: number; error: string}

/** The payload index, one line at a time, each line checked before anything is read on its word. */
async function* readIndex(root: string): AsyncGenerator<IndexItem> {
  const file = path.join(root, ENTRY.payloadIndex)
  const lines = createInterface({input: createReadStream(file, {encoding: 'utf8'}), crlfDelay: Infinity})
  let n = 0
  try {
    for await (const line of lines) {
      n++
      if (line.trim() === '') continue
      yield checkRecord(line, n)
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new VdiagError('failed', 'the bundle holds no trace payloads to send', {hint: 'it was captured without spans (see its manifest: collectors.tracing)'})
    }
    throw new VdiagError('bundle_corrupt', `cannot read ${ENTRY.payloadIndex}: ${errorMessage(e)}`)
  }
}

function checkRecord(line: string, n: number): IndexItem {
  let r: Partial<PayloadRecord>
  try {
    r = JSON.parse(line) as Partial<PayloadRecord>
  } catch {
    return {ok: false, seq: -1, path: '', spans: 0, error: `${ENTRY.payloadIndex} line ${n} is not JSON`}
  }
  const seq = typeof r.seq === 'number' && Number.isSafeInteger(r.seq) && r.seq >= 0 ? r.seq : -1
  const bad = (why: string): IndexItem => ({ok: false, seq, path: typeof r.path === 'string' ? r.path : '', spans: typeof r.spans === 'number' ? r.spans : 0, error: `${ENTRY.payloadIndex} line ${n}: ${why}`})
  if (seq < 0) return bad('no valid seq')
  if (typeof r.path !== 'string' || TRACE_PATHS[r.path] === undefined) return bad(`path ${JSON.stringify(r.path)} is not a trace endpoint`)
  if (r.version !== TRACE_PATHS[r.path]) return bad(`version ${JSON.stringify(r.version)} does not match ${r.path}`)
  // the body is looked up by seq, never by a name the index gives
  if (r.file !== payloadEntry(seq)) return bad(`file ${JSON.stringify(r.file)} is not ${payloadEntry(seq)}`)
  if (typeof r.headers !== 'object' || r.headers === null || Object.values(r.headers).some((v) => typeof v !== 'string')) return bad('headers are not a map of strings')
  return {ok: true, record: {...(r as PayloadRecord), spans: typeof r.spans === 'number' ? r.spans : 0}}
}

function sendHeaders(record: PayloadRecord): Record<string, string> {
  const headers = forwardHeaders(record.headers) as Record<string, string>
  delete headers[COMPUTED_STATS]
  return headers
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Sends the payloads of an opened (extracted or in-place) bundle. */
export async function sendPayloads(root: string, opts: Omit<ToAgentOptions, 'bundle' | 'verify'> & {bundle?: string}): Promise<ToAgentReport> {
  const limits = resolveLimits()
  const client = new AgentClient(opts.url)
  const results: PayloadSend[] = []
  const done = (r: PayloadSend): void => {
    results.push(r)
    try {
      opts.onResult?.(r)
    } catch {
      // printing is not sending
    }
  }
  try {
    let shift: bigint | null = null
    if (opts.shiftToNow) {
      // first pass: when does the capture's last span end?
      let latest: bigint | null = null
      for await (const item of readIndex(root)) {
        if (!item.ok) continue
        const body = await readFile(path.join(root, item.record.file)).catch(() => null)
        const decoded = body && decodePayload(item.record.version, body, limits)
        if (!decoded?.ok) continue
        const end = latestEnd(decoded.payload)
        if (end !== null && (latest === null || end > latest)) latest = end
      }
      const now = (opts.nowNs ?? (() => BigInt(Date.now()) * 1_000_000n))()
      shift = latest === null ? 0n : now - latest
    }

    let unanswered = 0
    for await (const item of readIndex(root)) {
      if (!item.ok) {
        done({seq: item.seq, path: item.path, spans: item.spans, bytes: 0, status: null, attempts: 0, accepted: false, error: item.error})
        continue
      }
      const record = item.record
      const base = {seq: record.seq, path: record.path, spans: record.spans}
      if (unanswered >= MAX_UNANSWERED_PAYLOADS) {
        done({...base, bytes: 0, status: null, attempts: 0, accepted: false, error: `not sent: the Agent did not answer the previous ${MAX_UNANSWERED_PAYLOADS} payloads`})
        continue
      }
      let body: Buffer
      try {
        body = await readFile(path.join(root, record.file))
      } catch (e) {
        done({...base, bytes: 0, status: null, attempts: 0, accepted: false, error: `cannot read ${record.file}: ${errorMessage(e)}`})
        continue
      }
      if (shift !== null) {
        const decoded = decodePayload(record.version, body, limits)
        if (!decoded.ok) {
          done({...base, bytes: 0, status: null, attempts: 0, accepted: false, error: `cannot shift ${record.file}: ${decoded.reason}`})
          continue
        }
        body = shiftStarts(decoded.payload, shift)
      }
      const r = await sendOne(client, record, body, opts)
      unanswered = r.status === null ? unanswered + 1 : 0
      done({...base, ...r})
    }
    const failures = results.filter((r) => !r.accepted)
    const accepted = results.filter((r) => r.accepted)
    return {
      url: opts.url.origin,
      bundle: opts.bundle ?? root,
      shift_ns: shift === null ? null : shift.toString(),
      payloads: results.length,
      accepted: accepted.length,
      not_accepted: failures.length,
      spans: results.reduce((a, r) => a + r.spans, 0),
      spans_accepted: accepted.reduce((a, r) => a + r.spans, 0),
      bytes_sent: accepted.reduce((a, r) => a + r.bytes, 0),
      results,
      failures,
    }
  } finally {
    client.close()
  }
}

async function sendOne(client: AgentClient, record: PayloadRecord, body: Buffer, opts: Pick<ToAgentOptions, 'timeoutMs' | 'maxAttempts' | 'backoffMs'>): Promise<Pick<PayloadSend, 'bytes' | 'status' | 'attempts' | 'accepted' | 'error'>> {
  const maxAttempts = Math.max(1, opts.maxAttempts ?? MAX_ATTEMPTS)
  const method = record.method === 'POST' ? 'POST' : 'PUT'
  const headers = sendHeaders(record)
  let status: number | null = null
  let error: string | null = null
  let attempts = 0
  while (attempts < maxAttempts) {
    if (attempts > 0) await sleep((opts.backoffMs ?? RETRY_BACKOFF_MS) * 2 ** (attempts - 1))
    attempts++
    try {
      const reply = await client.request({method, path: record.path, headers, body, timeoutMs: opts.timeoutMs ?? SEND_TIMEOUT_MS})
      status = reply.status
      if (status >= 200 && status < 300) return {bytes: body.length, status, attempts, accepted: true, error: null}
      const text = reply.body.toString('utf8', 0, Math.min(reply.body.length, 200)).trim()
      error = `the Agent answered ${status}${text ? `: ${text}` : ''}`
      if (!retryable(status)) break
    } catch (e) {
      // an answer on an earlier try says the Agent is there; keep its status
      error = e instanceof AgentRequestError ? e.message : errorMessage(e)
    }
  }
  return {bytes: body.length, status, attempts, accepted: false, error}
}
