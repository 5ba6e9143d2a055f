/**
 * Every bound the intake enforces, with the reason for its value. The intake
 * faces whatever a local process sends it, so each limit exists to keep one
 * hostile request from costing more memory or CPU than a real tracer's
 * largest payload would.
 */

export interface IntakeLimits {
  /** Largest request body read; beyond it the reply is 413. */
  maxBodyBytes: number
  /** Request bodies held in memory at once (being read or being stored); further requests wait their turn. */
  maxPayloadsInFlight: number
  /** Deepest msgpack nesting accepted anywhere in a payload. */
  maxDepth: number
  /** Longest single str/bin value, in bytes. */
  maxStringBytes: number
  /** Largest span: its bytes on the wire (v0.4) or the bytes of the strings it references (v0.5). */
  maxSpanBytes: number
  /** msgpack values (keys included) inside one span. */
  maxValuesPerSpan: number
  /** Spans in one payload. */
  maxSpansPerPayload: number
  /** Entries in a v0.5 string table. */
  maxStringTable: number
  /** Sum over all spans of a v0.5 payload of the string bytes they reference. */
  maxExpandedBytes: number
}

const MiB = 1024 * 1024

export const DEFAULT_LIMITS: Readonly<IntakeLimits> = Object.freeze({
  // The Agent's MaxRequestBytes (apm_config.max_payload_size) since 7.43; dd-trace
  // flushes at 8 MiB, so real payloads stay well under it.
  maxBodyBytes: 25 * MiB,
  // dd-trace sends one request at a time per process; two slots let a second
  // tracer (or the next payload) be read while one is stored, and cap body
  // memory at 2 × maxBodyBytes however many connections are open.
  maxPayloadsInFlight: 2,
  // The deepest real structure is a v0.4 span event: payload > chunk > span >
  // span_events > event > attributes > typed value > array_value > values > value (10).
  maxDepth: 16,
  // dd-trace truncates meta values to 25,000 chars (MAX_META_VALUE_LENGTH), at
  // most 100 kB of UTF-8; 1 MiB is ten times that and keeps one string cheap.
  maxStringBytes: 1 * MiB,
  // A span is a few hundred bytes; even one with a dozen 25,000-char values is
  // under 1 MiB. Bounds the NDJSON line built per span (JSON escaping can
  // grow text up to 6×) and, in v0.5, stops one span from referencing a long
  // dictionary string thousands of times.
  maxSpanBytes: 4 * MiB,
  // A dd-trace span holds ~40 values. msgpackr allocates one JS value per
  // msgpack value (an empty map costs ~56 bytes of heap for 1 byte of input),
  // so this caps what decoding one span can allocate at a few MB.
  maxValuesPerSpan: 65_536,
  // An 8 MiB dd-trace payload holds ~20,000 v0.4 / ~50,000 v0.5 spans. Caps
  // the CPU one request can cost (each span becomes a line of NDJSON) when a
  // body is made of near-empty spans.
  maxSpansPerPayload: 500_000,
  // A full v0.5 payload has a few thousand distinct strings, more when tag
  // values are unique per span; a million entries stays a few tens of MB.
  maxStringTable: 1_000_000,
  // v0.5 strings are referenced by index, so a small body can name a long
  // string millions of times. Real payloads expand 2–3× (162 → ~400 B/span).
  maxExpandedBytes: 256 * MiB,
})

export function resolveLimits(overrides: Partial<IntakeLimits> = {}): IntakeLimits {
  const limits = {...DEFAULT_LIMITS}
  for (const [key, value] of Object.entries(overrides) as [keyof IntakeLimits, number | undefined][]) {
    if (value === undefined) continue
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`intake limit ${key} must be a positive integer, got ${value}`)
    limits[key] = value
  }
  return limits
}

/** Time allowed to read one request (headers and body); a slow sender gets 408 and its slot back. */
export const REQUEST_TIMEOUT_MS = 20_000
/** How often Node checks requestTimeout (its default, 30 s, would let a stalled body hold a slot that long). */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000
/** Open connections at once. dd-trace keeps one or two; this only stops a local flood from exhausting descriptors. */
export const MAX_CONNECTIONS = 512
/** close(): time given to requests in progress before their connections are cut. */
export const CLOSE_GRACE_MS = 3_000
/** Largest body buffer a slot keeps to read the next body into: dd-trace flushes at 8 MiB, so real payloads reuse it; a rare larger one is not held on to. */
export const MAX_REUSED_BODY_BYTES = 16 * 1024 * 1024
/** Rejections remembered with their reasons for the bundle (all are counted). */
export const MAX_REJECTIONS_KEPT = 100
