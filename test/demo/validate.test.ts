import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {validateOpenRequest} from '../../src/demo/tracing/validate.js'

const IDS = ['app_logs', 'parse_logs', 'http_out']
const v = (body: unknown) => validateOpenRequest(body, 600, IDS)

describe('validateOpenRequest', () => {
  it('fills the defaults', () => {
    const r = v({duration_secs: 0.5, endpoint: 'https://127.0.0.1:8126/'})
    assert.deepEqual(r, {ok: true, request: {durationSecs: 0.5, endpoint: 'https://127.0.0.1:8126', level: 'info', components: ['*'], sampleRate: 1}})
  })

  it('keeps explicit values and deduplicates components', () => {
    const r = v({duration_secs: 600, endpoint: 'http://[::1]:9', level: 'debug', components: ['http_out', 'http_out', '*'], sample_rate: 0.25})
    assert.ok(r.ok)
    assert.deepEqual(r.request.components, ['http_out', '*'])
    assert.equal(r.request.endpoint, 'http://[::1]:9')
    assert.equal(r.request.sampleRate, 0.25)
  })

  it('names the offending field', () => {
    const cases: [unknown, RegExp][] = [
      [null, /JSON object/],
      [{endpoint: 'http://x:1'}, /duration_secs is required/],
      [{duration_secs: Number.NaN, endpoint: 'http://x:1'}, /duration_secs/],
      [{duration_secs: 601, endpoint: 'http://x:1'}, /at most/],
      [{duration_secs: 1}, /endpoint is required/],
      [{duration_secs: 1, endpoint: 'http://u:p@x:1'}, /credentials/],
      [{duration_secs: 1, endpoint: 'http://x:1/?a=1'}, /base URL/],
      [{duration_secs: 1, endpoint: 'http://x:1', level: 'INFO'}, /level/],
      [{duration_secs: 1, endpoint: 'http://x:1', components: 'app_logs'}, /components/],
      [{duration_secs: 1, endpoint: 'http://x:1', components: ['App_Logs']}, /unknown component id: "App_Logs"/],
      [{duration_secs: 1, endpoint: 'http://x:1', sample_rate: '1'}, /sample_rate/],
    ]
    for (const [body, message] of cases) {
      const r = v(body)
      assert.equal(r.ok, false, JSON.stringify(body))
      if (!r.ok) assert.match(r.error, message)
    }
  })
})
