import {readFileSync} from 'node:fs'
import {assetPath} from '../util/paths.js'

/** Finding ids are `area.name`; anything else is not a file name we read. */
const FINDING_ID = /^[a-z_]+\.[a-z_]+$/

/**
 * The longer explanation of a finding, kept as Markdown in
 * src/report/text/<finding-id>.md and read at render time (not at import,
 * so `vdiag --help` never touches them). Null when there is none.
 */
export function findingText(id: string): string | null {
  if (!FINDING_ID.test(id)) return null
  try {
    return readFileSync(assetPath('report', 'text', `${id}.md`), 'utf8')
  } catch {
    return null
  }
}

/**
 * The first paragraph of a finding's text as plain text: the heading line is
 * skipped and Markdown emphasis/code marks are dropped, for terminals.
 */
export function findingGist(id: string): string | null {
  const md = findingText(id)
  if (!md) return null
  const paragraphs = md
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0 && !p.startsWith('#'))
  if (paragraphs.length === 0) return null
  return paragraphs[0]
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\[([^\]]+)\]\([^)]+\)/g, '$1')
    .replace(/[*_`]/g, '')
}
