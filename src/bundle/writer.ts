/**
 * Turning a staging directory into a bundle: README.txt and manifest.json
 * (with the size and sha256 of every file), then one archive under one top
 * folder, written to a temp name next to the output, fsynced, read back and
 * verified, and only then renamed into place. The staging directory is never
 * touched on failure; the caller decides what to do with it.
 */
import {createHash} from 'node:crypto'
import {createReadStream, createWriteStream, rmSync, type Stats} from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import {Readable, Transform} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {errorMessage, isVdiagError, VdiagError} from '../errors.js'
import {ENTRY, FORMAT_NAME, FORMAT_VERSION, type FileEntry, type Manifest} from './format.js'
import {UNBOUNDED_LIMITS} from './limits.js'
import {renderReadme} from './readme.js'
import {verifyArchive} from './reader.js'

export type BundleFormat = 'tar.gz' | 'zip'

export interface WriteBundleOptions {
  stagingDir: string
  /** The single folder every entry sits in, e.g. `vdiag-20260101T120000Z-myhost`. */
  topFolder: string
  /** The archive's final path. */
  output: string
  format: BundleFormat
  manifest: Omit<Manifest, 'files'>
}

export interface WrittenBundle {
  path: string
  size: number
  sha256: string
  manifest: Manifest
}

/** Bundle files are readable by their owner only: they hold a production host's details. */
const FILE_MODE = 0o600
const DIR_MODE = 0o700
/** Level 6: most of the bytes are already gzip (spans) or small; higher levels cost time for little. */
const COMPRESSION_LEVEL = 6
/** Used when created_at does not parse, so entry times stay fixed rather than "now". */
const FALLBACK_MTIME = new Date('2000-01-01T00:00:00Z')

interface StagedEntry {
  rel: string
  abs: string
  stats: Stats
}

/** Every file and folder under `root`, sorted, parents before children. Links and special files are refused. */
async function listStaging(root: string): Promise<StagedEntry[]> {
  const out: StagedEntry[] = []
  const walk = async (rel: string) => {
    const abs = rel ? path.join(root, rel) : root
    const names = (await fs.readdir(abs)).sort()
    for (const name of names) {
      const childRel = rel ? `${rel}/${name}` : name
      const childAbs = path.join(root, childRel)
      const stats = await fs.lstat(childAbs)
      if (stats.isDirectory()) {
        out.push({rel: childRel, abs: childAbs, stats})
        await walk(childRel)
      } else if (stats.isFile()) {
        out.push({rel: childRel, abs: childAbs, stats})
      } else {
        throw new VdiagError('failed', `cannot bundle ${childAbs}: only regular files and folders can go into a bundle`, {
          hint: 'Something other than vdiag wrote into the staging folder; remove that entry and try again.',
        })
      }
    }
  }
  await walk('')
  return out
}

/** Archive read size: big enough to keep syscalls few, small enough to stream. */
const READ_CHUNK_BYTES = 256 * 1024

/**
 * A file's bytes as a stream that opens the file only when the archiver gets
 * to it (thousands of payload files must not hold thousands of descriptors),
 * and reports a read failure instead of leaving it unhandled, which archiver
 * would (a file vanishing from staging would crash the process).
 */
function lazyFile(abs: string, onError: (e: unknown) => void): Readable {
  async function* chunks() {
    const fh = await fs.open(abs, 'r')
    try {
      for (;;) {
        const buf = Buffer.allocUnsafe(READ_CHUNK_BYTES)
        const {bytesRead} = await fh.read(buf, 0, buf.length, null)
        if (bytesRead === 0) return
        yield buf.subarray(0, bytesRead)
      }
    } finally {
      await fh.close()
    }
  }
  const stream = Readable.from(chunks(), {objectMode: false})
  stream.on('error', onError)
  return stream
}

async function sha256File(file: string): Promise<{size: number; sha256: string}> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    size += chunk.length
    hash.update(chunk)
  }
  return {size, sha256: hash.digest('hex')}
}

/**
 * Write README.txt and manifest.json into `stagingDir`; the manifest lists
 * every other file with its size and sha256. Returns the full manifest.
 */
