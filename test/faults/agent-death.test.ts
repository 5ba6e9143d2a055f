/**
 * `--via agent`: the Datadog Agent vdiag forwards to dies in the middle of the
 * window. The pipeline's tracer must keep getting answers (vdiag answers it
 * itself), no span may go missing from the bundle, and the manifest says
 * what the Agent missed.
 */
import {after, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {rmSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import path from 'node:path'
import {events, startCli} from '../helpers/cli.js'
import {checksumMismatches, extractWithSystemTools, readManifest} from '../helpers/archive.js'
import {spawnDemo} from '../../src/demo/spawn.js'
import {assertCleanExit, workDir} from './helpers.js'

const work = workDir('vdiag-faults-agent-')
after(() => rmSync(work, {recursive: true, force: true}))

const RATES = '{"rate_by_service":{"service:,env:":1}}'

/** Just enough Datadog Agent: /info, and 200 to everything else; counts the trace payloads it accepted. */
async function stubAgent(): Promise<{url: string; tracePayloads: () => number; kill(): Promise<void>}> {
  let traces = 0
  const sockets = new Set<Socket>()
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      if (req.url === '/info') {
        res.writeHead(200, {'content-type': 'application/json'})
        res.end(JSON.stringify({version: '7.99.0-fault-test', endpoints: ['/v0.4/traces', '/v0.5/traces'], feature_flags: [], config: {}}))
        return
      }
      if (req.url?.endsWith('/traces')) traces++
      res.writeHead(200, {'content-type': 'application/json'})
      res.end(RATES)
    })
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  let dead = false
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tracePayloads: () => traces,
    // As a crashed Agent: the port closes and open connections break.
    async kill() {
      if (dead) return
      dead = true
      const closed = new Promise<void>((r) => server.close(() => r()))
      for (const s of sockets) s.destroy()
      await closed
    },
  }
}

describe('--via agent: the Agent dies mid-window', {timeout: 120_000}, () => {
  test('the tracer keeps getting answers, no span is lost from the bundle, the manifest counts what the Agent missed', {timeout: 90_000}, async () => {
    const agent = await stubAgent()
    const demo = await spawnDemo({})
    const out = path.join(work, 'agent-died.tar.gz')
    const cli = startCli(['capture', '--api', demo.api, '--via', 'agent', '--agent-url', agent.url, '--duration', '10s', '--interval', '1s', '--json', '--output', out])
    const killer = setTimeout(() => cli.child.kill('SIGKILL'), 80_000)
    try {
      // Dies only once it has taken part: spans are flowing and it has accepted some.
      await cli.waitForLine((l) => l.includes('"progress"') && (JSON.parse(l) as {spans: number}).spans > 0 && agent.tracePayloads() > 0, 40_000)
      const acceptedBeforeDeath = agent.tracePayloads()
      await agent.kill()
      const r = await cli.done
      assertCleanExit(r, 'agent died')
      assert.equal(r.code, 0, r.stderr)

      const ev = events(r.stdout)
      assert.ok(ev.some((e) => e.event === 'warning' && e.code === 'agent_down'), `no agent_down warning: ${JSON.stringify(ev.filter((e) => e.event === 'warning'))}`)

      const {root} = extractWithSystemTools(out)
      const m = readManifest(root)
      assert.deepEqual(checksumMismatches(root, m), [])
      const c = m.counts
      assert.equal(m.complete, true, m.incomplete_reason ?? '')
      assert.equal(m.capture.via, 'agent')
      // The tracer got a 2xx for everything it sent: nothing the pipeline counts as undelivered.
      assert.equal(c.spans_dropped_pipeline, 0, JSON.stringify(c))
      assert.equal(c.spans_lost, 0, JSON.stringify(c))
      assert.equal(c.spans_started, c.spans_kept + c.spans_dropped_vdiag, JSON.stringify(c))

      const fwd = m.capture.agent?.forwarding
      assert.ok(fwd, 'the manifest has the forwarding record')
      assert.ok(fwd.outages >= 1, JSON.stringify(fwd))
      assert.ok(fwd.failed + fwd.not_tried > 0, JSON.stringify(fwd))
      assert.ok(fwd.answered_locally > 0, JSON.stringify(fwd))
      assert.ok(fwd.trace_payloads_missed > 0 && fwd.spans_missed > 0, JSON.stringify(fwd))
      assert.equal(fwd.forwarded_ok + fwd.agent_errors + fwd.failed + fwd.not_tried, fwd.requests, JSON.stringify(fwd))
      // Accepted per vdiag is never more than the Agent really took (a late answer counts as missed, not as accepted).
      assert.ok(fwd.trace_payloads - fwd.trace_payloads_missed <= agent.tracePayloads(), `${JSON.stringify(fwd)}; the Agent took ${agent.tracePayloads()} (${acceptedBeforeDeath} before it died)`)
      assert.notEqual(m.collectors.agent_forward?.status, 'ok')
    } finally {
      clearTimeout(killer)
      cli.child.kill('SIGKILL')
      await agent.kill()
      await demo.stop()
    }
  })
})
