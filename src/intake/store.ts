/**
 * Where accepted payloads go: the normalised span stream (ENTRY.spans,
 * gzip NDJSON of SpanRecord), one raw body per payload (payloadEntry(seq))
 * and the payload index (ENTRY.payloadIndex), all under the bundle staging
 * directory. Spans are streamed through gzip as they are decoded; the only
 * per-payload memory is the body itself and what redaction re-encodes.
 *
 * Payloads are stored one at a time in the order accept() is called, so
 * spans are written in the order received.
 *
 * --max-spans keeps whole payloads, never part of one: payloads are kept in
 * arrival order while the next one fits under the cap; the first one that
 * does not fit closes the store to spans, and it and every later payload
 * are counted (spans_dropped_vdiag, payloads_dropped) and not stored, raw
 * body included. So the kept spans are a prefix of the capture in time, and
 * every stored raw body holds exactly the spans the span file has from it.
 */
import {createHash} from 'node:crypto'
import {createWriteStream, type WriteStream} from 'node:fs'
import {mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {finished, pipeline} from 'node:stream/promises'
import {createGzip, type Gzip, type ZlibOptions} from 'node:zlib'
import {ENTRY, payloadEntry, type PayloadRecord} from '../bundle/format.js'
import {VdiagError, errorMessage} from '../errors.js'
import type {DecodedPayload, WireSpan, WireSpanFields} from './decode.js'
import {MAX_REJECTIONS_KEPT} from './limits.js'
import {spanLine, tidFor, tidOf} from './normalise.js'
import {applySplices, reencodeSpanV04, reencodeV05, type Splice} from './reencode.js'
import {TraceIdSet} from './trace-count.js'

/** gzip level for the span file: level 3 compresses NDJSON spans ~2.5× faster than the default 6 for ~20 % more bytes, so compression keeps up with decoding on one core. */
export const SPANS_GZIP_LEVEL = 3
/** NDJSON bytes gathered before one write into gzip. */
const WRITE_CHUNK_BYTES = 256 * 1024
/** NDJSON buffers gzip may hold at once: lets decoding run ahead of compression (on the libuv pool) by a bounded amount. */
const WRITE_BUFFERS = 4
/** One such buffer; a line that cannot fit in an empty one is written on its own. */
const WRITE_BUFFER_BYTES = 1024 * 1024
/** gzip's own queue, for those long lines. */
const SPANS_BUFFER_BYTES = 1024 * 1024

export interface StoreCounts {
  /** Payloads stored (each has a raw body and an index line). */
  payloads: number
  /** Payloads refused as undecodable (400), plus any other refusal the server reports. */
  bad_payloads: number
  /** Payloads refused for size (413). */
  oversized_payloads: number
  spans_kept: number
  /** Spans of valid payloads not kept: over --max-spans, or after a write failure. */
  spans_dropped_vdiag: number
  /** Valid payloads not stored, for the same reasons. */
  payloads_dropped: number
  /**
   * Byte-identical re-sends of a payload already taken (stored or dropped):
   * dd-trace retries a request whose answer did not come within its 2 s
   * timeout, though the first one arrived. Answered 200, not counted again.
   */
  payloads_duplicate: number
  /** Distinct trace ids (low 64 bits) among the kept spans. */
  traces: number
}

export interface RejectRecord {
  status: number
  reason: string
  path: string
  at: string
}

export interface AcceptInput {
  payload: DecodedPayload
  method: string
  path: string
  /** Content-Type, X-Datadog-Trace-Count and Datadog-Meta-* (lower-cased names). */
  headers: Record<string, string>
  receivedAt: Date
}

export type AcceptResult =
  | {status: 'stored'; record: PayloadRecord}
  | {status: 'dropped'; spans: number}
  /** Already taken once (a tracer's retry); nothing stored or counted. */
  | {status: 'duplicate'; spans: number}
  | {status: 'failed'; reason: string}

export interface SpanStore {
  /** Stores a decoded payload; resolves once its spans, body and index line are written. Never rejects. */
  accept(input: AcceptInput): Promise<AcceptResult>
  /** Counts a payload the server refused before it reached the store (400 → bad, 413 → oversized). */
  rejected(r: {status: number; reason: string; path: string}): void
  counts(): StoreCounts
  /** The first refusals, with reasons (all are counted). */
  rejections(): readonly RejectRecord[]
  /** Waits for queued payloads, then finishes the gzip stream and the index. Idempotent. Rejects if anything could not be written. */
  close(): Promise<void>
}

export interface SpanStoreOptions {
  /** Bundle staging root. */
  dir: string
  maxSpans: number
  /** Called with each kept span's text fields; changes them in place and returns true when it changed anything. */
  redactSpan?: (span: WireSpanFields) => boolean
}

export async function createSpanStore(opts: SpanStoreOptions): Promise<SpanStore> {
  if (!Number.isSafeInteger(opts.maxSpans) || opts.maxSpans < 0) throw new RangeError(`maxSpans must be a non-negative integer, got ${opts.maxSpans}`)
  try {
    await mkdir(path.join(opts.dir, ENTRY.payloadDir), {recursive: true})
    const spans = createWriteStream(path.join(opts.dir, ENTRY.spans), {mode: 0o600})
    const index = createWriteStream(path.join(opts.dir, ENTRY.payloadIndex), {mode: 0o600})
    await Promise.all([opened(spans), opened(index)])
    return new FileSpanStore(opts, spans, index)
  } catch (e) {
    throw new VdiagError('failed', `cannot create the span store in ${opts.dir}: ${errorMessage(e)}`, {
      hint: 'check that the temporary directory is writable and has free space (TMPDIR chooses another)',
      cause: e,
    })
  }
}

function opened(s: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('open', () => resolve())
    s.once('error', reject)
  })
}

