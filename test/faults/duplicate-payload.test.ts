/**
 * dd-trace re-sends a payload whose answer took longer than its 2 s request
 * timeout, although the first copy arrived (seen under load while the host's
 * event loop was busy). The copy must not be kept or counted twice, or the
 * bundle holds more spans than the pipeline started (spans_lost < 0).
 */
import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {readIndex, readSpanFile, sendTraces, startHarness, testSpan, v04, v05} from '../intake/helpers.js'

describe('a payload sent twice', () => {
  test('is answered 200 both times, stored and counted once', {timeout: 20_000}, async () => {
    const h = await startHarness({maxSpans: 1_000})
    try {
      const a = v04([[testSpan(), testSpan()], [testSpan()]])
      const b = v05([[testSpan(), testSpan()]])
      for (const [version, body] of [['v0.4', a], ['v0.4', a], ['v0.5', b], ['v0.4', a], ['v0.5', b]] as const) {
        assert.equal((await sendTraces(h.intake.url, version, body)).status, 200)
      }
      await h.intake.close()
      await h.store.close()
      const c = h.store.counts()
      assert.equal(c.payloads, 2)
      assert.equal(c.spans_kept, 5)
      assert.equal(c.payloads_duplicate, 3)
      assert.equal(c.spans_dropped_vdiag, 0)
      assert.equal((await readSpanFile(h.dir)).length, 5)
      assert.deepEqual((await readIndex(h.dir)).map((p) => p.spans), [3, 2])
    } finally {
      await h.dispose()
    }
  })

  test('a copy of a payload dropped over --max-spans is not counted as dropped again', {timeout: 20_000}, async () => {
    const h = await startHarness({maxSpans: 2})
    try {
      const big = v04([[testSpan(), testSpan(), testSpan()]])
      assert.equal((await sendTraces(h.intake.url, 'v0.4', big)).status, 200)
      assert.equal((await sendTraces(h.intake.url, 'v0.4', big)).status, 200)
      await h.intake.close()
      await h.store.close()
      const c = h.store.counts()
      assert.equal(c.spans_dropped_vdiag, 3)
      assert.equal(c.payloads_duplicate, 1)
    } finally {
      await h.dispose()
    }
  })
})
