/**
 * Opening a bundle for replay: a .tar.gz or .zip (recognised by its magic
 * bytes) is extracted into a fresh private temp directory after every entry
 * passed the collector's checks; an extracted directory is verified in place.
 * Every refusal is a one-line VdiagError; on any failure the temp directory is
 * gone before the error reaches the caller.
 */
import {createHash} from 'node:crypto'
import {createReadStream, rmSync} from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {errorMessage, isVdiagError, VdiagError} from '../errors.js'
import {bundleCorrupt, bundleUnsafe, showName} from './bundle-errors.js'
import {EntryCollector} from './entry-collector.js'
import {ENTRY, type Manifest} from './format.js'
import {resolveLimits, type ReaderLimits} from './limits.js'
import {compareWithManifest, parseManifest, type FoundFile} from './manifest-check.js'
import {walkTarGz} from './walk-tar.js'
import {walkZip} from './walk-zip.js'

export type {ReaderLimits} from './limits.js'
export {DEFAULT_READER_LIMITS} from './limits.js'

export type BundleSource = 'tar.gz' | 'zip' | 'dir'

export interface OpenedBundle {
  /** Directory holding manifest.json and the entries (ENTRY paths are relative to it). */
  root: string
  manifest: Manifest
  /** True when every file was checked against the manifest's size and sha256. */
  verified: boolean
  source: BundleSource
  /** With verify=false: each difference from the manifest that was let through. */
  warnings: string[]
  /** Removes the temp directory (a no-op for a directory bundle). Safe to call twice. */
  cleanup(): Promise<void>
}

export interface OpenBundleOptions {
  /** Default true: refuse on any size/sha256/listing mismatch. */
  verify?: boolean
  limits?: Partial<ReaderLimits>
  /** Where the private temp directory is made (default os.tmpdir()). */
  tmpRoot?: string
}

const TEMP_PREFIX = 'vdiag-bundle-'

/**
 * Temp folders not yet cleaned up. Removed on process exit too, so a command
 * that exits early (process.exit, an uncaught error) leaves nothing behind.
 */
const liveTempDirs = new Set<string>()
let exitHookInstalled = false

function trackTempDir(dir: string): void {
  liveTempDirs.add(dir)
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const d of liveTempDirs) {
      try {
        rmSync(d, {recursive: true, force: true})
      } catch {
        // best effort at exit
      }
    }
  })
}
const GZIP_MAGIC = [0x1f, 0x8b]
const ZIP_MAGICS = [
  [0x50, 0x4b, 0x03, 0x04],
  [0x50, 0x4b, 0x05, 0x06], // empty archive
]

export async function detectArchive(file: string): Promise<'tar.gz' | 'zip' | null> {
  const fh = await fs.open(file, 'r')
  try {
    const head = Buffer.alloc(4)
    const {bytesRead} = await fh.read(head, 0, 4, 0)
    const starts = (magic: number[]) => bytesRead >= magic.length && magic.every((b, i) => head[i] === b)
    if (starts(GZIP_MAGIC)) return 'tar.gz'
    if (ZIP_MAGICS.some(starts)) return 'zip'
    return null
  } finally {
    await fh.close()
  }
}

/** Prefix the bundle's name to a refusal so the one line says which file it is about. */
function withInput(e: unknown, input: string): unknown {
  if (!isVdiagError(e) || !e.code.startsWith('bundle_')) return e
  return new VdiagError(e.code, `${input}: ${e.message}`, {hint: e.hint, exitCode: e.exitCode, details: {...e.details, bundle: input}, cause: e})
}

export async function openBundle(input: string, opts: OpenBundleOptions = {}): Promise<OpenedBundle> {
  const verify = opts.verify ?? true
  const limits = resolveLimits(opts.limits)
  let st
  try {
    st = await fs.stat(input)
  } catch (e) {
    throw new VdiagError('failed', `cannot open bundle ${input}: ${errorMessage(e)}`, {
      hint: 'Give the path of a .tar.gz or .zip written by `vdiag capture`, or of its extracted folder.',
    })
  }
  try {
    if (st.isDirectory()) return await openDirectory(input, verify, limits)
    if (!st.isFile()) throw bundleCorrupt('not a regular file or a folder')
    const kind = await detectArchive(input)
    if (kind === null) throw bundleCorrupt('not a vdiag bundle (neither a gzip-compressed tar nor a zip archive)')
    return await extractArchive(input, kind, verify, limits, opts.tmpRoot ?? os.tmpdir())
  } catch (e) {
    throw withInput(e, input)
  }
}

