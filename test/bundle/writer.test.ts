import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {createHash} from 'node:crypto'
import fsSync from 'node:fs'
import fs from 'node:fs/promises'
import {syncBuiltinESMExports} from 'node:module'
import path from 'node:path'
import {after, describe, it} from 'node:test'
import {promisify} from 'node:util'
import {VdiagError} from '../../src/errors.js'
import {ENTRY, FORMAT_VERSION, type Manifest} from '../../src/bundle/format.js'
import {finaliseDirectory, writeBundle} from '../../src/bundle/writer.js'
import {baseManifest, makeStaging, tempDir} from './helpers/fixture.js'

const run = promisify(execFile)
const TOOL_TIMEOUT_MS = 30_000
const TOP = 'vdiag-20260102T030405Z-test-host'

const cleanups: string[] = []
after(async () => {
  for (const d of cleanups) await fs.rm(d, {recursive: true, force: true})
})

async function tracked(prefix: string): Promise<string> {
  const d = await tempDir(prefix)
  cleanups.push(d)
  return d
}

async function sha256File(p: string): Promise<string> {
  return createHash('sha256').update(await fs.readFile(p)).digest('hex')
}

/** Recompute every manifest checksum from files extracted by the system tool. */
async function checkExtracted(root: string): Promise<Manifest> {
  const manifest = JSON.parse(await fs.readFile(path.join(root, ENTRY.manifest), 'utf8')) as Manifest
  for (const f of manifest.files) {
    const p = path.join(root, f.path)
    assert.equal((await fs.stat(p)).size, f.size, f.path)
    assert.equal(await sha256File(p), f.sha256, f.path)
  }
  return manifest
}

describe('finaliseDirectory', () => {
  it('writes README.txt and a manifest listing every other file with size and sha256', {timeout: 30_000}, async () => {
    const staging = await makeStaging()
    cleanups.push(staging)
    const m = await finaliseDirectory(staging, baseManifest())
    assert.equal(m.format_version, FORMAT_VERSION)
    const paths = m.files.map((f) => f.path)
    assert.ok(paths.includes(ENTRY.readme))
    assert.ok(paths.includes(ENTRY.spans))
    assert.ok(!paths.includes(ENTRY.manifest))
    assert.deepEqual(paths, [...paths].sort())
    const onDisk = JSON.parse(await fs.readFile(path.join(staging, ENTRY.manifest), 'utf8'))
    assert.deepEqual(onDisk, m)
    await checkExtracted(staging)
    const readme = await fs.readFile(path.join(staging, ENTRY.readme), 'utf8')
    assert.match(readme, /vdiag replay/)
    assert.match(readme, /spans\/spans\.ndjson\.gz/)
  })
})

