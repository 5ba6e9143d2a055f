/**
 * Where the bundle goes cannot take it: a path through a regular file is
 * refused before anything is switched on; a disk that fills up while the
 * bundle is written (a real tiny tmpfs where we may mount one, and an ENOSPC
 * injected at the file layer everywhere) gives a clear error, exit 1, the
 * window still closed, and no half-written file next to where the bundle
 * was meant to go.
 */
import {after, before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {runCli} from '../helpers/cli.js'
import {spawnDemo, type SpawnedDemo} from '../../src/demo/spawn.js'
import {assertCleanExit, assertOneLineError, tracingStatus, workDir} from './helpers.js'

const work = workDir('vdiag-faults-output-')
let demo: SpawnedDemo
before(async () => {
  demo = await spawnDemo({})
})
after(async () => {
  await demo?.stop()
  rmSync(work, {recursive: true, force: true})
})

const PRELOAD = new URL('./fixtures/enospc-preload.js', import.meta.url)

/** A private TMPDIR for the child, so its staging folder can be found (and removed) without touching anyone else's. */
function childTmp(name: string): string {
  const dir = path.join(work, `tmp-${name}`)
  mkdirSync(dir)
  return dir
}

function captureArgs(output: string): string[] {
  return ['capture', '--api', demo.api, '--duration', '2s', '--interval', '1s', '--output', output]
}

/** After a failed write: the window the capture opened is over, and ended by the capture (not left to expire). */
async function assertWindowEnded(): Promise<void> {
  const st = await tracingStatus(demo.api)
  assert.equal(st.window?.state, 'ended', JSON.stringify(st.window))
}

/** The hint names the staging folder that was kept; it is in the child's TMPDIR and holds the collected files. */
function assertStagingKept(stderr: string, tmp: string): void {
  const kept = readdirSync(tmp).filter((n) => n.startsWith('vdiag-capture-'))
  assert.equal(kept.length, 1, `staging folders in ${tmp}: ${readdirSync(tmp)}`)
  assert.equal(stderr.split(path.join(tmp, kept[0])).length - 1, 1, `the hint should say once where the data is:\n${stderr}`)
  assert.ok(existsSync(path.join(tmp, kept[0], 'manifest.json')) || readdirSync(path.join(tmp, kept[0])).length > 0)
}

describe('the output cannot be written', {timeout: 200_000}, () => {
  test('a path through a regular file: a clear error before anything is switched on', {timeout: 60_000}, async () => {
    const blocker = path.join(work, 'not-a-dir')
    writeFileSync(blocker, 'a regular file\n')
    const tmp = childTmp('enotdir')
    const r = await runCli(captureArgs(path.join(blocker, 'sub', 'b.tar.gz')), {env: {TMPDIR: tmp}, timeoutMs: 50_000})
    assertCleanExit(r, 'ENOTDIR')
    assert.equal(r.code, 1, r.stderr)
    const line = assertOneLineError(r.stderr, 'ENOTDIR')
    assert.match(line, /cannot write the bundle/)
    assert.match(line, /part of the path is a file, not a folder/)
    assert.doesNotMatch(line, /vdiag-write-test/, 'the probe file is ours, not the user\'s business')
    assert.ok(line.includes(path.join(blocker, 'sub')), line)
    // Nothing was switched on: this demo has never had a window.
    assert.equal((await tracingStatus(demo.api)).window, null)
    assert.deepEqual(readdirSync(tmp), [], 'staging removed')
  })

  test('the disk fills up while the bundle is written (tmpfs of 200 KiB)', {timeout: 60_000}, async (t) => {
    const mnt = path.join(work, 'tiny')
    mkdirSync(mnt)
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=200k,mode=0755', 'tmpfs', mnt], {stdio: 'pipe'})
    } catch (e) {
      t.skip(`cannot mount a tmpfs here (${(e as Error).message.split('\n')[0]}); the injected-ENOSPC test covers this path`)
      return
    }
    try {
      // Full to the last byte; creating an empty file still works (inodes are not exhausted).
      try {
        writeFileSync(path.join(mnt, 'filler'), Buffer.alloc(400 * 1024, 1))
      } catch (e) {
        assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC')
      }
      const tmp = childTmp('tmpfs')
      const r = await runCli(captureArgs(path.join(mnt, 'b.tar.gz')), {env: {TMPDIR: tmp}, timeoutMs: 50_000})
      assertCleanExit(r, 'tmpfs full')
      assert.equal(r.code, 1, r.stderr)
      const line = assertOneLineError(r.stderr.split('\n').filter((l) => !l.startsWith('warning:')).join('\n'), 'tmpfs full')
      assert.match(line, /no space left/i)
      assert.match(line, /ENOSPC/)
      await assertWindowEnded()
      assert.deepEqual(readdirSync(mnt), ['filler'], 'no partial or probe file left in the output folder')
      assertStagingKept(r.stderr, tmp)
    } finally {
      try {
        execFileSync('umount', [mnt], {stdio: 'pipe'})
      } catch {
        execFileSync('umount', ['-l', mnt], {stdio: 'pipe'})
      }
    }
  })

  test('ENOSPC injected at the file layer while the bundle is written', {timeout: 60_000}, async () => {
    const outDir = path.join(work, 'injected')
    mkdirSync(outDir)
    const tmp = childTmp('injected')
    const nodeOptions = `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(PRELOAD.pathname).href}`.trim()
    const r = await runCli(captureArgs(path.join(outDir, 'b.tar.gz')), {env: {TMPDIR: tmp, NODE_OPTIONS: nodeOptions}, timeoutMs: 50_000})
    assertCleanExit(r, 'injected ENOSPC')
    assert.equal(r.code, 1, r.stderr)
    const line = assertOneLineError(r.stderr.split('\n').filter((l) => !l.startsWith('warning:')).join('\n'), 'injected ENOSPC')
    assert.match(line, /no space left/i)
    await assertWindowEnded()
    assert.deepEqual(readdirSync(outDir), [], 'no partial file left in the output folder')
    assertStagingKept(r.stderr, tmp)
  })
})
