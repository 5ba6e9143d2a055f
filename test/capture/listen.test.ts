import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {isLoopback, parseListen} from '../../src/capture/listen.js'
import {isVdiagError} from '../../src/errors.js'
import {spawnDemo} from '../../src/demo/spawn.js'
import {events, runCli} from '../helpers/cli.js'
import {extractWithSystemTools, readManifest} from '../helpers/archive.js'

test('--listen parses an address and refuses wildcards and junk', () => {
  assert.deepEqual(parseListen('10.0.0.5'), {host: '10.0.0.5', port: 0})
  assert.deepEqual(parseListen('10.0.0.5:8126'), {host: '10.0.0.5', port: 8126})
  assert.deepEqual(parseListen('[fd00::1]:9000'), {host: 'fd00::1', port: 9000})
  for (const bad of ['0.0.0.0', '::', '[::]:1', 'localhost', 'example.com:80', '10.0.0.5:99999', '']) {
    assert.throws(() => parseListen(bad), (e) => isVdiagError(e) && e.exitCode === 2, bad)
  }
  assert.equal(isLoopback('127.0.0.2'), true)
  assert.equal(isLoopback('10.0.0.5'), false)
})

test('--listen on another loopback address: the window points there and spans arrive', {timeout: 120_000}, async () => {
  const demo = await spawnDemo({})
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vdiag-listen-'))
  try {
    const out = path.join(dir, 'b.tar.gz')
    const r = await runCli(['capture', '--api', demo.api, '--listen', '127.0.0.2', '--duration', '2s', '--interval', '1s', '--json', '--output', out])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const opened = events(r.stdout).find((e) => e.event === 'window_opened') as {window: {endpoint: string}} | undefined
    assert.match(opened!.window.endpoint, /^http:\/\/127\.0\.0\.2:\d+$/)
    assert.equal(events(r.stdout).some((e) => e.event === 'warning' && e.code === 'listen'), false, 'loopback needs no warning')
    const m = readManifest(extractWithSystemTools(out).root)
    assert.ok(m.counts.spans_kept > 0)
    assert.equal(m.counts.spans_lost, 0)
  } finally {
    await demo.stop()
    rmSync(dir, {recursive: true, force: true})
  }
})
