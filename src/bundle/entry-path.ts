/**
 * Validation of archive entry names: the only gate between a name chosen by
 * whoever built the archive and a path on our disk.
 */
import {bundleUnsafe, showName} from './bundle-errors.js'
import type {ReaderLimits} from './limits.js'

/**
 * Returns the name as a clean relative POSIX path (no `.` parts, no trailing
 * slash), or throws bundle_unsafe. `''` means the archive root itself.
 */
export function safeEntryPath(raw: string, limits: Pick<ReaderLimits, 'maxPathLength' | 'maxPathDepth'>): string {
  if (raw.length > limits.maxPathLength) throw bundleUnsafe(`entry name longer than ${limits.maxPathLength} characters: ${showName(raw)}`)
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(raw)) throw bundleUnsafe(`entry name with control characters: ${showName(raw)}`)
  if (raw.includes('\\')) throw bundleUnsafe(`entry name with a backslash: ${showName(raw)}`)
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) throw bundleUnsafe(`entry with an absolute path: ${showName(raw)}`)
  const parts: string[] = []
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') throw bundleUnsafe(`entry path escapes the bundle with "..": ${showName(raw)}`)
    if (part.length > 255) throw bundleUnsafe(`entry name part longer than 255 characters: ${showName(raw)}`)
    parts.push(part)
  }
  if (parts.length > limits.maxPathDepth) throw bundleUnsafe(`entry nested deeper than ${limits.maxPathDepth} folders: ${showName(raw)}`)
  return parts.join('/')
}