describe('writeBundle', () => {
  for (const format of ['tar.gz', 'zip'] as const) {
    it(`writes a ${format} that the system tool lists and verifies`, {timeout: 60_000}, async () => {
      const staging = await makeStaging()
      cleanups.push(staging)
      const outDir = await tracked('vdiag-test-out-')
      const output = path.join(outDir, `bundle.${format}`)
      const res = await writeBundle({stagingDir: staging, topFolder: TOP, output, format, manifest: baseManifest()})

      assert.equal(res.path, output)
      const st = await fs.stat(output)
      assert.equal(st.mode & 0o777, 0o600)
      assert.equal(res.size, st.size)
      assert.equal(res.sha256, await sha256File(output))
      assert.deepEqual(await fs.readdir(outDir), [`bundle.${format}`], 'no temp file left next to the output')

      const listing =
        format === 'tar.gz'
          ? (await run('tar', ['-tzf', output], {timeout: TOOL_TIMEOUT_MS})).stdout
          : (await run('unzip', ['-Z1', output], {timeout: TOOL_TIMEOUT_MS})).stdout
      const names = listing.split('\n').filter(Boolean)
      assert.deepEqual(new Set(names.map((n) => n.split('/')[0])), new Set([TOP]), 'one top folder')
      assert.equal(names.find((n) => !n.endsWith('/')), `${TOP}/${ENTRY.manifest}`, 'manifest.json is the first file')
      for (const f of res.manifest.files) assert.ok(names.includes(`${TOP}/${f.path}`), f.path)
      if (format === 'zip') {
        const t = await run('unzip', ['-t', output], {timeout: TOOL_TIMEOUT_MS})
        assert.match(t.stdout, /No errors detected/)
      }

      const x = await tracked('vdiag-test-x-')
      if (format === 'tar.gz') await run('tar', ['-xzf', output, '-C', x], {timeout: TOOL_TIMEOUT_MS})
      else await run('unzip', ['-q', output, '-d', x], {timeout: TOOL_TIMEOUT_MS})
      assert.deepEqual(await fs.readdir(x), [TOP])
      const manifest = await checkExtracted(path.join(x, TOP))
      assert.deepEqual(manifest, res.manifest)
      assert.equal((await fs.stat(path.join(x, TOP, ENTRY.spans))).mode & 0o777, 0o600)

      // The staging folder is the caller's: still there, now with README and manifest.
      assert.ok((await fs.stat(path.join(staging, ENTRY.manifest))).isFile())
    })
  }

  it('writes the same bytes twice for the same staging folder and manifest (fixed mtimes)', {timeout: 60_000}, async () => {
    const staging = await makeStaging()
    cleanups.push(staging)
    const outDir = await tracked('vdiag-test-out-')
    const a = await writeBundle({stagingDir: staging, topFolder: TOP, output: path.join(outDir, 'a.tar.gz'), format: 'tar.gz', manifest: baseManifest()})
    await new Promise((r) => setTimeout(r, 1100))
    const b = await writeBundle({stagingDir: staging, topFolder: TOP, output: path.join(outDir, 'b.tar.gz'), format: 'tar.gz', manifest: baseManifest()})
    assert.equal(a.sha256, b.sha256)
    const v = await run('tar', ['-tvzf', a.path], {timeout: TOOL_TIMEOUT_MS})
    for (const line of v.stdout.split('\n').filter(Boolean)) assert.match(line, /2026-01-02/)
  })

  it('an unwritable output folder gives output_unwritable, leaves no temp file and keeps the staging folder', {timeout: 30_000}, async () => {
    const staging = await makeStaging()
    cleanups.push(staging)
    const outDir = await tracked('vdiag-test-out-')
    let output: string
    if (process.getuid?.() === 0) {
      // root ignores permission bits: make the "folder" a regular file instead.
      await fs.writeFile(path.join(outDir, 'not-a-dir'), 'x')
      output = path.join(outDir, 'not-a-dir', 'bundle.tar.gz')
    } else {
      const ro = path.join(outDir, 'ro')
      await fs.mkdir(ro, {mode: 0o500})
      output = path.join(ro, 'bundle.tar.gz')
    }
    await assert.rejects(
      writeBundle({stagingDir: staging, topFolder: TOP, output, format: 'tar.gz', manifest: baseManifest()}),
      (e: unknown) => {
        assert.ok(e instanceof VdiagError)
        assert.equal(e.code, 'output_unwritable')
        assert.equal(e.exitCode, 1)
        assert.ok(e.message.includes(output), e.message)
        assert.ok(e.hint && e.hint.includes(staging))
        return true
      },
    )
    const left = await fs.readdir(path.dirname(output)).catch(() => [] as string[])
    assert.deepEqual(left.filter((n) => n.includes('.partial')), [])
    assert.deepEqual(await fs.readdir(outDir), process.getuid?.() === 0 ? ['not-a-dir'] : ['ro'])
    assert.ok((await fs.stat(path.join(staging, ENTRY.spans))).isFile(), 'staging kept')
  })

  it('the disk filling up mid-write gives output_unwritable and removes the temp file', {timeout: 30_000}, async () => {
    const staging = await makeStaging()
    cleanups.push(staging)
    const outDir = await tracked('vdiag-test-out-')
    const output = path.join(outDir, 'bundle.tar.gz')
    // Inject ENOSPC at the file layer: the archive's write stream fails after its first bytes.
    const real = fsSync.createWriteStream
    let injected = 0
    fsSync.createWriteStream = function (this: unknown, ...args: Parameters<typeof real>) {
      const ws = real.apply(this, args)
      if (String(args[0]).endsWith('.partial')) {
        const fail = (cb: (e?: Error | null) => void) => {
          injected++
          cb(Object.assign(new Error('ENOSPC: no space left on device, write'), {code: 'ENOSPC', errno: -28, syscall: 'write'}))
        }
        ws._write = (_chunk, _enc, cb) => fail(cb)
        ws._writev = (_chunks, cb) => fail(cb)
      }
      return ws
    } as typeof real
    syncBuiltinESMExports()
    try {
      await assert.rejects(writeBundle({stagingDir: staging, topFolder: TOP, output, format: 'tar.gz', manifest: baseManifest()}), (e: unknown) => {
        assert.ok(e instanceof VdiagError)
        assert.equal(e.code, 'output_unwritable')
        assert.match(e.message, /no space/)
        return true
      })
    } finally {
      fsSync.createWriteStream = real
      syncBuiltinESMExports()
    }
    assert.ok(injected > 0, 'the fault was injected')
    assert.deepEqual(await fs.readdir(outDir), [])
    assert.ok((await fs.stat(path.join(staging, ENTRY.spans))).isFile(), 'staging kept')
  })

  it('a staging file vanishing while it is archived fails cleanly (no crash, no temp file)', {timeout: 30_000}, async () => {
    const staging = await makeStaging()
    cleanups.push(staging)
    const outDir = await tracked('vdiag-test-out-')
    const victim = path.join(staging, ENTRY.log)
    // Inject at the file layer: opening the victim for the archive fails as if it had been deleted.
    const real = fs.open
    fs.open = (async (p: Parameters<typeof real>[0], ...rest: unknown[]) => {
      if (String(p) === victim && rest[0] === 'r') throw Object.assign(new Error(`ENOENT: no such file or directory, open '${victim}'`), {code: 'ENOENT', path: victim})
      return (real as (...a: unknown[]) => ReturnType<typeof real>)(p, ...rest)
    }) as typeof real
    try {
      await assert.rejects(
        writeBundle({stagingDir: staging, topFolder: TOP, output: path.join(outDir, 'b.zip'), format: 'zip', manifest: baseManifest()}),
        (e: unknown) => e instanceof VdiagError && e.code === 'failed' && e.message.includes(victim),
      )
    } finally {
      fs.open = real
    }
    assert.deepEqual(await fs.readdir(outDir), [])
  })

  it('refuses a staging folder holding a symbolic link, writing nothing', {timeout: 30_000}, async () => {
    const staging = await makeStaging()
    cleanups.push(staging)
    await fs.symlink('/etc/passwd', path.join(staging, 'host', 'passwd'))
    const outDir = await tracked('vdiag-test-out-')
    await assert.rejects(
      writeBundle({stagingDir: staging, topFolder: TOP, output: path.join(outDir, 'b.zip'), format: 'zip', manifest: baseManifest()}),
      (e: unknown) => e instanceof VdiagError && e.code === 'failed' && /regular files/.test(e.message),
    )
    assert.deepEqual(await fs.readdir(outDir), [])
    assert.ok((await fs.lstat(path.join(staging, 'host', 'passwd'))).isSymbolicLink())
  })

  it('refuses a top folder name that is not one plain folder', {timeout: 10_000}, async () => {
    const staging = await makeStaging()
    cleanups.push(staging)
    const outDir = await tracked('vdiag-test-out-')
    for (const bad of ['', '..', 'a/b']) {
      await assert.rejects(
        writeBundle({stagingDir: staging, topFolder: bad, output: path.join(outDir, 'b.tar.gz'), format: 'tar.gz', manifest: baseManifest()}),
        (e: unknown) => e instanceof VdiagError && e.code === 'failed',
      )
    }
  })
})
