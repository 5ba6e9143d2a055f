/**
 * `vdiag replay --export FORMAT --out DIR`: converts the bundle's spans into a
 * viewer's format, streaming over the span file.
 */
import {mkdir} from 'node:fs/promises'
import path from 'node:path'
import {ENTRY, type Manifest, type SpanRecord} from '../bundle/format.js'
import {VdiagError, errorMessage, usageError} from '../errors.js'
import {ChromeExporter} from './chrome.js'
import type {ExportContext, Exporter} from './context.js'
import {FoldedExporter} from './folded.js'
import {parseRfc3339Ns} from './ids.js'
import {JaegerExporter} from './jaeger.js'
import {OtlpExporter} from './otlp.js'
import {SpanReader} from './span-reader.js'

export type ExportFormat = 'chrome' | 'otlp' | 'jaeger' | 'folded'
export const EXPORT_FORMATS: readonly ExportFormat[] = ['chrome', 'otlp', 'jaeger', 'folded']

export {CHROME_FILE} from './chrome.js'
export {OTLP_FILE} from './otlp.js'
export {JAEGER_FILE} from './jaeger.js'
export {FOLDED_FILE} from './folded.js'

export interface ExportResult {
  /** Absolute paths of the files written. */
  files: string[]
  /** Spans exported. */
  spans: number
  /** Lines of the span file that were not a usable span (missing or malformed ids/times). */
  skipped: number
}

const EXPORTERS: Record<ExportFormat, new (outDir: string, ctx: ExportContext) => Exporter> = {
  chrome: ChromeExporter,
  otlp: OtlpExporter,
  jaeger: JaegerExporter,
  folded: FoldedExporter,
}

export async function exportSpans(
  bundle: {root: string; manifest: Manifest},
  format: ExportFormat,
  outDir: string,
): Promise<ExportResult> {
  const make = Object.hasOwn(EXPORTERS, format) ? EXPORTERS[format] : undefined
  if (make === undefined) throw usageError(`Unknown export format "${String(format)}".`, `Use one of: ${EXPORT_FORMATS.join(', ')}.`)
  const dir = path.resolve(outDir)
  try {
    await mkdir(dir, {recursive: true})
  } catch (error) {
    throw new VdiagError('output_unwritable', `Could not create the output directory ${dir}: ${errorMessage(error)}`, {
      hint: 'Choose a writable --out directory.',
      cause: error,
    })
  }
  const reader = new SpanReader(path.join(bundle.root, ENTRY.spans))
  const spans = reader.spans()
  // Times are relative to the window start; without one, to the first span.
  let first: IteratorResult<SpanRecord> | null = null
  let t0 = parseRfc3339Ns(bundle.manifest.window?.start)
  if (t0 === null) {
    first = await spans.next()
    t0 = first.done ? 0n : BigInt(first.value.start)
  }
  const exporter = new make(dir, {manifest: bundle.manifest, t0})
  try {
    if (first !== null && !first.done) await exporter.add(first.value)
    for await (const span of spans) await exporter.add(span)
    await exporter.finish()
  } catch (error) {
    await exporter.abort()
    throw error
  }
  return {files: exporter.files, spans: reader.read, skipped: reader.skipped}
}