export async function finaliseDirectory(stagingDir: string, manifest: Omit<Manifest, 'files'>): Promise<Manifest> {
  const base = {...manifest, format: FORMAT_NAME, format_version: FORMAT_VERSION} as Omit<Manifest, 'files'>
  await fs.writeFile(path.join(stagingDir, ENTRY.readme), renderReadme(base), {mode: FILE_MODE})
  const files: FileEntry[] = []
  for (const e of await listStaging(stagingDir)) {
    if (!e.stats.isFile() || e.rel === ENTRY.manifest) continue
    files.push({path: e.rel, ...(await sha256File(e.abs))})
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  const full: Manifest = {...base, files}
  const manifestPath = path.join(stagingDir, ENTRY.manifest)
  const fh = await fs.open(manifestPath, 'w', FILE_MODE)
  try {
    await fh.writeFile(`${JSON.stringify(full, null, 2)}\n`)
    await fh.sync()
  } finally {
    await fh.close()
  }
  return full
}

function isInside(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir + path.sep)
}

function assertTopFolder(name: string): void {
  if (name === '' || name === '.' || name === '..' || /[/\\\u0000-\u001f]/.test(name) || name.length > 200) {
    throw new VdiagError('failed', `invalid bundle folder name ${JSON.stringify(name)}`, {hint: 'This is a bug in vdiag; please report it.'})
  }
}

/** Hashes and counts the archive bytes on their way to disk. */
function digestTap(): {tap: Transform; result: () => {size: number; sha256: string}} {
  const hash = createHash('sha256')
  let size = 0
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk)
      size += chunk.length
      cb(null, chunk)
    },
  })
  return {tap, result: () => ({size, sha256: hash.digest('hex')})}
}

async function fsyncPath(p: string, flags: string): Promise<void> {
  const fh = await fs.open(p, flags)
  try {
    await fh.sync()
  } catch (e) {
    // Some filesystems cannot fsync a directory; the rename is still atomic.
    const code = (e as NodeJS.ErrnoException).code
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'ENOTSUP') throw e
  } finally {
    await fh.close()
  }
}

const UNWRITABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR', 'EISDIR', 'EEXIST', 'ENAMETOOLONG', 'ELOOP', 'EBUSY'])
const NO_SPACE = new Set(['ENOSPC', 'EDQUOT', 'EFBIG'])

function writeError(e: unknown, output: string, stagingDir: string): VdiagError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code
  const details = {output, staging_dir: stagingDir, ...(code ? {errno: code} : {})}
  const dir = path.dirname(output)
  if (code && NO_SPACE.has(code)) {
    return new VdiagError('output_unwritable', `no space left to write the bundle in ${dir} (${code})`, {
      hint: `Free some space or write elsewhere with --output; the collected data is still in ${stagingDir}.`,
      details,
      cause: e,
    })
  }
  if (code && UNWRITABLE.has(code)) {
    return new VdiagError('output_unwritable', `cannot write the bundle to ${output} (${code}: ${errorMessage(e).replace(/^\w+: /, '')})`, {
      hint: `Choose a folder you can write to with --output; the collected data is still in ${stagingDir}.`,
      details,
      cause: e,
    })
  }
  if (isVdiagError(e)) {
    return new VdiagError('failed', `the bundle written to ${output} did not verify: ${e.message}`, {
      hint: `The disk may be failing or full; the collected data is still in ${stagingDir}.`,
      details: {...details, verify_code: e.code},
      cause: e,
    })
  }
  return new VdiagError('failed', `could not write the bundle ${output}: ${errorMessage(e)}`, {
    hint: `The collected data is still in ${stagingDir}.`,
    details,
    cause: e,
  })
}