class FileSpanStore implements SpanStore {
  private readonly gzip: Gzip
  private readonly spansWritten: Promise<void>
  private readonly traceIds = new TraceIdSet()
  private readonly rejects: RejectRecord[] = []
  private readonly c: Omit<StoreCounts, 'traces'> = {payloads: 0, bad_payloads: 0, oversized_payloads: 0, spans_kept: 0, spans_dropped_vdiag: 0, payloads_dropped: 0, payloads_duplicate: 0}
  /** sha256 of every payload body taken so far: one entry per payload, not per span. */
  private readonly seen = new Set<string>()
  private queue: Promise<unknown> = Promise.resolve()
  private out: Buffer | null = null
  private outLength = 0
  private readonly freeBuffers: Buffer[] = []
  private buffersMade = 0
  private waiters: (() => void)[] = []
  private seq = 0
  private full = false
  private closing = false
  private closed: Promise<void> | null = null
  private failure: Error | null = null

  constructor(
    private readonly opts: SpanStoreOptions,
    spansFile: WriteStream,
    private readonly index: WriteStream,
  ) {
    // highWaterMark is passed through to the stream (ZlibOptions does not declare it)
    const options: ZlibOptions & {highWaterMark: number} = {level: SPANS_GZIP_LEVEL, chunkSize: 64 * 1024, highWaterMark: SPANS_BUFFER_BYTES}
    this.gzip = createGzip(options)
    this.spansWritten = pipeline(this.gzip, spansFile).catch((e: unknown) => this.fail(e))
    this.gzip.on('drain', () => this.wake())
    this.gzip.on('close', () => this.wake())
    index.on('error', (e) => this.fail(e))
  }

  private fail(e: unknown): void {
    this.failure ??= e instanceof Error ? e : new Error(String(e))
  }

  accept(input: AcceptInput): Promise<AcceptResult> {
    if (this.closing) return Promise.resolve({status: 'failed', reason: 'the span store is closed'})
    // store() handles its own failures; the catch only keeps the queue alive should that ever change
    const result = this.queue.then(() => this.store(input)).catch((e: unknown): AcceptResult => ({status: 'failed', reason: errorMessage(e)}))
    this.queue = result
    return result
  }

  rejected(r: {status: number; reason: string; path: string}): void {
    if (r.status === 413) this.c.oversized_payloads++
    else this.c.bad_payloads++
    if (this.rejects.length < MAX_REJECTIONS_KEPT) this.rejects.push({...r, at: new Date().toISOString()})
  }

  counts(): StoreCounts {
    return {...this.c, traces: this.traceIds.size}
  }

  rejections(): readonly RejectRecord[] {
    return this.rejects
  }

  private drop(spans: number): void {
    this.c.spans_dropped_vdiag += spans
    this.c.payloads_dropped++
  }

  private async store(input: AcceptInput): Promise<AcceptResult> {
    const p = input.payload
    // Span ids are random 64-bit values: identical bytes can only be the same payload sent twice.
    const digest = createHash('sha256').update(p.body).digest('base64')
    if (this.seen.has(digest)) {
      this.c.payloads_duplicate++
      return {status: 'duplicate', spans: p.spans}
    }
    this.seen.add(digest)
    if (this.failure) {
      this.drop(p.spans)
      return {status: 'failed', reason: `spans cannot be written: ${this.failure.message}`}
    }
    if (this.full || this.c.spans_kept + p.spans > this.opts.maxSpans) {
      this.full = true
      this.drop(p.spans)
      return {status: 'dropped', spans: p.spans}
    }
    const seq = this.seq++
    try {
      const body = await this.writeSpans(p, seq)
      const file = payloadEntry(seq)
      await writeFile(path.join(this.opts.dir, file), body, {mode: 0o600})
      const record: PayloadRecord = {
        seq,
        file,
        received_at: input.receivedAt.toISOString(),
        method: input.method,
        path: input.path,
        version: p.version,
        headers: input.headers,
        size: body.length,
        spans: p.spans,
        traces: p.traces,
        reencoded: body !== p.body,
      }
      this.index.write(JSON.stringify(record) + '\n')
      this.c.payloads++
      this.c.spans_kept += p.spans
      return {status: 'stored', record}
    } catch (e) {
      this.fail(e)
      this.drop(p.spans)
      return {status: 'failed', reason: `spans cannot be written: ${errorMessage(e)}`}
    }
  }

