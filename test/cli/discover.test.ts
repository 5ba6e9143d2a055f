import {after, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {findPipelineProcesses, isVdiagDemo, loopbackUrl, parseProcNetTcp} from '../../src/cli/guided/proc-listeners.js'
import {addressesFromEnv} from '../../src/cli/guided/env-addresses.js'
import {discoverPipelines} from '../../src/cli/guided/discover.js'
import {spawnDemo} from '../../src/demo/spawn.js'
import {packageRoot} from '../../src/util/paths.js'
import {startHealthServer} from './helpers.js'

const work = mkdtempSync(path.join(os.tmpdir(), 'vdiag-discover-test-'))
after(() => rmSync(work, {recursive: true, force: true}))

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
function tcpLine(local: string, state: string, inode: number): string {
  return `   0: ${local} 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`
}

/** A /proc lookalike: the net tables and, per pid, cmdline, comm, cwd and fd links to socket inodes. */
function fakeProc(name: string, spec: {tcp: string; tcp6?: string; procs: {pid: number; argv: string[]; comm: string; cwd?: string; inodes: number[]}[]}): string {
  const root = path.join(work, name)
  mkdirSync(path.join(root, 'net'), {recursive: true})
  writeFileSync(path.join(root, 'net', 'tcp'), HEADER + spec.tcp)
  writeFileSync(path.join(root, 'net', 'tcp6'), HEADER + (spec.tcp6 ?? ''))
  for (const p of spec.procs) {
    const dir = path.join(root, String(p.pid))
    mkdirSync(path.join(dir, 'fd'), {recursive: true})
    writeFileSync(path.join(dir, 'cmdline'), p.argv.join('\0') + '\0')
    writeFileSync(path.join(dir, 'comm'), p.comm + '\n')
    symlinkSync(p.cwd ?? '/', path.join(dir, 'cwd'))
    symlinkSync('/dev/null', path.join(dir, 'fd', '0'))
    p.inodes.forEach((inode, i) => symlinkSync(`socket:[${inode}]`, path.join(dir, 'fd', String(10 + i))))
  }
  mkdirSync(path.join(root, 'self'), {recursive: true})
  return root
}

describe('/proc/net/tcp parsing', () => {
  test('keeps LISTEN sockets only and decodes little-endian IPv4 and IPv6', () => {
    const v4 = tcpLine('0100007F:21F6', '0A', 111) + tcpLine('00000000:1F90', '0A', 112) + tcpLine('0100007F:DBDC', '01', 113) + 'garbage line\n'
    assert.deepEqual(parseProcNetTcp(HEADER + v4, 4, true), [
      {address: '127.0.0.1', port: 8694, inode: '111'},
      {address: '0.0.0.0', port: 8080, inode: '112'},
    ])
    const v6 = tcpLine('00000000000000000000000001000000:21F6', '0A', 211) + tcpLine('00000000000000000000000000000000:0050', '0A', 212) + tcpLine('0000000000000000FFFF00000100007F:0051', '0A', 213)
    assert.deepEqual(parseProcNetTcp(HEADER + v6, 6, true), [
      {address: '::1', port: 8694, inode: '211'},
      {address: '::', port: 80, inode: '212'},
      {address: '::ffff:7f00:1', port: 81, inode: '213'},
    ])
  })

  test('big-endian hosts print the address bytes in order', () => {
    assert.deepEqual(parseProcNetTcp(HEADER + tcpLine('7F000001:21F6', '0A', 5), 4, false), [{address: '127.0.0.1', port: 8694, inode: '5'}])
  })

  test('only loopback-reachable sockets become URLs', () => {
    assert.equal(loopbackUrl('0.0.0.0', 8686), 'http://127.0.0.1:8686')
    assert.equal(loopbackUrl('127.0.0.2', 8686), 'http://127.0.0.2:8686')
    assert.equal(loopbackUrl('::', 8686), 'http://[::1]:8686')
    assert.equal(loopbackUrl('::1', 8686), 'http://[::1]:8686')
    assert.equal(loopbackUrl('::ffff:7f00:1', 8686), 'http://127.0.0.1:8686')
    assert.equal(loopbackUrl('10.0.0.5', 8686), null)
    assert.equal(loopbackUrl('fe80::1', 8686), null)
  })
})

describe('pipeline processes in /proc', () => {
  test('finds vector and the vdiag demo by name, with their listening ports; ignores others', async () => {
    const root = fakeProc('proc-a', {
      tcp: tcpLine('0100007F:21F6', '0A', 1001) + tcpLine('00000000:2596', '0A', 1002) + tcpLine('0500000A:1F90', '0A', 1003) + tcpLine('0100007F:3000', '0A', 2001) + tcpLine('0100007F:4000', '0A', 3001),
      tcp6: tcpLine('00000000000000000000000001000000:4E20', '0A', 4001),
      procs: [
        {pid: 42, argv: ['/usr/bin/vector', '--config', '/etc/vector/vector.yaml'], comm: 'vector', inodes: [1001, 1002, 1003, 999]},
        {pid: 43, argv: ['postgres'], comm: 'postgres', inodes: [2001]},
        {pid: 44, argv: ['/usr/bin/node', 'bin/run.js', 'demo', '--api-address', '127.0.0.1:0'], comm: 'node', cwd: packageRoot, inodes: [3001, 4001]},
        // run.js of some other package: not ours
        {pid: 45, argv: ['node', 'bin/run.js', 'demo'], comm: 'node', cwd: work, inodes: [3001]},
        {pid: 46, argv: ['node', '/usr/local/bin/vdiag', 'capture'], comm: 'node', inodes: [3001]},
      ],
    })
    const found = await findPipelineProcesses({procRoot: root})
    assert.deepEqual(found, [
      // 10.0.0.5:8080 is left out: discovery probes loopback only
      {pid: 42, kind: 'vector', urls: ['http://127.0.0.1:8694', 'http://127.0.0.1:9622']},
      {pid: 44, kind: 'vdiag demo', urls: ['http://127.0.0.1:16384', 'http://[::1]:20000']},
    ])
  })

  test('recognises the demo however it was started', async () => {
    assert.equal(await isVdiagDemo(['vdiag', 'demo'], '/'), true)
    assert.equal(await isVdiagDemo(['/usr/bin/node', '/usr/lib/node_modules/vdiag/bin/vdiag', 'demo', '--scenario', 'slow-sink'], '/'), true)
    assert.equal(await isVdiagDemo(['node', path.join(packageRoot, 'bin', 'run.js'), 'demo'], '/'), true)
    assert.equal(await isVdiagDemo(['node', '--enable-source-maps', path.join(packageRoot, 'bin', 'run.js'), 'demo'], '/'), true)
    assert.equal(await isVdiagDemo(['vdiag', 'replay', 'demo'], '/'), false)
    assert.equal(await isVdiagDemo(['node', 'bin/run.js', 'demo'], work), false)
  })

  test('no /proc (another OS, a sandbox) is simply nothing found', async () => {
    assert.deepEqual(await findPipelineProcesses({procRoot: path.join(work, 'missing')}), [])
  })

  test('the real /proc shows a running demo with its admin API port', {timeout: 120_000}, async () => {
    const demo = await spawnDemo()
    try {
      const found = await findPipelineProcesses()
      const mine = found.find((p) => p.pid === demo.pid)
      assert.ok(mine, `demo pid ${demo.pid} not found in ${JSON.stringify(found)}`)
      assert.equal(mine.kind, 'vdiag demo')
      assert.ok(mine.urls.includes(demo.api), `${demo.api} not in ${mine.urls}`)
    } finally {
      await demo.stop()
    }
  })
})

describe('VECTOR_* addresses', () => {
  test('takes address-shaped values, maps wildcards to loopback, sets aside other hosts', () => {
    const env = {
      VECTOR_API_ADDRESS: '0.0.0.0:8686',
      VECTOR_LOG: 'info',
      VECTOR_CONFIG: '/etc/vector/vector.yaml',
      VECTOR_THREADS: '4',
      VECTOR_B_URL: 'http://localhost:9000/admin/',
      VECTOR_C: '[::]:8687',
      VECTOR_REMOTE: 'http://10.1.2.3:8686',
      OTHER_ADDRESS: '127.0.0.1:1234',
    }
    assert.deepEqual(addressesFromEnv(env), {
      found: [
        {variable: 'VECTOR_API_ADDRESS', url: 'http://127.0.0.1:8686'},
        {variable: 'VECTOR_B_URL', url: 'http://127.0.0.1:9000/admin'},
        {variable: 'VECTOR_C', url: 'http://[::1]:8687'},
      ],
      offHost: [{variable: 'VECTOR_REMOTE', url: 'http://10.1.2.3:8686'}],
    })
  })
})

describe('discoverPipelines', () => {
  test('offers only what answers /health healthy, merging sources of one address, environment first', {timeout: 60_000}, async () => {
    const good = await startHealthServer(200)
    const draining = await startHealthServer(503)
    const other = await startHealthServer(200)
    const root = fakeProc('proc-empty', {tcp: '', procs: []})
    try {
      const d = await discoverPipelines({
        procRoot: root,
        defaultUrl: other.url,
        env: {VECTOR_API_ADDRESS: `127.0.0.1:${good.port}`, VECTOR_X_ADDRESS: good.url, VECTOR_Y_ADDRESS: draining.url, VECTOR_Z: 'http://192.0.2.1:8686'},
      })
      assert.deepEqual(d.pipelines, [
        {url: good.url, sources: ['VECTOR_API_ADDRESS', 'VECTOR_X_ADDRESS']},
        {url: other.url, sources: ['default address']},
      ])
      assert.deepEqual(d.tried.map((c) => c.url), [good.url, draining.url, other.url])
      assert.deepEqual(d.offHost, [{variable: 'VECTOR_Z', url: 'http://192.0.2.1:8686'}])
      assert.ok(draining.requests.includes('/health'), 'the draining pipeline was asked')
    } finally {
      await Promise.all([good.close(), draining.close(), other.close()])
    }
  })
})
