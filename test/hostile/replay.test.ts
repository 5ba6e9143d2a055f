/**
 * Hostile bundles through the real CLI (`vdiag replay FILE`): each is refused
 * with exit 1 and one line on stderr (plus a hint), no stack trace, and
 * nothing is written anywhere but the run's own temporary directory, which
 * is gone afterwards. The child gets a private TMPDIR nested inside the test
 * folder, so a `../` escape would land where we look, and the comparison
 * cannot be disturbed by other processes using the real temp folder.
 */
import {after, before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {gzipSync} from 'node:zlib'
import {runCli} from '../helpers/cli.js'
import {ENTRY, type Manifest} from '../../src/bundle/format.js'
import {tarBytes, tarGz, zipBytes, type TarSpec, type ZipSpec} from '../bundle/helpers/archive-bytes.js'
import {manifestFor, SAMPLE_FILES, type BundleFile} from '../bundle/helpers/fixture.js'
import {assertCleanExit, assertOneLineError, workDir} from '../faults/helpers.js'

const CANARY = `vdiag-canary-${randomBytes(6).toString('hex')}`
const TOP = 'bundle'
const MiB = 1024 * 1024

const work = workDir('vdiag-hostile-replay-')
/** Deep enough that `../` runs from the extraction folder stay inside `work`. */
const childTmp = path.join(work, 'a', 'b', 'c', 'tmp')
const cwd = path.join(work, 'cwd')
const inputs = path.join(work, 'inputs')
before(() => {
  for (const d of [childTmp, cwd, inputs]) mkdirSync(d, {recursive: true})
})
after(() => rmSync(work, {recursive: true, force: true}))

function bundleTar(opts: {files?: BundleFile[]; manifest?: Manifest; after?: TarSpec[]} = {}): TarSpec[] {
  const files = opts.files ?? SAMPLE_FILES
  return [
    {name: `${TOP}/`, type: '5'},
    {name: `${TOP}/${ENTRY.manifest}`, body: JSON.stringify(opts.manifest ?? manifestFor(files))},
    ...files.map((f) => ({name: `${TOP}/${f.path}`, body: Buffer.from(f.body)})),
    ...(opts.after ?? []),
  ]
}

function bundleZip(after: ZipSpec[] = []): ZipSpec[] {
  return [
    {name: `${TOP}/`},
    {name: `${TOP}/${ENTRY.manifest}`, body: JSON.stringify(manifestFor(SAMPLE_FILES))},
    ...SAMPLE_FILES.map((f) => ({name: `${TOP}/${f.path}`, body: Buffer.from(f.body)})),
    ...after,
  ]
}

let n = 0
function put(bytes: Buffer, ext: string): string {
  const p = path.join(inputs, `case-${++n}.${ext}`)
  writeFileSync(p, bytes)
  return p
}

/** Every file named CANARY under `work`, plus the places an absolute or deep traversal would reach. */
function canaries(): string[] {
  const found: string[] = []
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, {withFileTypes: true})) {
      if (e.name.includes(CANARY)) found.push(path.join(dir, e.name))
      if (e.isDirectory()) walk(path.join(dir, e.name))
    }
  }
  walk(work)
  for (const p of [path.join('/tmp', CANARY), path.join('/', CANARY), path.join(path.dirname(work), CANARY)]) if (existsSync(p)) found.push(p)
  return found
}

async function replay(input: string): Promise<{code: number | null; stderr: string; stdout: string}> {
  const r = await runCli(['replay', input], {cwd, env: {TMPDIR: childTmp}, timeoutMs: 45_000})
  assertCleanExit(r, input)
  return r
}

async function expectRefused(name: string, input: string, pattern: RegExp): Promise<void> {
  const r = await replay(input)
  assert.equal(r.code, 1, `${name}: exit ${r.code}\n${r.stderr}`)
  const line = assertOneLineError(r.stderr, name)
  assert.match(line, pattern, name)
  assert.ok(line.includes(input), `${name}: the error names the bundle: ${line}`)
  assert.equal(r.stdout, '', `${name}: nothing on stdout`)
  assert.deepEqual(readdirSync(childTmp), [], `${name}: no leftover extraction folder`)
  assert.deepEqual(readdirSync(cwd), [], `${name}: nothing written to the working directory`)
  assert.deepEqual(canaries(), [], `${name}: something was written outside the temp folder`)
}

