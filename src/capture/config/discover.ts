/**
 * Turns the `--config` paths into the list of files to read, the way Vector
 * loads them: a file is read as given (an unknown extension as TOML, Vector's
 * default format); a folder as `--config-dir` does, its own .yaml/.yml/.toml/
 * .json files (not recursively; other files are skipped) plus the per-type
 * folders `sources/`, `transforms/` and `sinks/`, where each file is one
 * component named after the file. Vector also nests transforms further down
 * and reads `tests/` and `enrichment_tables/` folders; those are not collected.
 */
import {readdir, realpath, stat} from 'node:fs/promises'
import path from 'node:path'
import type {ConfigFormat} from '../../bundle/format.js'
import type {ComponentKind} from '../../protocol/tracing-control.js'
import {formatFromName} from './parse.js'

/** A config folder is a handful of files; thousands means a wrong path (e.g. `/etc`). */
export const MAX_CONFIG_FILES = 500

const COMPONENT_FOLDERS: readonly [string, ComponentKind][] = [
  ['sources', 'source'],
  ['transforms', 'transform'],
  ['sinks', 'sink'],
]

export interface ConfigCandidate {
  /** Absolute path. */
  source: string
  format: ConfigFormat
  /** The format was not in the name (explicit file read as TOML). */
  formatAssumed: boolean
  layout: 'config' | 'component'
  /** For `layout: component`: its kind, its folder and its id (the file name without extension). */
  component?: {kind: ComponentKind; folder: string; id: string}
}

export interface Discovery {
  candidates: ConfigCandidate[]
  failures: {source: string; error: string}[]
}

function errorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException
  if (err?.code === 'ENOENT') return 'no such file or directory'
  if (err?.code === 'EACCES' || err?.code === 'EPERM') return 'permission denied'
  return err instanceof Error ? err.message : String(e)
}

async function configFilesIn(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => formatFromName(n) !== null).sort()
  const files: string[] = []
  for (const n of names) {
    const p = path.join(dir, n)
    try {
      if ((await stat(p)).isFile()) files.push(p)
    } catch {
      // A dangling link or a file removed meanwhile: Vector would skip it too.
    }
  }
  return files
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory()
  } catch {
    return false
  }
}

export async function discoverConfigFiles(paths: string[]): Promise<Discovery> {
  const candidates: ConfigCandidate[] = []
  const failures: Discovery['failures'] = []
  const seen = new Set<string>()
  const add = async (c: ConfigCandidate): Promise<void> => {
    let real = c.source
    try {
      real = await realpath(c.source)
    } catch {
      // Reported when it is read.
    }
    if (seen.has(real)) return
    if (candidates.length >= MAX_CONFIG_FILES) {
      failures.push({source: c.source, error: `not read: more than ${MAX_CONFIG_FILES} config files given`})
      return
    }
    seen.add(real)
    candidates.push(c)
  }

  for (const given of paths) {
    const abs = path.resolve(given)
    let isDirectory: boolean
    try {
      const s = await stat(abs)
      if (!s.isFile() && !s.isDirectory()) {
        failures.push({source: abs, error: 'not a regular file or a folder'})
        continue
      }
      isDirectory = s.isDirectory()
    } catch (e) {
      failures.push({source: abs, error: errorText(e)})
      continue
    }

    if (!isDirectory) {
      const format = formatFromName(abs)
      await add({source: abs, format: format ?? 'toml', formatAssumed: format === null, layout: 'config'})
      continue
    }

    let found = 0
    try {
      for (const f of await configFilesIn(abs)) {
        found++
        await add({source: f, format: formatFromName(f)!, formatAssumed: false, layout: 'config'})
      }
      for (const [folder, kind] of COMPONENT_FOLDERS) {
        const sub = path.join(abs, folder)
        if (!(await isDir(sub))) continue
        try {
          for (const f of await configFilesIn(sub)) {
            found++
            const id = path.basename(f, path.extname(f))
            await add({source: f, format: formatFromName(f)!, formatAssumed: false, layout: 'component', component: {kind, folder, id}})
          }
        } catch (e) {
          failures.push({source: sub, error: errorText(e)})
        }
      }
    } catch (e) {
      failures.push({source: abs, error: errorText(e)})
      continue
    }
    if (found === 0 && !failures.some((f) => f.source.startsWith(abs))) {
      failures.push({source: abs, error: 'the folder holds no .yaml, .yml, .toml or .json file (the only ones Vector reads from a config folder)'})
    }
  }
  return {candidates, failures}
}
