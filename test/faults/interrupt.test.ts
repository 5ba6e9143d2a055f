/**
 * Ctrl-C twice: the second one must not wait for the graceful path (closing
 * the window, draining, writing the bundle); it exits 130 at once, after one
 * short attempt to end the window, whose own expiry is the backstop.
 */
import {after, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, readdirSync, rmSync} from 'node:fs'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {events, startCli} from '../helpers/cli.js'
import {checksumMismatches, extractWithSystemTools, readManifest} from '../helpers/archive.js'
import {spawnDemo} from '../../src/demo/spawn.js'
import type {TracingWindow} from '../../src/protocol/tracing-control.js'
import {assertCleanExit, tracingStatus, waitUntilEnded, workDir} from './helpers.js'

const work = workDir('vdiag-faults-interrupt-')
after(() => rmSync(work, {recursive: true, force: true}))

/** Long enough that "exited before the window expired" cannot happen by the window simply running out. */
const WINDOW_S = 30

describe('SIGINT twice', {timeout: 120_000}, () => {
  test('exits 130 at once, the window is closed or expiring, no partial file left', {timeout: 90_000}, async () => {
    const demo = await spawnDemo({})
    const outDir = path.join(work, 'twice')
    const tmp = path.join(work, 'twice-tmp')
    mkdirSync(outDir)
    mkdirSync(tmp)
    const cli = startCli(['capture', '--api', demo.api, '--duration', `${WINDOW_S}s`, '--interval', '1s', '--json', '--output', path.join(outDir, 'b.tar.gz')], {env: {TMPDIR: tmp}})
    // A hang is a failure, not a stuck suite.
    const killer = setTimeout(() => cli.child.kill('SIGKILL'), 60_000)
    try {
      const opened = JSON.parse(await cli.waitForLine((l) => l.includes('"window_opened"'))) as {window: TracingWindow}
      await cli.waitForLine((l) => l.includes('"progress"'))
      cli.child.kill('SIGINT')
      // The second press comes while the first is still ending the window and draining.
      await sleep(50)
      cli.child.kill('SIGINT')
      const r = await cli.done
      const exitedAt = Date.now()
      assertCleanExit(r, 'SIGINT twice')
      assert.equal(r.code, 130, r.stderr)
      const expires = Date.parse(opened.window.expires_at)
      assert.ok(exitedAt < expires, `exited only after the window expired by itself (${new Date(exitedAt).toISOString()} vs ${opened.window.expires_at})`)
      // Aborted, not finished gracefully: no bundle, and no temp file left behind either.
      const names = events(r.stdout).map((e) => e.event)
      assert.ok(!names.includes('done'), `the graceful path ran to the end: ${names}`)
      assert.deepEqual(readdirSync(outDir), [])
      assert.deepEqual(readdirSync(tmp), [], 'the staging folder is removed on the way out')

      const st = await tracingStatus(demo.api)
      assert.equal(st.window?.id, opened.window.id)
      if (st.window!.state === 'active') {
        // The last-chance DELETE did not land: the pipeline's own expiry must end it.
        assert.ok(Date.parse(st.window!.expires_at) > Date.now() - 1_000)
        const w = await waitUntilEnded(demo.api, expires + 5_000 + 2_000)
        assert.equal(w?.state, 'ended', JSON.stringify(w))
      } else {
        assert.ok(st.window!.state === 'ending' || st.window!.state === 'ended', JSON.stringify(st.window))
        const w = await waitUntilEnded(demo.api, Date.now() + 10_000)
        assert.equal(w?.state, 'ended', JSON.stringify(w))
        assert.ok(Date.parse(w!.ended_at!) < expires, 'ended early, by the DELETE, not by expiry')
      }
    } finally {
      clearTimeout(killer)
      cli.child.kill('SIGKILL')
      await demo.stop()
    }
  })

  // Found by this suite: once the window was over, Ctrl-C was no longer handled, and a press while the
  // bundle was written killed vdiag outright: no bundle, the staging folder left in the temp folder.
  for (const presses of [1, 2]) {
    test(`Ctrl-C ${presses === 1 ? 'once' : 'twice'} while the bundle is written: exits by itself and leaves nothing half-done`, {timeout: 60_000}, async (t) => {
      const demo = await spawnDemo({})
      const outDir = path.join(work, `late-${presses}`)
      const tmp = path.join(work, `late-${presses}-tmp`)
      mkdirSync(outDir)
      mkdirSync(tmp)
      const out = path.join(outDir, 'b.tar.gz')
      const cli = startCli(['capture', '--api', demo.api, '--duration', '2s', '--interval', '1s', '--json', '--output', out], {env: {TMPDIR: tmp}})
      const killer = setTimeout(() => cli.child.kill('SIGKILL'), 50_000)
      try {
        await cli.waitForLine((l) => l.includes('"window_closed"'))
        cli.child.kill('SIGINT')
        if (presses === 2) {
          await sleep(5)
          cli.child.kill('SIGINT')
        }
        const r = await cli.done
        assertCleanExit(r, `late Ctrl-C x${presses}`)
        t.diagnostic(`exit ${r.code}`)
        assert.deepEqual(readdirSync(tmp), [], 'staging folder removed')
        const left = readdirSync(outDir)
        if (presses === 1) {
          // The window was over and everything collected: the bundle is whole.
          assert.equal(r.code, 0, r.stderr)
          assert.deepEqual(left, ['b.tar.gz'])
        } else {
          // Aborted mid-write (130, nothing there) or the write won the race (0, the whole bundle).
          assert.ok(r.code === 130 || r.code === 0, `exit ${r.code}: ${r.stderr}`)
          assert.deepEqual(left, r.code === 0 ? ['b.tar.gz'] : [], `left in the output folder: ${left}`)
        }
        if (left.length) {
          const {root} = extractWithSystemTools(out)
          const m = readManifest(root)
          assert.deepEqual(checksumMismatches(root, m), [])
          assert.equal(m.counts.spans_lost, 0)
        }
      } finally {
        clearTimeout(killer)
        cli.child.kill('SIGKILL')
        await demo.stop()
      }
    })
  }
})
