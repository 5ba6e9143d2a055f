import path from 'node:path'
import {ENTRY} from '../bundle/format.js'
import {exists} from './bundle-files.js'
import {forEachGzipLine} from './line-reader.js'
import {SpanTable} from './span-table.js'

/**
 * Streams `spans/spans.ndjson.gz` into a columnar SpanTable: one parsed span
 * object is alive at a time. A missing file is an empty table (a capture
 * without tracing writes none); a corrupt gzip is a `bundle_corrupt` error.
 */
export async function readSpans(root: string): Promise<SpanTable> {
  const table = new SpanTable()
  const file = path.join(root, ENTRY.spans)
  if (!(await exists(file))) return table
  await forEachGzipLine(
    file,
    (line) => {
      let rec: unknown
      try {
        rec = JSON.parse(line)
      } catch {
        table.malformed++
        return
      }
      table.add(rec)
    },
    ENTRY.spans,
  )
  return table
}

/** First start and last end of all spans, ns relative to the table's baseSec; null when empty. */
export function spanExtent(t: SpanTable): {minStartNs: number; maxEndNs: number; baseSec: number} | null {
  if (t.length === 0) return null
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  for (let i = 0; i < t.length; i++) {
    const s = t.start[i]
    if (s < min) min = s
    const e = s + t.dur[i]
    if (e > max) max = e
  }
  return {minStartNs: min, maxEndNs: max, baseSec: t.baseSec}
}
