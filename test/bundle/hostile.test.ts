/**
 * Hostile bundles, generated here byte by byte: each must be refused with a
 * one-line error of the right code, leave its temp directory removed, and
 * write nothing anywhere else (the canary paths must never appear).
 */
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {gzipSync} from 'node:zlib'
import {ENTRY, type Manifest} from '../../src/bundle/format.js'
import {openBundle, type ReaderLimits} from '../../src/bundle/reader.js'
import {VdiagError, type ErrorCode} from '../../src/errors.js'
import {tarBytes, tarGz, zipBytes, type TarSpec, type ZipSpec} from './helpers/archive-bytes.js'
import {manifestFor, SAMPLE_FILES, tempDir, type BundleFile} from './helpers/fixture.js'

const CANARY = `vdiag-canary-${randomBytes(6).toString('hex')}`
const TOP = 'bundle'
const MiB = 1024 * 1024

let work: string
let tmpRoot: string

before(async () => {
  work = await tempDir('vdiag-test-hostile-')
  // Nested so that "../" from the extraction folder still lands inside `work`, where we can look.
  tmpRoot = path.join(work, 'a', 'b', 'tmproot')
  await fs.mkdir(tmpRoot, {recursive: true})
})
after(async () => {
  await fs.rm(work, {recursive: true, force: true})
})

/** Every place a traversal or absolute entry named CANARY could have landed. */
function canaryPaths(): string[] {
  const extraction = path.join(tmpRoot, 'vdiag-bundle-XXXXXX', 'x')
  const out = new Set<string>([path.join('/tmp', CANARY), path.join(os.tmpdir(), CANARY), path.join(process.cwd(), CANARY)])
  for (let up = 0; up <= 10; up++) out.add(path.resolve(extraction, ...Array<string>(up).fill('..'), CANARY))
  for (let up = 0; up <= 10; up++) out.add(path.resolve(extraction, TOP, ...Array<string>(up).fill('..'), 'tmp', CANARY))
  return [...out]
}

function assertNoCanary(): void {
  for (const p of canaryPaths()) assert.equal(existsSync(p), false, `something was written to ${p}`)
}

/** A valid bundle's entries (manifest first, like the writer), with hooks to break it. */
function bundleTar(opts: {files?: BundleFile[]; manifest?: Manifest | string; before?: TarSpec[]; after?: TarSpec[]; manifestLast?: boolean} = {}): TarSpec[] {
  const files = opts.files ?? SAMPLE_FILES
  const manifest = opts.manifest ?? manifestFor(files)
  const m: TarSpec = {name: `${TOP}/${ENTRY.manifest}`, body: typeof manifest === 'string' ? manifest : JSON.stringify(manifest)}
  const rest: TarSpec[] = files.map((f) => ({name: `${TOP}/${f.path}`, body: Buffer.from(f.body)}))
  return [
    ...(opts.before ?? []),
    {name: `${TOP}/`, type: '5'},
    ...(opts.manifestLast ? [...rest, m] : [m, ...rest]),
    ...(opts.after ?? []),
  ]
}

function bundleZip(opts: {files?: BundleFile[]; after?: ZipSpec[]} = {}): ZipSpec[] {
  const files = opts.files ?? SAMPLE_FILES
  return [
    {name: `${TOP}/`},
    {name: `${TOP}/${ENTRY.manifest}`, body: JSON.stringify(manifestFor(files))},
    ...files.map((f) => ({name: `${TOP}/${f.path}`, body: Buffer.from(f.body)})),
    ...(opts.after ?? []),
  ]
}

let n = 0
async function put(bytes: Buffer, ext: string): Promise<string> {
  const p = path.join(work, `case-${++n}.${ext}`)
  await fs.writeFile(p, bytes)
  return p
}

async function expectRefused(file: string, code: ErrorCode, pattern?: RegExp, limits?: Partial<ReaderLimits>): Promise<void> {
  await assert.rejects(openBundle(file, {tmpRoot, limits}), (e: unknown) => {
    assert.ok(e instanceof VdiagError, `not a VdiagError: ${String(e)}`)
    assert.equal(e.code, code, `${e.code}: ${e.message}`)
    assert.equal(e.exitCode, 1)
    assert.ok(!e.message.includes('\n'), 'one line')
    assert.ok(e.message.startsWith(file), e.message)
    if (pattern) assert.match(e.message, pattern)
    assert.ok(e.hint)
    return true
  })
  assert.deepEqual(await fs.readdir(tmpRoot), [], 'temp directory removed')
  assertNoCanary()
}

