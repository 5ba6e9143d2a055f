/**
 * What the tar and zip walkers hand their entries to. It decides, for each
 * entry of an untrusted archive, whether it may exist (name, type, duplicates,
 * sizes, limits) and then either extracts it under one fresh directory or only
 * hashes it (the writer's read-back). Files are created exclusively, without
 * following links, inside directories this collector made itself, so nothing
 * can land outside `extractTo`.
 */
import {createHash, type Hash} from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import {bundleChecksum, bundleCorrupt, bundleUnsafe, showName} from './bundle-errors.js'
import {safeEntryPath} from './entry-path.js'
import {ENTRY, type Manifest} from './format.js'
import type {ReaderLimits} from './limits.js'
import {compareWithManifest, parseManifest, type FoundFile} from './manifest-check.js'

export interface CollectedBundle {
  manifest: Manifest
  /** sha256 of manifest.json as stored in the archive. */
  manifestSha256: string
  /** The bundle root inside the archive ('' or the one top folder). */
  prefix: string
  /** Files by path relative to the bundle root, manifest.json included. */
  files: Map<string, FoundFile>
  /** Differences from the manifest, when not verifying strictly. */
  warnings: string[]
}

export interface FileSink {
  write(chunk: Buffer): void
  close(): void
}

const EXCL_NOFOLLOW = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW

function isManifestCandidate(p: string): boolean {
  return p === ENTRY.manifest || /^[^/]+\/manifest\.json$/.test(p)
}

export class EntryCollector {
  private entries = 0
  private totalBytes = 0
  private fileEntries = 0
  /** Every path seen (files and directories), archive-relative. */
  private readonly kinds = new Map<string, 'file' | 'dir'>()
  private readonly found = new Map<string, FoundFile>()
  private readonly madeDirs = new Set<string>()
  private readonly manifests = new Map<string, {bytes: Buffer; sha256: string}>()
  /** Set when manifest.json was the archive's first file: later entries are checked against it as they stream. */
  private early: {prefix: string; manifest: Manifest; sizes: Map<string, number>} | null = null
  private openFd: number | null = null

  constructor(
    private readonly limits: ReaderLimits,
    /** Directory to extract into (must exist and be empty), or null to hash only. */
    private readonly extractTo: string | null,
    private readonly verify: boolean,
  ) {}

  /** Totals an archive declares up front (zip central directory), checked before any byte is inflated. */
  declareTotals(entries: number, uncompressedBytes: number): void {
    if (entries > this.limits.maxEntries) throw bundleUnsafe(`archive has ${entries} entries, more than the limit of ${this.limits.maxEntries}`)
    if (uncompressedBytes > this.limits.maxTotalBytes) {
      throw bundleUnsafe(`archive declares ${uncompressedBytes} bytes uncompressed, more than the limit of ${this.limits.maxTotalBytes}`)
    }
  }

  dir(rawName: string): void {
    const p = this.place(rawName)
    if (p === '') return
    const prev = this.kinds.get(p)
    if (prev === 'file') throw bundleUnsafe(`duplicate entry ${showName(p)} (a file and a folder)`)
    if (prev === 'dir') return
    this.checkAncestors(p)
    this.kinds.set(p, 'dir')
    if (this.extractTo !== null) this.makeDirs(p)
  }

  /** Start a regular file. `declaredSize` is what the archive header says it holds. */
  openFile(rawName: string, declaredSize: number): FileSink {
    const p = this.place(rawName)
    if (p === '') throw bundleCorrupt(`file entry without a name: ${showName(rawName)}`)
    if (this.kinds.has(p)) throw bundleUnsafe(`duplicate entry ${showName(p)}`)
    this.checkAncestors(p)
    if (declaredSize > this.limits.maxEntryBytes) {
      throw bundleUnsafe(`entry ${showName(p)} declares ${declaredSize} bytes, more than the per-file limit of ${this.limits.maxEntryBytes}`)
    }
    if (this.totalBytes + declaredSize > this.limits.maxTotalBytes) {
      throw bundleUnsafe(`entries add up to more than the limit of ${this.limits.maxTotalBytes} bytes`)
    }
    this.kinds.set(p, 'file')
    const isFirstFile = this.fileEntries++ === 0
    const manifestCandidate = isManifestCandidate(p)
    const listed = this.expectedSize(p)
    if (this.verify && listed !== undefined && declaredSize > listed.size) {
      throw bundleChecksum(`${showName(listed.rel)} is ${declaredSize} bytes, ${ENTRY.manifest} says ${listed.size}`, {file: listed.rel})
    }

    let fd: number | null = null
    if (this.extractTo !== null) {
      const parent = path.posix.dirname(p)
      if (parent !== '.') this.makeDirs(parent)
      fd = fs.openSync(path.join(this.extractTo, p), EXCL_NOFOLLOW, 0o600)
      this.openFd = fd
    }
    const hash: Hash = createHash('sha256')
    const chunks: Buffer[] | null = manifestCandidate ? [] : null
    let size = 0
    return {
      write: (chunk: Buffer) => {
        size += chunk.length
        this.totalBytes += chunk.length
        if (size > declaredSize) throw bundleUnsafe(`entry ${showName(p)} holds more data than its header declares (${declaredSize} bytes)`)
        if (this.totalBytes > this.limits.maxTotalBytes) throw bundleUnsafe(`entries add up to more than the limit of ${this.limits.maxTotalBytes} bytes`)
        if (this.verify && listed !== undefined && size > listed.size) {
          throw bundleChecksum(`${showName(listed.rel)} is larger than the ${listed.size} bytes ${ENTRY.manifest} says`, {file: listed.rel})
        }
        if (chunks) {
          if (size > this.limits.maxManifestBytes) throw bundleUnsafe(`${showName(p)} is larger than ${this.limits.maxManifestBytes} bytes`)
          chunks.push(chunk)
        }
        hash.update(chunk)
        if (fd !== null) {
          for (let off = 0; off < chunk.length; ) off += fs.writeSync(fd, chunk, off, chunk.length - off)
        }
      },
      close: () => {
        if (fd !== null) {
          fs.closeSync(fd)
          this.openFd = null
        }
        const sha256 = hash.digest('hex')
        this.found.set(p, {size, sha256})
        if (chunks) {
          const bytes = Buffer.concat(chunks)
          this.manifests.set(p, {bytes, sha256})
          if (isFirstFile) {
            const manifest = parseManifest(bytes)
            const prefix = p === ENTRY.manifest ? '' : p.slice(0, p.indexOf('/'))
            this.early = {prefix, manifest, sizes: new Map(manifest.files.map((f) => [f.path, f.size]))}
          }
        }
      },
    }
  }

