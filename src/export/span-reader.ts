/**
 * Streams the bundle's span file (gzip NDJSON of SpanRecord) one validated
 * span at a time, so memory does not grow with the span count.
 */
import {createReadStream} from 'node:fs'
import {createGunzip} from 'node:zlib'
import readline from 'node:readline'
import {ENTRY, type SpanRecord} from '../bundle/format.js'
import {VdiagError, errorMessage} from '../errors.js'
import {parseU64} from './ids.js'

const DECIMAL_NS = /^\d{1,20}$/

export class SpanReader {
  /** Lines that parsed as JSON but were not a usable span. */
  skipped = 0
  read = 0

  constructor(readonly file: string) {}

  async *spans(): AsyncGenerator<SpanRecord> {
    const source = createReadStream(this.file)
    const gunzip = createGunzip()
    source.on('error', (e) => gunzip.destroy(e))
    source.pipe(gunzip)
    const lines = readline.createInterface({input: gunzip, crlfDelay: Infinity})
    let lineNo = 0
    try {
      for await (const line of lines) {
        lineNo++
        if (line.trim() === '') continue
        let value: unknown
        try {
          value = JSON.parse(line)
        } catch {
          throw new VdiagError('bundle_corrupt', `${ENTRY.spans} line ${lineNo} is not valid JSON.`, {
            hint: 'The span file is damaged; capture the bundle again.',
          })
        }
        const span = toSpan(value)
        if (span === null) {
          this.skipped++
          continue
        }
        this.read++
        yield span
      }
    } catch (error) {
      throw mapReadError(error, this.file)
    } finally {
      lines.close()
      source.destroy()
      gunzip.destroy()
    }
  }
}

function mapReadError(error: unknown, file: string): unknown {
  if (error instanceof VdiagError) return error
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOENT') {
    return new VdiagError('failed', `Nothing to export: the bundle has no span file (${ENTRY.spans}).`, {
      hint: 'Tracing was unavailable or not opened during the capture; the replay report still covers the metrics.',
    })
  }
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new VdiagError('bundle_corrupt', `${ENTRY.spans} is truncated or not gzip (${errorMessage(error)}).`, {
      hint: 'Capture the bundle again, or check the file was copied completely.',
      cause: error,
    })
  }
  return new VdiagError('bundle_corrupt', `Could not read ${file}: ${errorMessage(error)}`, {cause: error})
}

/** A SpanRecord with every field the exporters rely on checked, or null. */
export function toSpan(value: unknown): SpanRecord | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  const v = value as Record<string, unknown>
  if (parseU64(v.trace_id) === null || parseU64(v.span_id) === null || parseU64(v.parent_id) === null) return null
  if (typeof v.start !== 'string' || !DECIMAL_NS.test(v.start)) return null
  if (typeof v.duration !== 'string' || !DECIMAL_NS.test(v.duration)) return null
  // Above 2^53 ns (104 days) a duration can no longer be handled as a number.
  if (!Number.isSafeInteger(Number(v.duration))) return null
  const span: SpanRecord = {
    trace_id: v.trace_id as string,
    span_id: v.span_id as string,
    parent_id: v.parent_id as string,
    service: typeof v.service === 'string' ? v.service : '',
    name: typeof v.name === 'string' ? v.name : '',
    resource: typeof v.resource === 'string' ? v.resource : '',
    start: v.start,
    duration: v.duration,
    error: typeof v.error === 'number' && Number.isFinite(v.error) ? v.error : 0,
    meta: stringMap(v.meta),
    metrics: numberMap(v.metrics),
    payload: typeof v.payload === 'number' && Number.isFinite(v.payload) ? v.payload : -1,
  }
  if (typeof v.type === 'string' && v.type !== '') span.type = v.type
  if (typeof v.trace_id_high === 'string') span.trace_id_high = v.trace_id_high
  return span
}

// Null-prototype maps keep a hostile `__proto__` key as data.
function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null)
  if (typeof value !== 'object' || value === null) return out
  for (const [k, x] of Object.entries(value)) if (typeof x === 'string') out[k] = x
  return out
}

function numberMap(value: unknown): Record<string, number> {
  const out: Record<string, number> = Object.create(null)
  if (typeof value !== 'object' || value === null) return out
  for (const [k, x] of Object.entries(value)) if (typeof x === 'number' && Number.isFinite(x)) out[k] = x
  return out
}
