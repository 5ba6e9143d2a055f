/**
 * Parsing and structural checks of a bundle's manifest.json, and the
 * comparison of what a bundle holds with what its manifest lists.
 *
 * Compatibility (docs/bundle-format.md): a reader accepts format_version 1 up
 * to its own FORMAT_VERSION and ignores fields it does not know; anything
 * newer is refused with bundle_version rather than misread.
 */
import {bundleChecksum, bundleCorrupt, bundleVersion, showName} from './bundle-errors.js'
import {ENTRY, FORMAT_NAME, FORMAT_VERSION, type FileEntry, type Manifest} from './format.js'

const SHA256_HEX = /^[0-9a-f]{64}$/

/** Top-level fields every format-1 manifest has, with the JSON type a reader relies on. */
const REQUIRED_FIELDS: [keyof Manifest, 'string' | 'boolean' | 'object' | 'array'][] = [
  ['vdiag_version', 'string'],
  ['created_at', 'string'],
  ['complete', 'boolean'],
  ['command_line', 'array'],
  ['capture', 'object'],
  ['pipeline', 'object'],
  ['window', 'object'],
  ['collectors', 'object'],
  ['counts', 'object'],
  ['redaction', 'object'],
  ['files', 'array'],
]

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array'
  if (v === null) return 'null'
  return typeof v
}

export function parseManifest(bytes: Buffer): Manifest {
  let doc: unknown
  try {
    doc = JSON.parse(bytes.toString('utf8'))
  } catch (e) {
    throw bundleCorrupt(`${ENTRY.manifest} is not valid JSON (${(e as Error).message.split('\n')[0]})`)
  }
  if (jsonType(doc) !== 'object') throw bundleCorrupt(`${ENTRY.manifest} is not a JSON object`)
  const m = doc as Record<string, unknown>
  if (m.format !== FORMAT_NAME) {
    throw bundleVersion(`not a ${FORMAT_NAME}: ${ENTRY.manifest} says format ${showName(String(m.format))}`, {format: m.format ?? null})
  }
  const v = m.format_version
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw bundleCorrupt(`${ENTRY.manifest} has no integer format_version`)
  if (v > FORMAT_VERSION || v < 1) {
    throw bundleVersion(`bundle format version ${v} is not supported (this vdiag reads ${FORMAT_VERSION === 1 ? 'version 1' : `versions 1 to ${FORMAT_VERSION}`})`, {format_version: v})
  }
  for (const [field, type] of REQUIRED_FIELDS) {
    if (jsonType(m[field]) !== type) throw bundleCorrupt(`${ENTRY.manifest}: "${field}" is missing or not ${type === 'array' ? 'an' : 'a'} ${type}`)
  }
  const seen = new Set<string>()
  for (const f of m.files as unknown[]) {
    const e = f as Partial<FileEntry> | null
    if (
      jsonType(e) !== 'object' ||
      typeof e!.path !== 'string' ||
      e!.path === '' ||
      typeof e!.size !== 'number' ||
      !Number.isSafeInteger(e!.size) ||
      e!.size < 0 ||
      typeof e!.sha256 !== 'string' ||
      !SHA256_HEX.test(e!.sha256)
    ) {
      throw bundleCorrupt(`${ENTRY.manifest}: a "files" entry is malformed (${showName(JSON.stringify(f) ?? String(f))})`)
    }
    if (seen.has(e!.path)) throw bundleCorrupt(`${ENTRY.manifest} lists ${showName(e!.path)} twice`)
    seen.add(e!.path)
  }
  return m as unknown as Manifest
}

export interface FoundFile {
  size: number
  sha256: string
}

/**
 * Compare the files found in a bundle with the manifest's list. With
 * `strict`, the first difference throws bundle_checksum naming the file;
 * otherwise every difference is returned as a one-line warning.
 */
export function compareWithManifest(manifest: Manifest, found: ReadonlyMap<string, FoundFile>, strict: boolean): string[] {
  const problems: string[] = []
  const report = (msg: string, file: string) => {
    if (strict) throw bundleChecksum(msg, {file})
    problems.push(msg)
  }
  const listed = new Set<string>()
  for (const f of manifest.files) {
    listed.add(f.path)
    const got = found.get(f.path)
    if (!got) report(`${showName(f.path)} is listed in ${ENTRY.manifest} but missing from the bundle`, f.path)
    else if (got.size !== f.size) report(`${showName(f.path)} is ${got.size} bytes, ${ENTRY.manifest} says ${f.size}`, f.path)
    else if (got.sha256 !== f.sha256) report(`${showName(f.path)} does not match its sha256 in ${ENTRY.manifest}`, f.path)
  }
  for (const path of [...found.keys()].sort()) {
    if (path !== ENTRY.manifest && !listed.has(path)) report(`${showName(path)} is in the bundle but not listed in ${ENTRY.manifest}`, path)
  }
  return problems
}
