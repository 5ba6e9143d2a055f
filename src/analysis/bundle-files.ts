import {promises as fs} from 'node:fs'
import path from 'node:path'
import {forEachFileLine} from './line-reader.js'

/**
 * Small JSON entries (pipeline facts, tracing record) are read whole; real
 * ones are kilobytes. Anything bigger is not what capture writes.
 */
export const MAX_JSON_ENTRY_BYTES = 64 * 1024 * 1024

/** Unreadable entries degrade the analysis instead of failing it: each one is noted in `problems`. */
export async function readJsonEntry<T>(root: string, entry: string, problems: string[]): Promise<T | null> {
  const file = path.join(root, entry)
  let size: number
  try {
    size = (await fs.stat(file)).size
  } catch {
    return null
  }
  if (size > MAX_JSON_ENTRY_BYTES) {
    problems.push(`${entry}: ${size} bytes is more than the ${MAX_JSON_ENTRY_BYTES} a capture writes; ignored`)
    return null
  }
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T
  } catch (e) {
    problems.push(`${entry}: not valid JSON (${(e as Error).message}); ignored`)
    return null
  }
}

/** NDJSON entry → parsed objects; bad lines are counted into `problems`, not fatal. Null when absent. */
export async function readNdjsonEntry<T>(root: string, entry: string, problems: string[], maxLines: number): Promise<T[] | null> {
  const out: T[] = []
  return (await forEachNdjsonRecord<T>(root, entry, problems, maxLines, (r) => out.push(r))) ? out : null
}

/**
 * Streams an NDJSON entry one parsed record at a time, up to `maxLines`
 * records; lines past the cap and lines that are not JSON are noted in
 * `problems`, never fatal. False when the entry is absent.
 */
export async function forEachNdjsonRecord<T>(root: string, entry: string, problems: string[], maxLines: number, onRecord: (record: T) => void): Promise<boolean> {
  const file = path.join(root, entry)
  if (!(await exists(file))) return false
  let read = 0
  let bad = 0
  let skipped = 0
  await forEachFileLine(
    file,
    (line) => {
      if (read >= maxLines) {
        skipped++
        return
      }
      read++
      let record: T
      try {
        record = JSON.parse(line) as T
      } catch {
        bad++
        return
      }
      onRecord(record)
    },
    entry,
  )
  if (skipped > 0) problems.push(`${entry}: only the first ${maxLines} lines were read`)
  if (bad > 0) problems.push(`${entry}: ${bad} line(s) are not valid JSON; ignored`)
  return true
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file)
    return true
  } catch {
    return false
  }
}
