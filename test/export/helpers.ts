import {mkdtemp, rm} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type {Manifest} from '../../src/bundle/format.js'
import {type ExportFormat, type ExportResult, exportSpans} from '../../src/export/index.js'
import {manifestFor, writeBundle} from './fixtures.js'

export interface Exported {
  result: ExportResult
  dir: string
  cleanup: () => Promise<void>
}

/** Writes `lines` as a bundle, exports it, and hands back the output dir. */
export async function exportLines(format: ExportFormat, lines: unknown[], manifest: Manifest = manifestFor(lines.length)): Promise<Exported> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'vdiag-export-test-'))
  const root = await writeBundle(lines, manifest, tmp)
  const dir = path.join(tmp, 'out')
  const result = await exportSpans({root, manifest}, format, dir)
  return {result, dir, cleanup: () => rm(tmp, {recursive: true, force: true})}
}

/** Checks that X slices on every (pid, tid) strictly nest; times compared in integer ns. */
export function assertNesting(events: {ph: string; ts: number; dur: number; pid: number; tid: number}[]): number {
  const byTrack = new Map<string, {start: number; end: number}[]>()
  for (const e of events) {
    if (e.ph !== 'X') continue
    const key = `${e.pid}/${e.tid}`
    const start = Math.round(e.ts * 1000)
    const list = byTrack.get(key) ?? []
    list.push({start, end: start + Math.round(e.dur * 1000)})
    byTrack.set(key, list)
  }
  for (const [key, slices] of byTrack) {
    slices.sort((a, b) => a.start - b.start || b.end - a.end)
    const stack: number[] = []
    for (const s of slices) {
      while (stack.length > 0 && stack[stack.length - 1] <= s.start) stack.pop()
      if (stack.length > 0 && s.end > stack[stack.length - 1]) {
        throw new Error(`slices on track ${key} overlap without nesting: [${s.start}, ${s.end}] crosses an enclosing end ${stack[stack.length - 1]}`)
      }
      stack.push(s.end)
    }
  }
  return byTrack.size
}