describe('hostile bundles through vdiag replay', {timeout: 300_000}, () => {
  test('the well-formed base opens and is analysed (so the refusals below are due to the planted faults)', {timeout: 60_000}, async () => {
    for (const input of [put(tarGz(bundleTar()), 'tar.gz'), put(zipBytes(bundleZip()), 'zip')]) {
      const r = await replay(input)
      assert.equal(r.code, 0, r.stderr)
      assert.deepEqual(readdirSync(childTmp), [], 'extraction folder removed after a successful replay')
    }
  })

  test('path traversal and absolute paths', {timeout: 60_000}, async () => {
    await expectRefused('deep ../ in tar', put(tarGz(bundleTar({after: [{name: `${TOP}/${'../'.repeat(12)}tmp/${CANARY}`, body: 'pwned'}]})), 'tar.gz'), /escapes/)
    await expectRefused('short ../ in tar', put(tarGz([{name: `../${CANARY}`, body: 'pwned'}]), 'tar.gz'), /escapes/)
    await expectRefused('../ in zip', put(zipBytes(bundleZip([{name: `${TOP}/../../${CANARY}`, body: 'pwned'}])), 'zip'), /escapes/)
    await expectRefused('absolute path in tar', put(tarGz(bundleTar({after: [{name: `/tmp/${CANARY}`, body: 'pwned'}]})), 'tar.gz'), /absolute/)
  })

  test('links: a symlink written through, a hard link, a zip symlink', {timeout: 60_000}, async () => {
    const through: TarSpec[] = [
      {name: `${TOP}/evil`, type: '2', linkname: path.dirname(work)},
      {name: `${TOP}/evil/${CANARY}`, body: 'pwned'},
    ]
    await expectRefused('symlink', put(tarGz(bundleTar({after: through})), 'tar.gz'), /symbolic link/)
    await expectRefused('hard link', put(tarGz(bundleTar({after: [{name: `${TOP}/passwd`, type: '1', linkname: '/etc/passwd'}]})), 'tar.gz'), /hard link/)
    await expectRefused('zip symlink', put(zipBytes(bundleZip([{name: `${TOP}/link`, body: '/etc/passwd', mode: 0o120777, method: 0}])), 'zip'), /symbolic link/)
  })

  test('a gzip bomb and a zip with overlapping entries', {timeout: 60_000}, async () => {
    const bomb = gzipSync(tarBytes([{name: `${TOP}/spans/spans.ndjson.gz`, body: Buffer.alloc(64 * MiB)}]), {level: 9})
    assert.ok(bomb.length < MiB)
    await expectRefused('gzip bomb', put(bomb, 'tar.gz'), /ratio/)
    const entries: ZipSpec[] = [
      {name: `${TOP}/a`, body: 'A'.repeat(100)},
      {name: `${TOP}/b`, body: 'B'.repeat(100)},
    ]
    await expectRefused('overlapping zip', put(zipBytes(entries, [{of: 0}, {of: 0, name: `${TOP}/c`}, {of: 1}]), 'zip'), /overlap/)
  })

  test('a tampered file, an unknown format version, a truncated gzip, not an archive at all', {timeout: 60_000}, async () => {
    const files = SAMPLE_FILES.map((f) => (f.path === ENTRY.pipeline ? {...f, body: '{"components":[1]}'} : f))
    const lying = manifestFor(SAMPLE_FILES, {}, (e) => e.map((x) => (x.path === ENTRY.pipeline ? {...x, size: 18} : x)))
    await expectRefused('tampered', put(tarGz(bundleTar({files, manifest: lying})), 'tar.gz'), /pipeline\/pipeline\.json.*sha256/)
    await expectRefused('format version 99', put(tarGz(bundleTar({manifest: manifestFor(SAMPLE_FILES, {format_version: 99})})), 'tar.gz'), /version 99/)
    const whole = tarGz(bundleTar({files: [...SAMPLE_FILES, {path: 'noise.bin', body: randomBytes(20_000)}]}))
    await expectRefused('truncated gzip', put(whole.subarray(0, Math.floor(whole.length * 0.6)), 'tar.gz'), /truncated/)
    await expectRefused('plain text', put(Buffer.from('just some text, not a bundle\n'), 'tar.gz'), /not a vdiag bundle/)
    await expectRefused('empty file', put(Buffer.alloc(0), 'zip'), /not a vdiag bundle/)
  })

  test('an extracted folder holding a symbolic link', {timeout: 60_000}, async () => {
    const dir = path.join(inputs, 'folder-bundle')
    for (const f of SAMPLE_FILES) {
      mkdirSync(path.dirname(path.join(dir, f.path)), {recursive: true})
      writeFileSync(path.join(dir, f.path), f.body)
    }
    writeFileSync(path.join(dir, ENTRY.manifest), JSON.stringify(manifestFor(SAMPLE_FILES)))
    const ok = await replay(dir)
    assert.equal(ok.code, 0, ok.stderr)
    symlinkSync('/etc/passwd', path.join(dir, 'pipeline', 'passwd'))
    await expectRefused('folder with symlink', dir, /symbolic link/)
  })
})
