/**
 * Without a terminal nobody can answer, so vdiag must never ask: not with
 * stdin at /dev/null, not with an open pipe that never sends a byte.
 */
import {after, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {spawnDemo, type SpawnedDemo} from '../../src/demo/spawn.js'
import type {TracingStatus} from '../../src/protocol/tracing-control.js'
import {BIN, events, runCli, type CliResult} from '../helpers/cli.js'
import {packageRoot} from '../../src/util/paths.js'
import {startHealthServer} from './helpers.js'

const work = mkdtempSync(path.join(os.tmpdir(), 'vdiag-unattended-test-'))
after(() => rmSync(work, {recursive: true, force: true}))

const T = {timeout: 180_000}

async function tracingStatus(api: string): Promise<TracingStatus> {
  const res = await fetch(`${api}/tracing`, {signal: AbortSignal.timeout(10_000)})
  return (await res.json()) as TracingStatus
}

let demo: SpawnedDemo | null = null
after(async () => {
  await demo?.stop()
})
async function theDemo(): Promise<SpawnedDemo> {
  demo ??= await spawnDemo()
  return demo
}

// The dry runs come first: the demo then has never had a window, so `window: null` proves nothing was switched on.
describe('capture without a terminal', () => {
  test('--dry-run: the plan, a closing line, exit 0, no window opened, no file', T, async () => {
    const d = await theDemo()
    const out = path.join(work, 'dry.tar.gz')
    const r = await runCli(['capture', '--api', d.api, '--duration', '2s', '--interval', '1s', '--output', out, '--dry-run'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /vdiag will collect from/)
    assert.match(r.stdout, /internal tracing at level info for 2s/)
    assert.match(r.stdout.trimEnd(), /dry run: nothing was switched on$/)
    assert.equal(existsSync(out), false)
    assert.equal((await tracingStatus(d.api)).window, null)
  })

  test('--dry-run --json: a started event with the plan and a done event with no path', T, async () => {
    const d = await theDemo()
    const r = await runCli(['capture', '--api', d.api, '--duration', '2s', '--interval', '1s', '--output', path.join(work, 'dry-json.tar.gz'), '--dry-run', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const ev = events(r.stdout)
    assert.deepEqual(ev.map((e) => e.event), ['started', 'attached', 'done'])
    const started = ev[0] as unknown as {plan: string[]; api: string}
    assert.equal(started.api, d.api)
    assert.ok(started.plan.some((l) => /secrets are redacted/.test(l)))
    const done = ev[2] as unknown as {path: unknown; exit_code: number; reason: string}
    assert.equal(done.path, null)
    assert.equal(done.exit_code, 0)
    assert.match(done.reason, /nothing was switched on/)
    assert.equal((await tracingStatus(d.api)).window, null)
  })

  test('stdin /dev/null, stdout a pipe: prints the plan, asks nothing, writes the bundle', T, async () => {
    const d = await theDemo()
    const out = path.join(work, 'unattended.tar.gz')
    const r = await runCli(['capture', '--api', d.api, '--duration', '1s', '--interval', '1s', '--output', out])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, new RegExp(`^vdiag will collect from ${d.api.replace(/\./g, '\\.')}:`, 'm'))
    assert.match(r.stdout, /secrets are redacted/)
    assert.doesNotMatch(r.stdout + r.stderr, /Start the capture\?/)
    assert.match(r.stdout, /^wrote /m)
    assert.ok(existsSync(out))
  })

  test('stdin an open pipe that never sends anything: still never waits for an answer', T, async () => {
    const d = await theDemo()
    const out = path.join(work, 'open-pipe.tar.gz')
    const child = spawn(process.execPath, [BIN, 'capture', '--api', d.api, '--duration', '1s', '--interval', '1s', '--output', out], {cwd: packageRoot, stdio: ['pipe', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    const killer = setTimeout(() => child.kill('SIGKILL'), 120_000)
    try {
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)))
      assert.equal(code, 0, `${stdout}\n${stderr}`)
      assert.doesNotMatch(stdout, /Start the capture\?/)
      assert.ok(existsSync(out))
    } finally {
      clearTimeout(killer)
      child.stdin.destroy()
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })

  test('no --api and several pipelines answer: a usage error naming --api, nothing asked', T, async () => {
    const a = await startHealthServer()
    const b = await startHealthServer()
    let r: CliResult
    try {
      r = await runCli(['capture', '--duration', '1s', '--dry-run'], {env: {VECTOR_API_ADDRESS: `127.0.0.1:${a.port}`, VECTOR_OTHER_ADDRESS: b.url}, cwd: work})
    } finally {
      await Promise.all([a.close(), b.close()])
    }
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /pipelines answer on this host and there is no terminal to ask which one/)
    assert.ok(r.stderr.includes(a.url) && r.stderr.includes(b.url), r.stderr)
    assert.match(r.stderr, /--api/)
    assert.doesNotMatch(r.stdout, /\?/)
  })
})
