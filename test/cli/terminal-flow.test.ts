/**
 * The guided flow end to end: the real CLI in a real pseudo-terminal (a
 * private tmux server), answering with keystrokes as a person would.
 */
import {after, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, statSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {spawnDemo} from '../../src/demo/spawn.js'
import type {TracingStatus} from '../../src/protocol/tracing-control.js'
import {BIN} from '../helpers/cli.js'
import {shq, startHealthServer, TmuxSession} from './helpers.js'

const work = mkdtempSync(path.join(os.tmpdir(), 'vdiag-terminal-test-'))
after(() => rmSync(work, {recursive: true, force: true}))

const T = {timeout: 240_000}

function vdiag(args: string[]): string {
  return [process.execPath, BIN, ...args].map(shq).join(' ')
}

async function tracingStatus(api: string): Promise<TracingStatus> {
  const res = await fetch(`${api}/tracing`, {signal: AbortSignal.timeout(10_000)})
  return (await res.json()) as TracingStatus
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

describe('vdiag capture at a terminal', () => {
  test('shows the plan, asks, and on "y" writes the bundle', T, async () => {
    const demo = await spawnDemo()
    const tmux = new TmuxSession()
    const out = path.join(work, 'consented.tar.gz')
    try {
      await tmux.start(vdiag(['capture', '--api', demo.api, '--duration', '2s', '--interval', '1s', '--output', out]), {cwd: work})
      const asked = await tmux.waitFor(/Start the capture\? \(Y\/n\)/)
      assert.match(asked, new RegExp(`vdiag will collect from ${escape(demo.api)}:`))
      assert.match(asked, /- internal tracing at level info for 2s/)
      assert.match(asked, /- secrets are redacted before anything is written/)
      assert.ok(asked.includes(`or less: ${out}`), `the plan names the file:\n${asked}`)
      assert.equal(asked.match(/vdiag will collect from/g)?.length, 1, 'the plan is shown once')
      assert.equal(existsSync(out), false, 'nothing written before the answer')
      assert.equal((await tracingStatus(demo.api)).window, null, 'nothing switched on before the answer')

      await tmux.sendKeys('y', 'Enter')
      const code = await tmux.exitCode()
      const screen = await tmux.screen()
      assert.equal(code, 0, screen)
      assert.match(screen, /Start the capture\? Yes/)
      assert.ok(screen.includes(`wrote ${out}`), screen)
      assert.ok(statSync(out).size > 0)
      const listing = execFileSync('tar', ['-tzf', out], {encoding: 'utf8'})
      assert.match(listing, /\/manifest\.json$/m)
    } finally {
      await tmux.kill()
      await demo.stop()
    }
  })

  test('Ctrl-C at the consent prompt: exit 130, nothing switched on, no bundle', T, async () => {
    const demo = await spawnDemo()
    const tmux = new TmuxSession()
    const out = path.join(work, 'cancelled.tar.gz')
    try {
      await tmux.start(vdiag(['capture', '--api', demo.api, '--duration', '2s', '--interval', '1s', '--output', out]), {cwd: work})
      await tmux.waitFor(/Start the capture\? \(Y\/n\)/)
      await tmux.sendKeys('C-c')
      const code = await tmux.exitCode()
      const screen = await tmux.screen()
      assert.equal(code, 130, screen)
      assert.match(screen, /capture cancelled; nothing was switched on/)
      assert.doesNotMatch(screen, /\n\s+at /, 'no stack trace')
      assert.equal(existsSync(out), false)
      const st = await tracingStatus(demo.api)
      assert.equal(st.window, null, `a window was opened: ${JSON.stringify(st.window)}`)
    } finally {
      await tmux.kill()
      await demo.stop()
    }
  })

  test('without --api: offers the pipelines it finds (VECTOR_* in the shell) and captures from the one chosen', T, async () => {
    const demo = await spawnDemo()
    // A second healthy address listed before the demo, so there is a real choice to make.
    const decoy = await startHealthServer()
    const tmux = new TmuxSession()
    const demoHostPort = new URL(demo.api).host
    try {
      await tmux.start(vdiag(['capture', '--dry-run', '--duration', '2s', '--interval', '1s']), {
        cwd: work,
        env: {VECTOR_ADMIN_ADDRESS: `127.0.0.1:${decoy.port}`, VECTOR_API_ADDRESS: demoHostPort},
      })
      const list = await tmux.waitFor(/Which one should vdiag capture from\?[\s\S]*↑↓ navigate/)
      assert.match(list, new RegExp(`${escape(decoy.url)} {2}\\(VECTOR_ADMIN_ADDRESS\\)`))
      // The demo is found both in the environment and as a listening process.
      assert.match(list, new RegExp(`${escape(demo.api)} {2}\\(VECTOR_API_ADDRESS, vdiag demo \\(pid ${demo.pid}\\)\\)`))
      assert.doesNotMatch(list, /looking for pipelines[\s\S]*Error/)

      const active = new RegExp(`^\\s*❯ ${escape(demo.api)} `, 'm')
      let screen = list
      for (let i = 0; i < 30 && !active.test(screen); i++) {
        await tmux.sendKeys('Down')
        screen = await tmux.screen()
      }
      assert.match(screen, active, 'the demo could be highlighted')
      await tmux.sendKeys('Enter')

      const code = await tmux.exitCode()
      screen = await tmux.screen()
      assert.equal(code, 0, screen)
      assert.match(screen, new RegExp(`vdiag will collect from ${escape(demo.api)}:`))
      assert.match(screen, /attached: grpc API/)
      assert.match(screen, /dry run: nothing was switched on/)
      assert.doesNotMatch(screen, /Start the capture\?/, '--dry-run asks no consent: nothing is switched on')
      assert.deepEqual([...new Set(decoy.requests)], ['/health'], 'the decoy was only probed')
      assert.equal((await tracingStatus(demo.api)).window, null)
    } finally {
      await tmux.kill()
      await decoy.close()
      await demo.stop()
    }
  })
})