  /** Close whatever file is open (after a failure). */
  abort(): void {
    if (this.openFd !== null) {
      try {
        fs.closeSync(this.openFd)
      } catch {
        // already closed
      }
      this.openFd = null
    }
  }

  /** After the last entry: find the bundle root and manifest, and compare the contents with it. */
  finish(): CollectedBundle {
    const tops = new Set<string>()
    for (const p of this.kinds.keys()) tops.add(p.split('/')[0]!)
    let prefix: string
    if (this.manifests.has(ENTRY.manifest)) prefix = ''
    else if (tops.size === 1 && this.manifests.has(`${[...tops][0]}/${ENTRY.manifest}`)) prefix = [...tops][0]!
    else if (tops.size > 1) throw bundleCorrupt(`no ${ENTRY.manifest} at the top, and more than one top-level folder`)
    else throw bundleCorrupt(`no ${ENTRY.manifest} in the archive`)

    const {bytes, sha256} = this.manifests.get(prefix ? `${prefix}/${ENTRY.manifest}` : ENTRY.manifest)!
    const manifest = this.early && this.early.prefix === prefix ? this.early.manifest : parseManifest(bytes)
    const files = new Map<string, FoundFile>()
    for (const [p, f] of this.found) files.set(prefix ? p.slice(prefix.length + 1) : p, f)
    const warnings = compareWithManifest(manifest, files, this.verify)
    return {manifest, manifestSha256: sha256, prefix, files, warnings}
  }

  // ---------- internals ----------

  /** Count an entry and turn its name into a clean archive-relative path. */
  private place(rawName: string): string {
    if (++this.entries > this.limits.maxEntries) throw bundleUnsafe(`archive has more than ${this.limits.maxEntries} entries`)
    const p = safeEntryPath(rawName, this.limits)
    if (this.early && p !== '') {
      const {prefix} = this.early
      if (prefix !== '' && p !== prefix && !p.startsWith(`${prefix}/`)) {
        throw bundleCorrupt(`entry ${showName(p)} is outside the bundle folder ${showName(prefix)}`)
      }
    }
    return p
  }

  /** With an early manifest: the size it lists for this entry, and the entry's bundle-relative name. */
  private expectedSize(p: string): {rel: string; size: number} | undefined {
    if (!this.early) return undefined
    const rel = this.early.prefix ? p.slice(this.early.prefix.length + 1) : p
    if (rel === ENTRY.manifest) return undefined
    const size = this.early.sizes.get(rel)
    if (size === undefined) {
      if (this.verify) throw bundleChecksum(`${showName(rel)} is in the bundle but not listed in ${ENTRY.manifest}`, {file: rel})
      return undefined
    }
    return {rel, size}
  }

  /** A path below an existing file cannot be created; say so before the filesystem does. */
  private checkAncestors(p: string): void {
    let i = p.indexOf('/')
    while (i !== -1) {
      if (this.kinds.get(p.slice(0, i)) === 'file') throw bundleUnsafe(`entry ${showName(p)} sits below a file of the same name`)
      i = p.indexOf('/', i + 1)
    }
  }

  private makeDirs(rel: string): void {
    const parts = rel.split('/')
    for (let i = 1; i <= parts.length; i++) {
      const q = parts.slice(0, i).join('/')
      if (this.madeDirs.has(q)) continue
      const abs = path.join(this.extractTo!, q)
      try {
        fs.mkdirSync(abs, {mode: 0o700})
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !fs.lstatSync(abs).isDirectory()) throw e
      }
      this.madeDirs.add(q)
    }
  }
}
