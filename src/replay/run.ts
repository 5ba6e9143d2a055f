/**
 * `vdiag replay`: open (verify) → analyse → render/export. The stages pass
 * plain data, so each output is a pure function of the analysis or the spans.
 */
import {writeFile, mkdir} from 'node:fs/promises'
import path from 'node:path'
import type {AnalysisResult} from '../analysis/types.js'
import type {ExportFormat} from '../export/index.js'
import {VdiagError, errorMessage} from '../errors.js'


export interface ReplayOptions {
  bundle: string
  verify: boolean
  html?: string
  exports: ExportFormat[]
  outDir?: string
}

export interface ReplayResult {
  analysis: AnalysisResult
  html: string | null
  exported: {format: ExportFormat; files: string[]; spans: number}[]
}

export async function runReplay(opts: ReplayOptions): Promise<ReplayResult> {
  const {openBundle} = await import('../bundle/reader.js')
  const {analyseBundle} = await import('../analysis/index.js')
  const opened = await openBundle(opts.bundle, {verify: opts.verify})
  try {
    const analysis = await analyseBundle(opened, {path: opts.bundle})
    let html: string | null = null
    if (opts.html) {
      const {renderHtml} = await import('../report/html.js')
      html = path.resolve(opts.html)
      await writeOut(html, renderHtml(analysis))
    }
    const exported: ReplayResult['exported'] = []
    if (opts.exports.length) {
      const {exportSpans} = await import('../export/index.js')
      const outDir = path.resolve(opts.outDir ?? '.')
      await mkdir(outDir, {recursive: true}).catch((e) => {
        throw new VdiagError('output_unwritable', `cannot create ${outDir}: ${errorMessage(e)}`, {hint: 'choose another directory with --out DIR'})
      })
      for (const format of opts.exports) {
        const r = await exportSpans(opened, format, outDir)
        exported.push({format, ...r})
      }
    }
    return {analysis, html, exported}
  } finally {
    await opened.cleanup()
  }
}

async function writeOut(file: string, text: string): Promise<void> {
  try {
    await mkdir(path.dirname(file), {recursive: true})
    await writeFile(file, text, {mode: 0o644})
  } catch (e) {
    throw new VdiagError('output_unwritable', `cannot write ${file}: ${errorMessage(e)}`, {hint: 'choose another path'})
  }
}
