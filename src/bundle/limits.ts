/**
 * Bounds the reader puts on a bundle before trusting it. A bundle arrives by
 * email or ticket from a machine we do not control, so each bound is there to
 * stop one kind of hostile or broken archive from filling the disk or memory.
 */

export interface ReaderLimits {
  /** Largest single file. The biggest legitimate entry is spans.ndjson.gz, already compressed. */
  maxEntryBytes: number
  /** Sum of all files once extracted. */
  maxTotalBytes: number
  /** Number of entries (files and directories); payload bodies are one file each. */
  maxEntries: number
  /** manifest.json is parsed in memory, so it gets its own, smaller cap. */
  maxManifestBytes: number
  /**
   * Decompressed ÷ compressed bytes. A real bundle holds mostly gzip and
   * msgpack and stays far below (typically under 20); deflate cannot exceed
   * about 1030, which is where bombs sit. Halfway leaves room for very
   * repetitive captures.
   */
  maxCompressionRatio: number
  /** The ratio is only judged past this many decompressed bytes (small archives of padding compress extremely well). */
  ratioGraceBytes: number
  /** Longest entry path, and deepest nesting, we accept. */
  maxPathLength: number
  maxPathDepth: number
}

const MiB = 1024 * 1024
const GiB = 1024 * MiB

export const DEFAULT_READER_LIMITS: Readonly<ReaderLimits> = Object.freeze({
  maxEntryBytes: 4 * GiB,
  maxTotalBytes: 8 * GiB,
  maxEntries: 200_000,
  maxManifestBytes: 64 * MiB,
  maxCompressionRatio: 500,
  ratioGraceBytes: 16 * MiB,
  maxPathLength: 1024,
  maxPathDepth: 32,
})

export function resolveLimits(partial?: Partial<ReaderLimits>): ReaderLimits {
  return {...DEFAULT_READER_LIMITS, ...partial}
}

/**
 * For the writer's read-back of its own archive: every consistency check, but
 * no size or ratio bounds, so a large capture is never lost at the last step.
 */
export const UNBOUNDED_LIMITS: Partial<ReaderLimits> = Object.freeze({
  maxEntryBytes: Number.MAX_SAFE_INTEGER,
  maxTotalBytes: Number.MAX_SAFE_INTEGER,
  maxEntries: Number.MAX_SAFE_INTEGER,
  maxManifestBytes: 1024 * MiB,
  maxCompressionRatio: Number.POSITIVE_INFINITY,
})