  /** Streams the payload's spans into the span file; returns the body to store (re-encoded when redaction changed a span). */
  private async writeSpans(p: DecodedPayload, seq: number): Promise<Buffer> {
    const redact = this.opts.redactSpan
    const cursor = p.cursor()
    let splices: Splice[] | null = null
    let changed: Map<number, WireSpanFields> | null = null
    let ordinal = 0
    for (let n = cursor.nextChunk(); n >= 0; n = cursor.nextChunk()) {
      let chunkTid: string | undefined
      let chunkTrace: WireSpan['trace_id'] = null
      for (let i = 0; i < n; i++) {
        const span = cursor.nextSpan()
        if (redact !== undefined && redact(span)) {
          if (p.version === 'v0.4') (splices ??= []).push({start: cursor.spanStart, end: cursor.spanEnd, bytes: reencodeSpanV04(p.body, cursor.spanStart, cursor.spanEnd, span)})
          else (changed ??= new Map()).set(ordinal, span)
        }
        ordinal++
        let tid: string | undefined
        if (i === 0) {
          tid = chunkTid = tidOf(span.meta)
          this.traceIds.add((chunkTrace = span.trace_id))
        } else {
          tid = tidFor(span, chunkTid)
          // a chunk is one trace; only look the id up when a span says otherwise
          if (span.trace_id !== chunkTrace) this.traceIds.add((chunkTrace = span.trace_id))
        }
        const line = spanLine(span, tid, seq)
        // UTF-8 takes at most 3 bytes per UTF-16 unit
        if (line.length * 3 > WRITE_BUFFER_BYTES) {
          await this.writeLong(line)
        } else {
          while (!this.room(line.length * 3)) await this.wait()
          this.outLength += this.out!.write(line, this.outLength, 'utf8')
          if (this.outLength >= WRITE_CHUNK_BYTES) this.handOver()
        }
      }
    }
    this.handOver()
    if (this.failure) throw this.failure
    if (splices) return applySplices(p.body, splices)
    if (changed) return reencodeV05(p, changed)
    return p.body
  }

  // Lines are written into one of a few buffers, handed to gzip when full and
  // reused once gzip has consumed them. (Joining lines into a string and
  // writing that costs a rope flattening and a new buffer per write, which V8
  // frees only at its next full collection: measured 4× slower, 2× the RSS.)

  /** True when the current buffer has `bytes` free; else hands it over and takes a free one, false if none is free yet. */
  private room(bytes: number): boolean {
    if (this.out !== null && this.out.length - this.outLength >= bytes) return true
    if (this.gzip.destroyed) throw this.failure ?? new Error('the span stream was closed')
    this.handOver()
    let buf = this.freeBuffers.pop()
    if (buf === undefined && this.buffersMade < WRITE_BUFFERS) {
      this.buffersMade++
      buf = Buffer.allocUnsafe(WRITE_BUFFER_BYTES)
    }
    if (buf === undefined) return false
    this.out = buf
    this.outLength = 0
    return true
  }

  /** Gives the current buffer's lines to gzip; the buffer returns to the pool once gzip has read them. */
  private handOver(): void {
    const buf = this.out
    if (buf === null) return
    const length = this.outLength
    this.out = null
    this.outLength = 0
    if (length === 0) {
      this.freeBuffers.push(buf)
      return
    }
    if (this.gzip.destroyed) return
    this.gzip.write(buf.subarray(0, length), () => {
      this.freeBuffers.push(buf)
      this.wake()
    })
  }

  /** A line too long for a buffer (a span with huge tags): written as a string, in order. */
  private async writeLong(line: string): Promise<void> {
    this.handOver()
    if (this.gzip.destroyed) throw this.failure ?? new Error('the span stream was closed')
    if (!this.gzip.write(line)) await this.wait()
  }

  private wake(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }

  /** Resolves when a buffer comes back, gzip drains, or gzip is gone. */
  private wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  close(): Promise<void> {
    return (this.closed ??= this.finish())
  }

  private async finish(): Promise<void> {
    this.closing = true
    await this.queue
    this.handOver()
    this.gzip.end()
    await this.spansWritten
    this.index.end()
    await finished(this.index).catch((e: unknown) => this.fail(e))
    if (this.failure) {
      throw new VdiagError('failed', `could not write the captured spans: ${this.failure.message}`, {
        hint: 'check free space in the temporary directory (TMPDIR chooses another)',
        cause: this.failure,
      })
    }
  }
}
