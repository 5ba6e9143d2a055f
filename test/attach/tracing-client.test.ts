import {after, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import type http from 'node:http'
import {endWindow, getTracingStatus, openWindow, waitForEnded} from '../../src/attach/tracing-client.js'
import {isVdiagError, type VdiagError} from '../../src/errors.js'
import type {TracingWindow} from '../../src/protocol/tracing-control.js'
import {closedPort, readBody, sendJson, startGrpcFake, startHttp, type Running, failure, withServer} from './fake-admin.js'

const unhandled: unknown[] = []
process.on('unhandledRejection', (e) => unhandled.push(e))
after(() => assert.deepEqual(unhandled, [], 'no unhandled rejections'))

const T = {timeout: 60_000}
const TOKEN = 'trace-token-5e6f7a8b'

function windowOf(over: Partial<TracingWindow> = {}): TracingWindow {
  return {
    id: 'w-1',
    state: 'active',
    started_at: '2026-11-25T10:00:00.000Z',
    expires_at: '2026-11-25T10:01:00.000Z',
    ended_at: null,
    level: 'info',
    endpoint: 'http://127.0.0.1:9999',
    components: ['*'],
    sample_rate: 1,
    spans_started: 0,
    spans_dropped: 0,
    ...over,
  }
}

function statusOf(window: TracingWindow | null) {
  return {supported: true, version: 1, max_duration_secs: 300, levels: ['info', 'debug'], window}
}



function assertNoToken(e: VdiagError): void {
  const all = JSON.stringify({m: e.message, h: e.hint, j: e.toJSON()})
  assert.ok(!all.includes(TOKEN), `token leaked: ${all}`)
}

describe('getTracingStatus', () => {
  test('supported: status parsed, token sent', T, async () => {
    let auth: string | undefined
    await withServer(
      (req, res) => {
        auth = req.headers.authorization
        sendJson(res, 200, statusOf(windowOf({state: 'ended', ended_at: '2026-11-25T10:01:02.000Z', spans_started: 7})))
      },
      async (s) => {
        const r = await getTracingStatus({url: s.url, token: TOKEN})
        assert.equal(r.supported, true)
        if (!r.supported) return
        assert.equal(r.http, 200)
        assert.equal(r.status.max_duration_secs, 300)
        assert.equal(r.status.window?.state, 'ended')
        assert.equal(r.status.window?.spans_started, 7)
      },
    )
    assert.equal(auth, `Bearer ${TOKEN}`)
  })

  test('stock Vector >= 0.55 (200 application/grpc, grpc-status 12, on the gRPC port) -> unsupported', T, async () => {
    const fake = await startGrpcFake({components: []})
    try {
      const r = await getTracingStatus({url: fake.url})
      assert.equal(r.supported, false)
      assert.equal(r.http, 200)
      if (!r.supported) assert.match(r.reason, /gRPC .*grpc-status 12.*no \/tracing/)
    } finally {
      await fake.close()
    }
  })

  const unsupportedCases: [string, http.RequestListener, RegExp][] = [
    ['404', (_q, r) => sendJson(r, 404, {error: 'not found'}), /no \/tracing endpoint \(HTTP 404\)/],
    ['HTML', (_q, r) => (r.writeHead(200, {'content-type': 'text/html'}), r.end('<!doctype html><p>hi</p>')), /HTML/],
    ['garbage', (_q, r) => (r.writeHead(200), r.end('\u0000\u0001garbage')), /not valid JSON/],
    ['supported:false', (_q, r) => sendJson(r, 200, {supported: false}), /says tracing is not supported/],
    ['supported as a string', (_q, r) => sendJson(r, 200, {supported: 'true'}), /does not say "supported": true/],
    ['malformed window', (_q, r) => sendJson(r, 200, statusOf({...windowOf(), state: 'open'} as unknown as TracingWindow)), /malformed: "window": "state"/],
    ['missing max_duration_secs', (_q, r) => sendJson(r, 200, {supported: true, version: 1, levels: [], window: null}), /max_duration_secs/],
    ['401', (_q, r) => sendJson(r, 401, {error: 'token required'}), /requires an admin token.*--token/],
  ]
  for (const [name, handler, reason] of unsupportedCases) {
    test(`${name} -> unsupported with a plain reason, not an error`, T, async () => {
      await withServer(handler, async (s) => {
        const r = await getTracingStatus({url: s.url, token: TOKEN})
        assert.equal(r.supported, false)
        if (!r.supported) {
          assert.match(r.reason, reason)
          assert.equal(typeof r.http, 'number')
          assert.ok(!r.reason.includes(TOKEN))
        }
      })
    })
  }

  test('network failure is still an error', T, async () => {
    const port = await closedPort()
    const e = await failure(getTracingStatus({url: `http://127.0.0.1:${port}`}))
    assert.equal(e.code, 'api_unreachable')
  })
})

describe('openWindow / endWindow', () => {
  test('201 -> the window; the request body is what was asked', T, async () => {
    let body: unknown
    await withServer(
      async (req, res) => {
        body = JSON.parse(await readBody(req))
        sendJson(res, 201, {window: windowOf()})
      },
      async (s) => {
        const w = await openWindow({url: s.url, token: TOKEN}, {duration_secs: 1.5, endpoint: 'http://127.0.0.1:9999', level: 'debug'})
        assert.deepEqual(w, windowOf())
      },
    )
    assert.deepEqual(body, {duration_secs: 1.5, endpoint: 'http://127.0.0.1:9999', level: 'debug'})
  })

  test('409 -> tracing_conflict with details.window and until when', T, async () => {
    const active = windowOf({id: 'w-other', expires_at: '2026-11-25T12:34:56.000Z'})
    await withServer(
      (_req, res) => sendJson(res, 409, {error: 'a window is already active', window: active}),
      async (s) => {
        const e = await failure(openWindow({url: s.url, token: TOKEN}, {duration_secs: 10, endpoint: 'http://127.0.0.1:1'}))
        assert.equal(e.code, 'tracing_conflict')
        assert.equal(e.exitCode, 1)
        assert.match(e.message, /until 2026-11-25T12:34:56\.000Z/)
        assert.deepEqual(e.details?.window, active)
      },
    )
  })

  test('400 -> tracing_rejected with the server error (token redacted)', T, async () => {
    await withServer(
      (req, res) => sendJson(res, 400, {error: `duration_secs must be <= 300 (you sent ${String(req.headers.authorization)})`}),
      async (s) => {
        const e = await failure(openWindow({url: s.url, token: TOKEN}, {duration_secs: 900, endpoint: 'http://127.0.0.1:1'}))
        assert.equal(e.code, 'tracing_rejected')
        assert.match(e.message, /duration_secs must be <= 300/)
        assertNoToken(e)
      },
    )
  })

  test('401 -> tracing_rejected with a --token hint', T, async () => {
    await withServer(
      (_req, res) => sendJson(res, 401, {error: 'unauthorized'}),
      async (s) => {
        const e = await failure(openWindow({url: s.url, token: TOKEN}, {duration_secs: 1, endpoint: 'http://127.0.0.1:1'}))
        assert.equal(e.code, 'tracing_rejected')
        assert.match(e.hint ?? '', /--token/)
        assert.match(e.hint ?? '', /VDIAG_API_TOKEN/)
        assert.match(e.message, /token vdiag sent was not accepted/)
        assertNoToken(e)
      },
    )
  })

  test('201 with a malformed window -> api_bad_reply', T, async () => {
    await withServer(
      (_req, res) => sendJson(res, 201, {window: {id: 1}}),
      async (s) => {
        const e = await failure(openWindow({url: s.url}, {duration_secs: 1, endpoint: 'http://127.0.0.1:1'}))
        assert.equal(e.code, 'api_bad_reply')
      },
    )
  })

  test('DELETE: 200 -> the window; 404 -> null; DELETE carries the token', T, async () => {
    let active = true
    const auths: (string | undefined)[] = []
    await withServer(
      (req, res) => {
        auths.push(req.headers.authorization)
        if (req.method !== 'DELETE') return sendJson(res, 405, {})
        if (!active) return sendJson(res, 404, {error: 'no active window'})
        active = false
        sendJson(res, 200, {window: windowOf({state: 'ending'})})
      },
      async (s) => {
        assert.equal((await endWindow({url: s.url, token: TOKEN}))?.state, 'ending')
        assert.equal(await endWindow({url: s.url, token: TOKEN}), null)
      },
    )
    assert.deepEqual(auths, [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`])
  })
})

describe('waitForEnded', () => {
  test('active -> ending -> ended, through transient errors', T, async () => {
    let polls = 0
    await withServer(
      (_req, res) => {
        polls++
        if (polls === 2) return sendJson(res, 500, {error: 'busy'})
        if (polls === 3) return (res.writeHead(200, {'content-type': 'text/html'}), res.end('<html>'))
        if (polls === 4) return res.socket?.destroy()
        const state = polls < 6 ? 'active' : polls < 8 ? 'ending' : 'ended'
        sendJson(res, 200, statusOf(windowOf({state, spans_started: 42, spans_dropped: 1, ended_at: state === 'ended' ? '2026-11-25T10:01:03.000Z' : null})))
      },
      async (s) => {
        const r = await waitForEnded({url: s.url}, {deadlineMs: Date.now() + 30_000, pollMs: 10, windowId: 'w-1'})
        assert.equal(r.ended, true)
        assert.equal(r.error, undefined)
        assert.equal(r.window?.state, 'ended')
        assert.equal(r.window?.spans_started, 42)
        assert.equal(r.window?.spans_dropped, 1)
      },
    )
    assert.ok(polls >= 8)
  })

  test('a window that never ends -> returns at the deadline with an error', T, async () => {
    await withServer(
      (_req, res) => sendJson(res, 200, statusOf(windowOf({state: 'ending'}))),
      async (s) => {
        const r = await waitForEnded({url: s.url}, {deadlineMs: Date.now() + 400, pollMs: 50})
        assert.equal(r.ended, false)
        assert.equal(r.window?.state, 'ending')
        assert.match(r.error ?? '', /still ending at the deadline/)
      },
    )
  })

  test('a pipeline that died -> returns with an error, no throw, well before a far deadline', T, async () => {
    let polls = 0
    let dying: Promise<void> | undefined
    const s: Running = await startHttp((_req, res) => {
      polls++
      sendJson(res, 200, statusOf(windowOf()))
      if (polls === 2) dying = s.close() // the pipeline goes away mid-wait
    })
    try {
      const r = await waitForEnded({url: s.url}, {deadlineMs: Date.now() + 50_000, pollMs: 20, windowId: 'w-1'})
      assert.equal(r.ended, false)
      assert.equal(r.window?.state, 'active')
      assert.match(r.error ?? '', /stopped answering.*refused/)
    } finally {
      await (dying ?? s.close())
    }
  })

  test('another window id (pipeline restarted) -> error', T, async () => {
    await withServer(
      (_req, res) => sendJson(res, 200, statusOf(windowOf({id: 'w-2'}))),
      async (s) => {
        const r = await waitForEnded({url: s.url}, {deadlineMs: Date.now() + 10_000, pollMs: 20, windowId: 'w-1'})
        assert.equal(r.ended, false)
        assert.match(r.error ?? '', /another window \(w-2\)/)
      },
    )
  })

  test('abort -> returns canceled', T, async () => {
    await withServer(
      (_req, res) => sendJson(res, 200, statusOf(windowOf())),
      async (s) => {
        const ac = new AbortController()
        setTimeout(() => ac.abort(), 150)
        const r = await waitForEnded({url: s.url}, {deadlineMs: Date.now() + 30_000, pollMs: 20, signal: ac.signal})
        assert.equal(r.ended, false)
        assert.match(r.error ?? '', /canceled/)
        assert.equal(r.window?.state, 'active')
      },
    )
  })
})
