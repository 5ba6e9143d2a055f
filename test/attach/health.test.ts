import {after, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import type http from 'node:http'
import {checkHealth} from '../../src/attach/health.js'
import {request} from '../../src/attach/http.js'
import {isVdiagError, VdiagError} from '../../src/errors.js'
import {closedPort, sendJson, startHttp, type Running, failure, withServer} from './fake-admin.js'

const unhandled: unknown[] = []
process.on('unhandledRejection', (e) => unhandled.push(e))
after(() => assert.deepEqual(unhandled, [], 'no unhandled rejections'))

const TOKEN = 'tok-9f8e7d6c5b4a'
const T = {timeout: 30_000}



function assertNoToken(e: VdiagError): void {
  const all = JSON.stringify({message: e.message, hint: e.hint, json: e.toJSON(), stack: e.stack})
  assert.ok(!all.includes(TOKEN), `token leaked into the error: ${all}`)
}

describe('checkHealth', () => {
  test('200 {"ok":true} passes and sends the bearer token', T, async () => {
    const seen: (string | undefined)[] = []
    await withServer(
      (req, res) => {
        seen.push(req.headers.authorization)
        if (req.url === '/health' && req.method === 'GET') sendJson(res, 200, {ok: true})
        else sendJson(res, 404, {})
      },
      async (s) => {
        assert.deepEqual(await checkHealth({url: s.url, token: TOKEN}), {ok: true, status: 200})
      },
    )
    assert.deepEqual(seen, [`Bearer ${TOKEN}`])
  })

  test('a base URL with a path prefix and trailing slash still reaches /health under it', T, async () => {
    await withServer(
      (req, res) => (req.url === '/admin/health' ? sendJson(res, 200, {ok: true}) : sendJson(res, 404, {})),
      async (s) => {
        assert.equal((await checkHealth({url: `${s.url}/admin/`})).status, 200)
      },
    )
  })

  test('refused (closed port) -> api_unreachable with what was tried and the api.enabled hint', T, async () => {
    const port = await closedPort()
    const e = await failure(checkHealth({url: `http://127.0.0.1:${port}`, token: TOKEN}))
    assert.equal(e.code, 'api_unreachable')
    assert.equal(e.exitCode, 1)
    assert.match(e.message, new RegExp(`GET http://127\\.0\\.0\\.1:${port}/health`))
    assert.match(e.message, /refused/)
    assert.match(e.hint ?? '', /api\.enabled: true/)
    assert.match(e.hint ?? '', /api\.address/)
    assert.equal(e.details?.cause_code, 'ECONNREFUSED')
    assertNoToken(e)
  })

  test('a server that never answers -> api_unreachable after the timeout', T, async () => {
    await withServer(
      () => {
        /* accept and say nothing */
      },
      async (s) => {
        const e = await failure(checkHealth({url: s.url, timeoutMs: 300, token: TOKEN}))
        assert.equal(e.code, 'api_unreachable')
        assert.match(e.message, /gave up after 300 ms: no reply arrived/)
        assertNoToken(e)
      },
    )
  })

  test('HTML -> api_bad_reply that says it was HTML', T, async () => {
    await withServer(
      (_req, res) => {
        res.writeHead(200, {'content-type': 'text/html'})
        res.end(`<html><body>Welcome, ${TOKEN}</body></html>`)
      },
      async (s) => {
        const e = await failure(checkHealth({url: s.url, token: TOKEN}))
        assert.equal(e.code, 'api_bad_reply')
        assert.match(e.message, /HTML/)
        assertNoToken(e)
      },
    )
  })

  test('truncated JSON -> api_bad_reply', T, async () => {
    await withServer(
      (_req, res) => {
        res.writeHead(200, {'content-type': 'application/json'})
        res.end('{"ok":tr')
      },
      async (s) => {
        const e = await failure(checkHealth({url: s.url}))
        assert.equal(e.code, 'api_bad_reply')
        assert.match(e.message, /not valid JSON/)
      },
    )
  })

  test('connection closed before Content-Length was reached -> a clear error, not a hang', T, async () => {
    await withServer(
      (_req, res) => {
        res.writeHead(200, {'content-type': 'application/json', 'content-length': 100})
        res.write('{"ok":')
        setTimeout(() => res.socket?.destroy(), 50)
      },
      async (s) => {
        const e = await failure(checkHealth({url: s.url, timeoutMs: 10_000}))
        assert.ok(['api_unreachable', 'api_bad_reply'].includes(e.code), e.code)
        assert.match(e.message, /GET http:\/\/127\.0\.0\.1:\d+\/health/)
      },
    )
  })

  test('wrong types ({"ok":"yes"}) -> api_bad_reply', T, async () => {
    await withServer(
      (_req, res) => sendJson(res, 200, {ok: 'yes'}),
      async (s) => {
        const e = await failure(checkHealth({url: s.url}))
        assert.equal(e.code, 'api_bad_reply')
        assert.match(e.message, /"ok" set to "yes"/)
      },
    )
  })

  test('a JSON array -> api_bad_reply', T, async () => {
    await withServer(
      (_req, res) => sendJson(res, 200, [true]),
      async (s) => assert.equal((await failure(checkHealth({url: s.url}))).code, 'api_bad_reply'),
    )
  })

  test('404 -> api_bad_reply naming a missing /health', T, async () => {
    await withServer(
      (_req, res) => sendJson(res, 404, {error: 'nope'}),
      async (s) => {
        const e = await failure(checkHealth({url: s.url}))
        assert.equal(e.code, 'api_bad_reply')
        assert.match(e.message, /no \/health endpoint/)
      },
    )
  })

  test('503 {"ok":false} (draining) -> api_unhealthy, exit 1', T, async () => {
    await withServer(
      (_req, res) => sendJson(res, 503, {ok: false}),
      async (s) => {
        const e = await failure(checkHealth({url: s.url}))
        assert.equal(e.code, 'api_unhealthy')
        assert.equal(e.exitCode, 1)
        assert.match(e.message, /draining/)
      },
    )
  })

  test('slow-drip body -> api_unreachable within the timeout, not a hang', T, async () => {
    const timers = new Set<NodeJS.Timeout>()
    await withServer(
      (_req, res) => {
        res.writeHead(200, {'content-type': 'application/json'})
        const t = setInterval(() => res.write(' '), 20)
        timers.add(t)
        res.on('close', () => clearInterval(t))
      },
      async (s) => {
        try {
          const e = await failure(checkHealth({url: s.url, timeoutMs: 500}))
          assert.equal(e.code, 'api_unreachable')
          assert.match(e.message, /reply did not finish \(\d+ bytes received\)/)
        } finally {
          for (const t of timers) clearInterval(t)
        }
      },
    )
  })

  test('endless body -> api_bad_reply at the size cap', T, async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20)
    await withServer(
      (_req, res) => {
        res.writeHead(200, {'content-type': 'application/json'})
        const pump = () => {
          while (!res.destroyed && res.write(chunk)) {
            /* keep writing until the socket pushes back */
          }
          if (!res.destroyed) res.once('drain', pump)
        }
        res.on('error', () => {})
        pump()
      },
      async (s) => {
        const e = await failure(checkHealth({url: s.url, timeoutMs: 25_000}))
        assert.equal(e.code, 'api_bad_reply')
        assert.match(e.message, /larger than \d+ bytes/)
        // The same through request() with a small cap.
        const e2 = await failure(request({url: s.url}, {path: '/x', maxBytes: 1024, timeoutMs: 25_000}))
        assert.match(e2.message, /larger than 1024 bytes/)
      },
    )
  })

  test('a declared Content-Length over the cap is refused before reading', T, async () => {
    await withServer(
      (_req, res) => {
        res.writeHead(200, {'content-type': 'application/json', 'content-length': 10_000})
        res.write('{')
      },
      async (s) => {
        const e = await failure(request({url: s.url}, {path: '/health', maxBytes: 100}))
        assert.equal(e.code, 'api_bad_reply')
      },
    )
  })

  test('a non-http URL and a malformed URL are usage errors (exit 2)', T, async () => {
    const e1 = await failure(checkHealth({url: 'ftp://127.0.0.1:8686'}))
    assert.equal(e1.code, 'usage')
    assert.equal(e1.exitCode, 2)
    const e2 = await failure(checkHealth({url: 'not a url'}))
    assert.equal(e2.code, 'usage')
  })

  test('credentials in the URL never reach the message', T, async () => {
    const port = await closedPort()
    const e = await failure(checkHealth({url: `http://admin:hunter2@127.0.0.1:${port}`}))
    assert.equal(e.code, 'api_unreachable')
    assert.ok(!e.message.includes('hunter2'), e.message)
  })

  test('a token that cannot go in a header is refused without being echoed', T, async () => {
    const bad = 'abc def\r\nX-Evil: 1'
    const e = await failure(checkHealth({url: 'http://127.0.0.1:1', token: bad}))
    assert.equal(e.code, 'usage')
    assert.ok(!JSON.stringify(e.toJSON()).includes('abc def'))
  })

  test('a canceled signal -> interrupted (exit 130)', T, async () => {
    await withServer(
      () => {},
      async (s) => {
        const ac = new AbortController()
        setTimeout(() => ac.abort(), 100)
        const e = await failure(checkHealth({url: s.url, timeoutMs: 20_000}, ac.signal))
        assert.equal(e.code, 'interrupted')
        assert.equal(e.exitCode, 130)
      },
    )
  })
})
