/**
 * Id and time conversions shared by the exporters. Datadog ids are uint64 and
 * epoch nanoseconds exceed 2^53, so both stay BigInt until they are written.
 */
import type {SpanRecord} from '../bundle/format.js'

const U64_MAX = (1n << 64n) - 1n
const DECIMAL_U64 = /^\d{1,20}$/
const HEX_U64 = /^[0-9a-fA-F]{1,16}$/
/** RFC 3339 with an optional fraction of up to nanoseconds (the manifest's window bounds). */
const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i

/** A decimal uint64 string as BigInt, or null when it is not one. */
export function parseU64(value: unknown): bigint | null {
  if (typeof value !== 'string' || !DECIMAL_U64.test(value)) return null
  const n = BigInt(value)
  return n <= U64_MAX ? n : null
}

export function hex16(value: bigint): string {
  return value.toString(16).padStart(16, '0')
}

/** Decimal uint64 string → 16 hex chars (callers pass validated spans). */
export function decToHex16(value: string): string {
  return hex16(BigInt(value))
}

/** Normalised high half of a 128-bit trace id, or null when absent or zero. */
export function normaliseHigh(value: unknown): string | null {
  if (typeof value !== 'string' || !HEX_U64.test(value)) return null
  const hex = value.toLowerCase().padStart(16, '0')
  return /^0+$/.test(hex) ? null : hex
}

/** The trace's high half: the span's own, else `_dd.p.tid` in its meta. */
export function spanHigh(span: SpanRecord): string | null {
  return normaliseHigh(span.trace_id_high) ?? normaliseHigh(span.meta['_dd.p.tid'])
}

/**
 * The OpenTelemetry 128-bit trace id: `_dd.p.tid` (or zeros) then the 64-bit
 * Datadog id, as the collector's datadogreceiver maps it.
 */
export function traceId128(span: SpanRecord, high: string | null): string {
  return (high ?? '0000000000000000') + decToHex16(span.trace_id)
}

/** RFC 3339 → epoch ns, or null. */
export function parseRfc3339Ns(value: string | null | undefined): bigint | null {
  if (!value) return null
  const m = RFC3339.exec(value)
  if (!m) return null
  const ms = Date.parse(`${m[1]}${m[3]}`)
  if (!Number.isFinite(ms)) return null
  const fraction = BigInt((m[2] ?? '').padEnd(9, '0'))
  return BigInt(ms) * 1_000_000n + fraction
}