describe('hostile bundles', () => {
  it('the well-formed base cases open (so the failures below are due to the planted fault)', {timeout: 30_000}, async () => {
    for (const file of [await put(tarGz(bundleTar()), 'tar.gz'), await put(tarGz(bundleTar({manifestLast: true})), 'tar.gz'), await put(zipBytes(bundleZip()), 'zip')]) {
      const b = await openBundle(file, {tmpRoot})
      assert.equal(b.verified, true)
      await b.cleanup()
    }
    assert.deepEqual(await fs.readdir(tmpRoot), [])
  })

  it('path traversal with ..', {timeout: 30_000}, async () => {
    const deep = `${TOP}/${'../'.repeat(12)}tmp/${CANARY}`
    await expectRefused(await put(tarGz(bundleTar({after: [{name: deep, body: 'pwned'}]})), 'tar.gz'), 'bundle_unsafe', /escapes/)
    await expectRefused(await put(tarGz([{name: `../${CANARY}`, body: 'pwned'}]), 'tar.gz'), 'bundle_unsafe', /escapes/)
    await expectRefused(await put(zipBytes(bundleZip({after: [{name: `${TOP}/../../${CANARY}`, body: 'pwned'}]})), 'zip'), 'bundle_unsafe', /escapes/)
  })

  it('absolute paths', {timeout: 30_000}, async () => {
    await expectRefused(await put(tarGz(bundleTar({after: [{name: `/tmp/${CANARY}`, body: 'pwned'}]})), 'tar.gz'), 'bundle_unsafe', /absolute/)
    await expectRefused(await put(zipBytes(bundleZip({after: [{name: `/tmp/${CANARY}`, body: 'pwned'}]})), 'zip'), 'bundle_unsafe', /absolute/)
    await expectRefused(await put(tarGz([{name: `C:/${CANARY}`, body: 'x'}]), 'tar.gz'), 'bundle_unsafe', /absolute/)
  })

  it('symbolic links, including one used to write through', {timeout: 30_000}, async () => {
    const viaLink: TarSpec[] = [
      {name: `${TOP}/evil`, type: '2', linkname: '/tmp'},
      {name: `${TOP}/evil/${CANARY}`, body: 'pwned'},
    ]
    await expectRefused(await put(tarGz(bundleTar({after: viaLink})), 'tar.gz'), 'bundle_unsafe', /symbolic link/)
    await expectRefused(await put(zipBytes(bundleZip({after: [{name: `${TOP}/link`, body: '/etc/passwd', mode: 0o120777, method: 0}]})), 'zip'), 'bundle_unsafe', /symbolic link/)
  })

  it('hard links', {timeout: 30_000}, async () => {
    await expectRefused(await put(tarGz(bundleTar({after: [{name: `${TOP}/passwd`, type: '1', linkname: '/etc/passwd'}]})), 'tar.gz'), 'bundle_unsafe', /hard link/)
  })

  it('device files and FIFOs', {timeout: 30_000}, async () => {
    await expectRefused(await put(tarGz(bundleTar({after: [{name: `${TOP}/null`, type: '3'}]})), 'tar.gz'), 'bundle_unsafe', /device/)
    await expectRefused(await put(tarGz(bundleTar({after: [{name: `${TOP}/sda`, type: '4'}]})), 'tar.gz'), 'bundle_unsafe', /device/)
    await expectRefused(await put(tarGz(bundleTar({after: [{name: `${TOP}/fifo`, type: '6'}]})), 'tar.gz'), 'bundle_unsafe', /FIFO/)
    await expectRefused(await put(zipBytes(bundleZip({after: [{name: `${TOP}/dev`, body: '', mode: 0o020644, method: 0}]})), 'zip'), 'bundle_unsafe', /special file/)
  })

  it('a gzip bomb', {timeout: 60_000}, async () => {
    // 64 MiB of zeros gzip to ~64 KiB: a ratio near 1000:1.
    const bomb = gzipSync(tarBytes([{name: `${TOP}/spans/spans.ndjson.gz`, body: Buffer.alloc(64 * MiB)}]), {level: 9})
    assert.ok(bomb.length < MiB)
    await expectRefused(await put(bomb, 'tar.gz'), 'bundle_unsafe', /ratio/)
  })

  it('a zip bomb (declared and real ratio)', {timeout: 60_000}, async () => {
    await expectRefused(await put(zipBytes([{name: `${TOP}/big.bin`, body: Buffer.alloc(64 * MiB)}]), 'zip'), 'bundle_unsafe', /ratio/)
  })

  it('a zip with overlapping entries', {timeout: 30_000}, async () => {
    const entries: ZipSpec[] = [
      {name: `${TOP}/a`, body: 'A'.repeat(100)},
      {name: `${TOP}/b`, body: 'B'.repeat(100)},
    ]
    // The first record claims a compressed range reaching into the second entry.
    await expectRefused(await put(zipBytes(entries, [{of: 0, compressedSize: 60}, {of: 1}]), 'zip'), 'bundle_unsafe', /overlap/)
    // Two records for one local entry (the classic overlapping-bomb layout).
    await expectRefused(await put(zipBytes(entries, [{of: 0}, {of: 0, name: `${TOP}/c`}, {of: 1}]), 'zip'), 'bundle_unsafe', /overlap/)
  })

  it('a zip entry holding more than it declares', {timeout: 30_000}, async () => {
    const m = manifestFor([{path: 'x.bin', body: 'y'.repeat(5000)}])
    const z = zipBytes([
      {name: `${TOP}/${ENTRY.manifest}`, body: JSON.stringify(m)},
      {name: `${TOP}/x.bin`, body: 'y'.repeat(5000), declaredSize: 10},
    ])
    await expectRefused(await put(z, 'zip'), 'bundle_unsafe', /more data than/)
  })

  it('a tampered file', {timeout: 30_000}, async () => {
    const files = SAMPLE_FILES.map((f) => (f.path === ENTRY.pipeline ? {...f, body: '{"components":[1]}'} : f))
    const tampered = bundleTar({files, manifest: manifestFor(SAMPLE_FILES, {}, (e) => e.map((x) => (x.path === ENTRY.pipeline ? {...x, size: 18} : x)))})
    await expectRefused(await put(tarGz(tampered), 'tar.gz'), 'bundle_checksum', /pipeline\/pipeline\.json.*sha256/)
    const zipTampered: ZipSpec[] = [
      {name: `${TOP}/${ENTRY.manifest}`, body: JSON.stringify(manifestFor(SAMPLE_FILES))},
      ...SAMPLE_FILES.map((f) => ({name: `${TOP}/${f.path}`, body: f.path === ENTRY.readme ? 'HELLO\n' : Buffer.from(f.body)})),
    ]
    await expectRefused(await put(zipBytes(zipTampered), 'zip'), 'bundle_checksum', /README\.txt/)
  })

  it('a manifest that lies about sizes (larger than declared, early and late)', {timeout: 30_000}, async () => {
    const lying = manifestFor(SAMPLE_FILES, {}, (e) => e.map((x) => (x.path === ENTRY.pipeline ? {...x, size: 5} : x)))
    await expectRefused(await put(tarGz(bundleTar({manifest: lying})), 'tar.gz'), 'bundle_checksum', /pipeline\/pipeline\.json.*says 5/)
    await expectRefused(await put(tarGz(bundleTar({manifest: lying, manifestLast: true})), 'tar.gz'), 'bundle_checksum', /pipeline\/pipeline\.json.*says 5/)
    const bigger = manifestFor(SAMPLE_FILES, {}, (e) => e.map((x) => (x.path === ENTRY.readme ? {...x, size: 10_000} : x)))
    await expectRefused(await put(tarGz(bundleTar({manifest: bigger})), 'tar.gz'), 'bundle_checksum', /README\.txt/)
  })

  it('files missing from, or not listed in, the manifest', {timeout: 30_000}, async () => {
    const extra = bundleTar({after: [{name: `${TOP}/extra.txt`, body: 'unlisted'}]})
    await expectRefused(await put(tarGz(extra), 'tar.gz'), 'bundle_checksum', /extra\.txt.*not listed/)
    const listsMore = manifestFor([...SAMPLE_FILES, {path: 'metrics/snapshots.ndjson', body: '{}'}])
    await expectRefused(await put(tarGz(bundleTar({manifest: listsMore})), 'tar.gz'), 'bundle_checksum', /metrics\/snapshots\.ndjson.*missing/)
  })

  it('an unknown format version or format name', {timeout: 30_000}, async () => {
    await expectRefused(await put(tarGz(bundleTar({manifest: manifestFor(SAMPLE_FILES, {format_version: 99})})), 'tar.gz'), 'bundle_version', /version 99/)
    await expectRefused(
      await put(tarGz(bundleTar({manifest: manifestFor(SAMPLE_FILES, {format: 'other-bundle' as Manifest['format']})})), 'tar.gz'),
      'bundle_version',
      /other-bundle/,
    )
  })

  it('a truncated gzip, and a truncated tar inside a whole gzip', {timeout: 30_000}, async () => {
    const whole = tarGz(bundleTar({files: [...SAMPLE_FILES, {path: 'noise.bin', body: randomBytes(20_000)}]}))
    await expectRefused(await put(whole.subarray(0, Math.floor(whole.length * 0.6)), 'tar.gz'), 'bundle_corrupt', /truncated/)
    const tar = tarBytes(bundleTar({files: [...SAMPLE_FILES, {path: 'noise.bin', body: randomBytes(20_000)}]}), {end: false})
    await expectRefused(await put(gzipSync(tar.subarray(0, tar.length - 8000)), 'tar.gz'), 'bundle_corrupt', /[Tt]runcated/)
  })

  it('a missing or unparsable manifest', {timeout: 30_000}, async () => {
    const noManifest: TarSpec[] = [{name: `${TOP}/`, type: '5'}, ...SAMPLE_FILES.map((f) => ({name: `${TOP}/${f.path}`, body: Buffer.from(f.body)}))]
    await expectRefused(await put(tarGz(noManifest), 'tar.gz'), 'bundle_corrupt', /no manifest\.json/)
    await expectRefused(await put(tarGz(bundleTar({manifest: '{"format": "vdiag-bundle", '})), 'tar.gz'), 'bundle_corrupt', /not valid JSON/)
    await expectRefused(await put(tarGz(bundleTar({manifest: '{"format":"vdiag-bundle","format_version":1}'})), 'tar.gz'), 'bundle_corrupt', /missing/)
  })

  it('duplicate entries', {timeout: 30_000}, async () => {
    await expectRefused(await put(tarGz(bundleTar({after: [{name: `${TOP}/${ENTRY.readme}`, body: 'again'}]})), 'tar.gz'), 'bundle_unsafe', /duplicate/)
  })

  it('entries over the size and count limits, refused before their bytes are read', {timeout: 30_000}, async () => {
    // A header declaring 100 GiB followed by nothing.
    await expectRefused(await put(gzipSync(tarBytes([{name: `${TOP}/huge.bin`, headerSize: 100 * 1024 * MiB}], {end: false})), 'tar.gz'), 'bundle_unsafe', /per-file limit/)
    await expectRefused(await put(tarGz(bundleTar()), 'tar.gz'), 'bundle_unsafe', /per-file limit/, {maxEntryBytes: 10})
    await expectRefused(await put(tarGz(bundleTar()), 'tar.gz'), 'bundle_unsafe', /limit of 50 bytes/, {maxTotalBytes: 50})
    await expectRefused(await put(zipBytes(bundleZip()), 'zip'), 'bundle_unsafe', /entries/, {maxEntries: 2})
  })

  it('files that are not archives', {timeout: 30_000}, async () => {
    await expectRefused(await put(Buffer.from('just some text, not a bundle\n'), 'tar.gz'), 'bundle_corrupt', /not a vdiag bundle/)
    await expectRefused(await put(gzipSync(randomBytes(4096)), 'tar.gz'), 'bundle_corrupt', /tar/)
    await expectRefused(await put(Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), randomBytes(200)]), 'zip'), 'bundle_corrupt', /zip/)
  })

  it('a missing path is a plain failure, not a crash', {timeout: 10_000}, async () => {
    await assert.rejects(openBundle(path.join(work, 'nope.tar.gz'), {tmpRoot}), (e: unknown) => e instanceof VdiagError && e.code === 'failed' && e.exitCode === 1)
  })

  it('a folder bundle holding a symbolic link or a changed file', {timeout: 30_000}, async () => {
    const dir = path.join(work, 'folder-bundle')
    await fs.mkdir(path.join(dir, 'pipeline'), {recursive: true})
    for (const f of SAMPLE_FILES) {
      await fs.mkdir(path.dirname(path.join(dir, f.path)), {recursive: true})
      await fs.writeFile(path.join(dir, f.path), f.body)
    }
    await fs.writeFile(path.join(dir, ENTRY.manifest), JSON.stringify(manifestFor(SAMPLE_FILES)))
    const ok = await openBundle(dir, {tmpRoot})
    assert.equal(ok.source, 'dir')
    await fs.symlink('/etc/passwd', path.join(dir, 'pipeline', 'passwd'))
    await expectRefused(dir, 'bundle_unsafe', /symbolic link/)
    await fs.rm(path.join(dir, 'pipeline', 'passwd'))
    await fs.writeFile(path.join(dir, ENTRY.readme), 'changed\n')
    await expectRefused(dir, 'bundle_checksum', /README\.txt/)
  })

  it('wrote nothing outside its temp directories', () => {
    assertNoCanary()
  })
})