export async function writeBundle(opts: WriteBundleOptions): Promise<WrittenBundle> {
  assertTopFolder(opts.topFolder)
  const output = path.resolve(opts.output)
  const dir = path.dirname(output)
  const tmp = path.join(dir, `.${path.basename(output)}.${process.pid}.${Date.now().toString(36)}.partial`)
  let tmpCreated = false
  // A process.exit() mid-write (a second Ctrl-C) skips every catch: the half-written file must not stay behind.
  const dropTmpAtExit = () => {
    if (tmpCreated) rmSync(tmp, {force: true})
  }
  let manifest: Manifest
  let manifestDigest: {size: number; sha256: string}
  let staged: StagedEntry[]
  try {
    manifest = await finaliseDirectory(opts.stagingDir, opts.manifest)
    manifestDigest = await sha256File(path.join(opts.stagingDir, ENTRY.manifest))
    staged = await listStaging(opts.stagingDir)
  } catch (e) {
    if (isVdiagError(e)) throw e
    const code = (e as NodeJS.ErrnoException).code
    if (code && NO_SPACE.has(code)) throw writeError(e, output, opts.stagingDir)
    throw new VdiagError('failed', `cannot finalise the staging folder ${opts.stagingDir}: ${errorMessage(e)}`, {
      hint: 'The staging folder was removed or is not readable.',
      details: {staging_dir: opts.stagingDir},
      cause: e,
    })
  }
  try {
    // manifest.json and README.txt first so a reader meets the manifest before anything it lists.
    const first = [ENTRY.manifest, ENTRY.readme]
    staged.sort((a, b) => {
      const fa = first.indexOf(a.rel as (typeof first)[number])
      const fb = first.indexOf(b.rel as (typeof first)[number])
      if (fa !== -1 || fb !== -1) return (fa === -1 ? 99 : fa) - (fb === -1 ? 99 : fb)
      return a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0
    })
    const created = new Date(manifest.created_at)
    const date = Number.isNaN(created.getTime()) ? FALLBACK_MTIME : created

    const {TarArchive, ZipArchive} = await import('archiver')
    const archive =
      opts.format === 'zip'
        ? new ZipArchive({zlib: {level: COMPRESSION_LEVEL}})
        : new TarArchive({gzip: true, gzipOptions: {level: COMPRESSION_LEVEL}})
    const warnings: Error[] = []
    archive.on('warning', (w) => warnings.push(w))
    // Errors reach us through pipeline(); this keeps a late one from being "unhandled".
    archive.on('error', () => {})
    const failSource = (e: unknown) => archive.destroy(e as Error)
    archive.append(Buffer.alloc(0), {name: `${opts.topFolder}/`, type: 'directory', date, mode: DIR_MODE})
    for (const e of staged) {
      const name = `${opts.topFolder}/${e.rel}`
      if (e.stats.isDirectory()) archive.append(Buffer.alloc(0), {name: `${name}/`, type: 'directory', date, mode: DIR_MODE})
      else archive.append(lazyFile(e.abs, failSource), {name, stats: e.stats, date, mode: FILE_MODE})
    }
    const {tap, result} = digestTap()
    // Created here with O_EXCL, so on failure we know the file is ours to remove.
    process.on('exit', dropTmpAtExit)
    const fh = await fs.open(tmp, 'wx', FILE_MODE)
    tmpCreated = true
    const out = createWriteStream(tmp, {fd: fh})
    const finalised = archive.finalize()
    try {
      await Promise.all([pipeline(archive, tap, out), finalised])
    } catch (e) {
      out.destroy()
      await fh.close().catch(() => {})
      throw e
    }
    if (warnings.length > 0) {
      const w = warnings[0] as NodeJS.ErrnoException
      throw new VdiagError('failed', `could not archive ${opts.stagingDir}: ${w.code ?? ''} ${w.message}`.replace(/\s+/g, ' '), {
        hint: 'A file disappeared from the staging folder while it was being archived.',
      })
    }
    await fs.chmod(tmp, FILE_MODE)
    await fsyncPath(tmp, 'r')
    const {size, sha256} = result()

    const back = await verifyArchive(tmp, UNBOUNDED_LIMITS)
    if (back.prefix !== opts.topFolder || back.manifestSha256 !== manifestDigest.sha256) {
      throw new VdiagError('failed', `the archive read back from ${tmp} does not hold the manifest that was written`, {
        hint: 'The disk may be failing; the collected data is still in the staging folder.',
      })
    }
    await fs.rename(tmp, output)
    tmpCreated = false
    await fsyncPath(dir, 'r')
    return {path: output, size, sha256, manifest}
  } catch (e) {
    if (tmpCreated) await fs.rm(tmp, {force: true}).catch(() => {})
    if (isVdiagError(e) && (e.code === 'output_unwritable' || e.code === 'failed')) throw e
    const failedPath = (e as NodeJS.ErrnoException | undefined)?.path
    if (typeof failedPath === 'string' && isInside(path.resolve(failedPath), path.resolve(opts.stagingDir))) {
      // A read of the staging folder failed (a file vanished or became unreadable), not the output.
      throw new VdiagError('failed', `could not archive ${failedPath}: ${errorMessage(e)}`, {
        hint: 'Something changed the staging folder while the bundle was being written; try again.',
        details: {staging_dir: opts.stagingDir},
        cause: e,
      })
    }
    throw writeError(e, output, opts.stagingDir)
  } finally {
    process.off('exit', dropTmpAtExit)
  }
}