async function extractArchive(
  input: string,
  kind: 'tar.gz' | 'zip',
  verify: boolean,
  limits: ReaderLimits,
  tmpRoot: string,
): Promise<OpenedBundle> {
  const tmp = await fs.mkdtemp(path.join(tmpRoot, TEMP_PREFIX))
  trackTempDir(tmp)
  const remove = async () => {
    await fs.rm(tmp, {recursive: true, force: true})
    liveTempDirs.delete(tmp)
  }
  try {
    await fs.chmod(tmp, 0o700)
    const extractTo = path.join(tmp, 'x')
    await fs.mkdir(extractTo, {mode: 0o700})
    const collector = new EntryCollector(limits, extractTo, verify)
    try {
      if (kind === 'tar.gz') await walkTarGz(input, limits, collector)
      else await walkZip(input, limits, collector)
    } catch (e) {
      if (isVdiagError(e)) throw e
      throw new VdiagError('failed', `could not extract the bundle: ${errorMessage(e)}`, {
        hint: `Check the free space and permissions of ${tmpRoot} (set TMPDIR to use another folder).`,
        cause: e,
      })
    }
    const got = collector.finish()
    let removed = false
    return {
      root: got.prefix ? path.join(extractTo, got.prefix) : extractTo,
      manifest: got.manifest,
      verified: verify,
      source: kind,
      warnings: got.warnings,
      cleanup: async () => {
        if (removed) return
        removed = true
        await remove()
      },
    }
  } catch (e) {
    await remove()
    throw e
  }
}

// ---------- the writer's read-back ----------

export interface VerifiedArchive {
  manifest: Manifest
  manifestSha256: string
  source: 'tar.gz' | 'zip'
  /** The single top folder, or '' when entries sit at the archive root. */
  prefix: string
}

/**
 * Read an archive end to end without extracting it, checking every entry as
 * openBundle would and every file against the manifest. Throws like openBundle.
 */
export async function verifyArchive(file: string, limits?: Partial<ReaderLimits>): Promise<VerifiedArchive> {
  const l = resolveLimits(limits)
  const kind = await detectArchive(file)
  if (kind === null) throw bundleCorrupt('not a gzip-compressed tar nor a zip archive')
  const collector = new EntryCollector(l, null, true)
  if (kind === 'tar.gz') await walkTarGz(file, l, collector)
  else await walkZip(file, l, collector)
  const got = collector.finish()
  return {manifest: got.manifest, manifestSha256: got.manifestSha256, source: kind, prefix: got.prefix}
}

// ---------- extracted folders ----------

async function hashFile(file: string): Promise<FoundFile> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    size += chunk.length
    hash.update(chunk)
  }
  return {size, sha256: hash.digest('hex')}
}

/** The folder holding manifest.json: the one given, or its single sub-folder. */
async function findRoot(dir: string): Promise<string> {
  const isManifest = async (p: string) => {
    const s = await fs.lstat(p).catch(() => null)
    if (s?.isSymbolicLink()) throw bundleUnsafe(`${showName(path.basename(path.dirname(p)) + '/' + ENTRY.manifest)} is a symbolic link`)
    return s?.isFile() ?? false
  }
  if (await isManifest(path.join(dir, ENTRY.manifest))) return dir
  const children = await fs.readdir(dir, {withFileTypes: true})
  if (children.length === 1 && children[0]!.isDirectory()) {
    const sub = path.join(dir, children[0]!.name)
    if (await isManifest(path.join(sub, ENTRY.manifest))) return sub
  }
  throw bundleCorrupt(`no ${ENTRY.manifest} in the folder`)
}

async function openDirectory(input: string, verify: boolean, limits: ReaderLimits): Promise<OpenedBundle> {
  const root = await findRoot(await fs.realpath(input))
  const found = new Map<string, FoundFile>()
  let entries = 0
  const walk = async (rel: string): Promise<void> => {
    const abs = rel ? path.join(root, rel) : root
    const children = await fs.readdir(abs, {withFileTypes: true})
    children.sort((a, b) => (a.name < b.name ? -1 : 1))
    for (const child of children) {
      const childRel = rel ? `${rel}/${child.name}` : child.name
      if (++entries > limits.maxEntries) throw bundleUnsafe(`folder has more than ${limits.maxEntries} entries`)
      if (childRel.split('/').length > limits.maxPathDepth) throw bundleUnsafe(`${showName(childRel)} is nested too deep`)
      if (child.isSymbolicLink()) throw bundleUnsafe(`symbolic link ${showName(childRel)} inside the bundle folder`)
      if (child.isDirectory()) await walk(childRel)
      else if (child.isFile()) found.set(childRel, await hashFile(path.join(root, childRel)))
      else throw bundleUnsafe(`special file ${showName(childRel)} inside the bundle folder`)
    }
  }
  await walk('')
  const manifestFile = found.get(ENTRY.manifest)
  if (!manifestFile) throw bundleCorrupt(`no ${ENTRY.manifest} in the folder`)
  if (manifestFile.size > limits.maxManifestBytes) throw bundleUnsafe(`${ENTRY.manifest} is larger than ${limits.maxManifestBytes} bytes`)
  const manifest = parseManifest(await fs.readFile(path.join(root, ENTRY.manifest)))
  const warnings = compareWithManifest(manifest, found, verify)
  return {root, manifest, verified: verify, source: 'dir', warnings, cleanup: async () => {}}
}
