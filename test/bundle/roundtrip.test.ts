import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import {after, describe, it} from 'node:test'
import {promisify} from 'node:util'
import {ENTRY} from '../../src/bundle/format.js'
import {openBundle} from '../../src/bundle/reader.js'
import {finaliseDirectory, writeBundle} from '../../src/bundle/writer.js'
import {VdiagError} from '../../src/errors.js'
import {baseManifest, makeStaging, tempDir} from './helpers/fixture.js'

const run = promisify(execFile)
const TOP = 'vdiag-roundtrip'

const cleanups: string[] = []
after(async () => {
  for (const d of cleanups) await fs.rm(d, {recursive: true, force: true})
})
async function tracked(prefix: string): Promise<string> {
  const d = await tempDir(prefix)
  cleanups.push(d)
  return d
}

/** Every file under `root`, relative path → bytes. */
async function readTree(root: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  const walk = async (rel: string) => {
    for (const e of await fs.readdir(path.join(root, rel), {withFileTypes: true})) {
      const r = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory()) await walk(r)
      else out.set(r, await fs.readFile(path.join(root, r)))
    }
  }
  await walk('')
  return out
}

describe('writer → reader round trip', () => {
  for (const format of ['tar.gz', 'zip'] as const) {
    it(`${format}: extracts to a private temp folder, verified, identical to staging, removed by cleanup()`, {timeout: 60_000}, async () => {
      const staging = await makeStaging()
      cleanups.push(staging)
      const outDir = await tracked('vdiag-test-out-')
      const tmpRoot = await tracked('vdiag-test-tmproot-')
      const written = await writeBundle({stagingDir: staging, topFolder: TOP, output: path.join(outDir, `b.${format}`), format, manifest: baseManifest()})

      const b = await openBundle(written.path, {tmpRoot})
      try {
        assert.equal(b.source, format)
        assert.equal(b.verified, true)
        assert.deepEqual(b.warnings, [])
        assert.deepEqual(b.manifest, written.manifest)
        assert.equal(path.basename(b.root), TOP)
        const [tmp] = await fs.readdir(tmpRoot)
        assert.ok(tmp && tmp.startsWith('vdiag-bundle-'))
        assert.equal((await fs.stat(path.join(tmpRoot, tmp))).mode & 0o777, 0o700)
        assert.deepEqual(await readTree(b.root), await readTree(staging))
      } finally {
        await b.cleanup()
        await b.cleanup()
      }
      assert.deepEqual(await fs.readdir(tmpRoot), [])
    })
  }

  it('recognises a zip by its bytes, whatever its name', {timeout: 60_000}, async () => {
    const staging = await makeStaging()
    cleanups.push(staging)
    const outDir = await tracked('vdiag-test-out-')
    const written = await writeBundle({stagingDir: staging, topFolder: TOP, output: path.join(outDir, 'b.zip'), format: 'zip', manifest: baseManifest()})
    const renamed = path.join(outDir, 'looks-like.tar.gz')
    await fs.copyFile(written.path, renamed)
    const b = await openBundle(renamed)
    try {
      assert.equal(b.source, 'zip')
    } finally {
      await b.cleanup()
    }
  })

  it('opens an extracted folder in place (the folder itself, or its parent with one top folder)', {timeout: 60_000}, async () => {
    const staging = await makeStaging()
    cleanups.push(staging)
    const outDir = await tracked('vdiag-test-out-')
    const written = await writeBundle({stagingDir: staging, topFolder: TOP, output: path.join(outDir, 'b.tar.gz'), format: 'tar.gz', manifest: baseManifest()})
    const x = await tracked('vdiag-test-x-')
    await run('tar', ['-xzf', written.path, '-C', x], {timeout: 30_000})
    for (const input of [path.join(x, TOP), x]) {
      const b = await openBundle(input)
      assert.equal(b.source, 'dir')
      assert.equal(b.verified, true)
      assert.equal(b.root, path.join(await fs.realpath(x), TOP))
      assert.deepEqual(b.manifest, written.manifest)
      await b.cleanup()
      assert.ok((await fs.stat(path.join(x, TOP, ENTRY.manifest))).isFile(), 'cleanup leaves a folder bundle alone')
    }
  })

  it('opens the staging folder right after finaliseDirectory', {timeout: 30_000}, async () => {
    const staging = await makeStaging()
    cleanups.push(staging)
    const m = await finaliseDirectory(staging, baseManifest())
    const b = await openBundle(staging)
    assert.deepEqual(b.manifest, m)
  })

  it('reads an archive re-packed by system tar, where manifest.json is not the first entry', {timeout: 60_000}, async () => {
    const staging = await makeStaging()
    cleanups.push(staging)
    await finaliseDirectory(staging, baseManifest())
    const outDir = await tracked('vdiag-test-out-')
    const file = path.join(outDir, 'repacked.tar.gz')
    // Entries at the archive root, README.txt and spans/ before manifest.json.
    const names = ['README.txt', 'spans', 'pipeline', 'metrics', 'host', 'vdiag.log', 'manifest.json']
    await run('tar', ['-czf', file, '-C', staging, ...names], {timeout: 30_000})
    const listing = (await run('tar', ['-tzf', file], {timeout: 30_000})).stdout.split('\n').filter(Boolean)
    assert.notEqual(listing[0], 'manifest.json')
    const b = await openBundle(file)
    try {
      assert.equal(b.verified, true)
      assert.equal(b.root.endsWith(`${path.sep}x`), true, 'entries at the archive root: the root is the extraction folder')
    } finally {
      await b.cleanup()
    }
  })

  it('with verify=false a changed file is read anyway and reported as a warning', {timeout: 60_000}, async () => {
    const staging = await makeStaging()
    cleanups.push(staging)
    await finaliseDirectory(staging, baseManifest())
    await fs.appendFile(path.join(staging, ENTRY.log), 'edited afterwards\n')
    await assert.rejects(openBundle(staging), (e: unknown) => e instanceof VdiagError && e.code === 'bundle_checksum' && e.message.includes(ENTRY.log))
    const b = await openBundle(staging, {verify: false})
    assert.equal(b.verified, false)
    assert.equal(b.warnings.length, 1)
    assert.match(b.warnings[0]!, /vdiag\.log/)
  })
})
