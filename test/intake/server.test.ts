import assert from 'node:assert/strict'
import {connect} from 'node:net'
import {request} from 'node:http'
import {describe, it} from 'node:test'
import {DEFAULT_LIMITS} from '../../src/intake/limits.js'
import {MSGPACK, readIndex, send, sendTraces, startHarness, testSpan, v04, v05, waitFor} from './helpers.js'

const RATES = '{"rate_by_service":{"service:,env:":1}}'

describe('intake server', () => {
  it('answers trace payloads like an Agent, on v0.4 and v0.5, PUT and POST', {timeout: 20_000}, async () => {
    const h = await startHarness()
    try {
      assert.match(h.intake.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      const r1 = await sendTraces(h.intake.url, 'v0.4', v04([[testSpan()]]))
      assert.equal(r1.status, 200)
      assert.equal(r1.body, RATES)
      assert.equal(r1.headers['content-type'], 'application/json')
      const r2 = await send(h.intake.url, {method: 'POST', path: '/v0.5/traces', body: v05([[testSpan(), testSpan()]]), headers: {'content-type': 'application/msgpack; charset=binary'}})
      assert.equal(r2.status, 200)
      // a missing content type is read as msgpack
      assert.equal((await send(h.intake.url, {path: '/v0.4/traces?x=1', body: v04([])})).status, 200)
      const get = await send(h.intake.url, {method: 'GET', path: '/v0.4/traces'})
      assert.equal(get.status, 405)
      assert.equal(get.headers.allow, 'PUT, POST')
      const stats = h.intake.stats()
      assert.equal(stats.accepted, 3)
      assert.equal(stats.store.spans_kept, 3)
      assert.equal(stats.store.payloads, 3)
      assert.equal(h.payloads.length, 3)
      assert.deepEqual(
        h.payloads.map((p) => [p.version, p.method, p.path]),
        [
          ['v0.4', 'PUT', '/v0.4/traces'],
          ['v0.5', 'POST', '/v0.5/traces'],
          ['v0.4', 'PUT', '/v0.4/traces'],
        ],
      )
    } finally {
      await h.dispose()
    }
  })

  it('answers dd-trace side traffic and 404s everything else', {timeout: 20_000}, async () => {
    const h = await startHarness()
    try {
      const tel = await send(h.intake.url, {method: 'POST', path: '/telemetry/proxy/api/v2/apmtelemetry', body: '{"request_type":"app-started"}', headers: {'content-type': 'application/json', 'dd-telemetry-request-type': 'app-started'}})
      assert.deepEqual([tel.status, tel.body, tel.headers['content-type']], [200, '{}', 'application/json'])
      assert.equal((await send(h.intake.url, {method: 'POST', path: '/v0.7/config', body: '{}'})).status, 404)
      assert.equal((await send(h.intake.url, {method: 'POST', path: '/dogstatsd/v2/proxy', body: 'a.b:1|c\n'})).status, 200)
      assert.equal((await send(h.intake.url, {method: 'PUT', path: '/v0.6/stats', body: Buffer.from([0x80])})).status, 200)
      const info = await send(h.intake.url, {method: 'GET', path: '/info'})
      assert.equal(info.status, 200)
      const body = JSON.parse(info.body) as {endpoints: string[]; config: {max_request_bytes: number}; client_drop_p0s: boolean}
      assert.ok(body.endpoints.includes('/v0.4/traces') && body.endpoints.includes('/v0.5/traces'))
      assert.equal(body.config.max_request_bytes, DEFAULT_LIMITS.maxBodyBytes)
      assert.equal(body.client_drop_p0s, false)
      for (const p of ['/', '/v0.3/traces', '/v0.7/traces', '/v1.0/traces', '/telemetry', '/info/x']) assert.equal((await send(h.intake.url, {method: 'PUT', path: p, body: 'x'})).status, 404, p)
      const stats = h.intake.stats()
      assert.equal(stats.side_requests, 5)
      assert.equal(stats.not_found, 6)
      assert.equal(stats.store.bad_payloads, 0)
    } finally {
      await h.dispose()
    }
  })

  it('answers 413 above 25 MiB without reading the rest, declared or streamed, and keeps serving', {timeout: 30_000}, async () => {
    const h = await startHarness()
    try {
      const big = Buffer.alloc(DEFAULT_LIMITS.maxBodyBytes + 1, 0x90)
      const declared = await sendTraces(h.intake.url, 'v0.4', big)
      assert.equal(declared.status, 413)
      assert.equal(declared.headers.connection, 'close')
      const streamed = await send(h.intake.url, {path: '/v0.5/traces', body: big, headers: MSGPACK, chunked: true})
      assert.equal(streamed.status, 413)
      assert.equal((await sendTraces(h.intake.url, 'v0.4', v04([[testSpan()]]))).status, 200)
      const c = h.store.counts()
      assert.equal(c.oversized_payloads, 2)
      assert.equal(c.payloads, 1)
      assert.deepEqual(
        h.rejects.map((r) => [r.status, r.path]),
        [
          [413, '/v0.4/traces'],
          [413, '/v0.5/traces'],
        ],
      )
      assert.match(h.rejects[0].reason, /over the 26214400-byte limit/)
      assert.equal(h.store.rejections().length, 2)
    } finally {
      await h.dispose()
    }
  })

  it('accepts a body of exactly the limit and refuses one byte more', {timeout: 20_000}, async () => {
    const limit = 4096
    const h = await startHarness({limits: {maxBodyBytes: limit}})
    try {
      // pad one span's resource until the payload is exactly `limit` bytes
      let body = v04([[testSpan()]])
      for (let pad = 300; body.length !== limit && pad < limit; pad++) body = v04([[testSpan({resource: 'r'.repeat(pad)})]])
      assert.equal(body.length, limit)
      assert.equal((await sendTraces(h.intake.url, 'v0.4', body)).status, 200)
      assert.equal((await sendTraces(h.intake.url, 'v0.4', Buffer.concat([body, Buffer.from([0])]))).status, 413)
      assert.equal((await send(h.intake.url, {path: '/v0.4/traces', body: Buffer.concat([body, Buffer.from([0])]), headers: MSGPACK, chunked: true})).status, 413)
      assert.equal((await send(h.intake.url, {method: 'POST', path: '/telemetry/proxy/x', body: Buffer.alloc(limit + 1)})).status, 413)
    } finally {
      await h.dispose()
    }
  })

  it('answers 400 to undecodable payloads, wrong content types and encodings, and keeps serving', {timeout: 20_000}, async () => {
    const h = await startHarness()
    try {
      const garbage = await sendTraces(h.intake.url, 'v0.4', Buffer.from('definitely not msgpack'))
      assert.equal(garbage.status, 400)
      assert.match(JSON.parse(garbage.body).error as string, /undecodable v0\.4 payload/)
      assert.equal((await sendTraces(h.intake.url, 'v0.5', v04([[testSpan()]]))).status, 400)
      assert.equal((await sendTraces(h.intake.url, 'v0.4', v04([[testSpan()]]), {'content-type': 'application/json'})).status, 400)
      assert.equal((await sendTraces(h.intake.url, 'v0.4', v04([[testSpan()]]), {'content-type': 'text/plain'})).status, 400)
      assert.equal((await sendTraces(h.intake.url, 'v0.4', v04([[testSpan()]]), {...MSGPACK, 'content-encoding': 'gzip'})).status, 400)
      assert.equal((await sendTraces(h.intake.url, 'v0.4', Buffer.alloc(0))).status, 400)
      const ok = await sendTraces(h.intake.url, 'v0.4', v04([[testSpan()]]))
      assert.equal(ok.status, 200)
      const c = h.store.counts()
      assert.equal(c.bad_payloads, 6)
      assert.equal(c.payloads, 1)
      assert.equal(h.rejects.length, 6)
      assert.match(h.rejects[1].reason, /v0\.5 payload must be an array of exactly 2 elements/)
      assert.match(h.rejects[2].reason, /unsupported content-type "application\/json"/)
      assert.equal(h.intake.stats().bad_requests, 6)
    } finally {
      await h.dispose()
    }
  })

  it('survives clients that vanish mid-body and malformed HTTP', {timeout: 20_000}, async () => {
    const h = await startHarness()
    try {
      const u = new URL(h.intake.url)
      await new Promise<void>((resolve) => {
        const req = request({host: u.hostname, port: u.port, method: 'PUT', path: '/v0.4/traces', headers: {...MSGPACK, 'content-length': 100_000}, agent: false})
        req.on('error', () => resolve())
        req.write(Buffer.alloc(1000, 0x90), () => setTimeout(() => req.destroy(), 50))
        req.on('close', () => resolve())
      })
      assert.ok(await waitFor(() => h.intake.stats().aborted === 1, 5_000), 'the aborted request is counted')
      const raw = await new Promise<string>((resolve, reject) => {
        const s = connect(Number(u.port), u.hostname, () => s.write('THIS IS NOT HTTP\r\n\r\n'))
        let got = ''
        s.on('data', (d) => (got += d.toString()))
        s.on('end', () => resolve(got))
        s.on('error', reject)
      })
      assert.match(raw, /^HTTP\/1\.1 400/)
      assert.equal((await sendTraces(h.intake.url, 'v0.4', v04([[testSpan()]]))).status, 200)
      assert.equal(h.store.counts().bad_payloads, 0)
    } finally {
      await h.dispose()
    }
  })

  it('stores concurrent payloads all, one after another', {timeout: 30_000}, async () => {
    const h = await startHarness()
    try {
      const bodies = Array.from({length: 24}, (_, i) => (i % 2 ? v05 : v04)([Array.from({length: 50}, () => testSpan())]))
      const replies = await Promise.all(bodies.map((b, i) => sendTraces(h.intake.url, i % 2 ? 'v0.5' : 'v0.4', b)))
      assert.ok(replies.every((r) => r.status === 200))
      await h.intake.close()
      await h.store.close()
      const index = await readIndex(h.dir)
      assert.equal(index.length, 24)
      assert.deepEqual(
        index.map((p) => p.seq),
        index.map((_, i) => i),
      )
      assert.equal(h.store.counts().spans_kept, 24 * 50)
    } finally {
      await h.dispose()
    }
  })

  it('close() is idempotent, lets a request in progress finish, then refuses connections', {timeout: 20_000}, async () => {
    const h = await startHarness()
    try {
      const inProgress = sendTraces(h.intake.url, 'v0.4', v04([Array.from({length: 200}, () => testSpan())]))
      await new Promise((r) => setTimeout(r, 5))
      await Promise.all([h.intake.close(), h.intake.close()])
      const r = await inProgress.catch((e: Error) => e)
      // either it made it before the listener closed, or it was refused outright; never half-stored
      if (r instanceof Error) assert.match(r.message, /ECONNREFUSED|socket hang up|ECONNRESET/)
      else assert.equal(r.status, 200)
      await assert.rejects(sendTraces(h.intake.url, 'v0.4', v04([[testSpan()]])), /ECONNREFUSED/)
      await h.store.close()
      const kept = h.store.counts().spans_kept
      assert.ok(kept === 0 || kept === 200)
    } finally {
      await h.dispose()
    }
  })
})
