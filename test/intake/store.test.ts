import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {describe, it} from 'node:test'
import {unpack} from 'msgpackr'
import type {WireSpanFields} from '../../src/intake/decode.js'
import {decodePayload} from '../../src/intake/decode.js'
import {resolveLimits} from '../../src/intake/limits.js'
import {toSpanRecord} from '../../src/intake/normalise.js'
import {createSpanStore} from '../../src/intake/store.js'
import {expectedRecord, rawFiles, readIndex, readSpanFile, sendTraces, startHarness, tempDir, testSpan, v04, v05, type TestSpan} from './helpers.js'

const limits = resolveLimits()

function decodeStored(version: 'v0.4' | 'v0.5', body: Buffer, seq: number) {
  const d = decodePayload(version, body, limits)
  if (!d.ok) assert.fail(`stored payload does not decode: ${d.reason}`)
  const out = []
  const c = d.payload.cursor()
  for (let n = c.nextChunk(); n >= 0; n = c.nextChunk()) for (let i = 0; i < n; i++) out.push(toSpanRecord(c.nextSpan(), undefined, seq))
  return out
}

/** Drops trace_id_high, which the records carry and a per-span decode cannot know. */
const withoutTid = <T extends {trace_id_high?: string}>(r: T): Omit<T, 'trace_id_high'> => {
  const {trace_id_high: _, ...rest} = r
  return rest
}

describe('span store: --max-spans', () => {
  it('keeps whole payloads until the next would pass the cap, counts the rest, archive stays consistent', {timeout: 20_000}, async () => {
    const h = await startHarness({maxSpans: 5})
    try {
      const payloads = [0, 1, 2, 3].map(() => v04([[testSpan(), testSpan()]]))
      // a small one after the cap was hit is dropped too: kept spans are a prefix in time
      payloads.push(v04([[testSpan()]]))
      for (const body of payloads) assert.equal((await sendTraces(h.intake.url, 'v0.4', body)).status, 200)
      await h.intake.close()
      await h.store.close()
      assert.deepEqual(h.store.counts(), {payloads: 2, bad_payloads: 0, oversized_payloads: 0, spans_kept: 4, spans_dropped_vdiag: 5, payloads_dropped: 3, payloads_duplicate: 0, traces: 4})
      assert.equal((await readSpanFile(h.dir)).length, 4)
      const index = await readIndex(h.dir)
      assert.deepEqual(
        index.map((p) => [p.seq, p.spans]),
        [
          [0, 2],
          [1, 2],
        ],
      )
      assert.deepEqual(await rawFiles(h.dir), ['000000.msgpack', '000001.msgpack'])
      assert.equal(h.payloads.length, 2)
      const stats = h.intake.stats()
      assert.equal(stats.accepted, 5)
      assert.equal(stats.store.spans_dropped_vdiag, 5)
    } finally {
      await h.dispose()
    }
  })
})

describe('span store: records', () => {
  it('propagates _dd.p.tid from the first span of a chunk to the whole chunk', {timeout: 20_000}, async () => {
    const t = await tempDir()
    const store = await createSpanStore({dir: t.dir, maxSpans: 100})
    try {
      const trace = 0x1234n
      const chunk1 = [testSpan({trace_id: trace, meta: {'_dd.p.tid': 'ABCDEF0123456789'}}), testSpan({trace_id: trace}), testSpan({trace_id: trace, meta: {'_dd.p.tid': '1111111111111111'}})]
      const chunk2 = [testSpan(), testSpan()]
      const chunk3 = [testSpan({meta: {'_dd.p.tid': 'xyz'}}), testSpan()]
      for (const [version, body] of [
        ['v0.4', v04([chunk1, chunk2, chunk3])],
        ['v0.5', v05([chunk1, chunk2, chunk3])],
      ] as const) {
        const d = decodePayload(version, body, limits)
        assert.ok(d.ok)
        const r = await store.accept({payload: d.payload, method: 'PUT', path: `/${version}/traces`, headers: {}, receivedAt: new Date()})
        assert.equal(r.status, 'stored')
      }
      await store.close()
      const records = await readSpanFile(t.dir)
      const tids = records.map((r) => r.trace_id_high ?? null)
      const perPayload = ['abcdef0123456789', 'abcdef0123456789', '1111111111111111', null, null, null, null]
      assert.deepEqual(tids, [...perPayload, ...perPayload])
      const spans = [...chunk1, ...chunk2, ...chunk3]
      assert.deepEqual(records.map(withoutTid), [...spans.map((s) => expectedRecord(s, 0)), ...spans.map((s) => expectedRecord(s, 1))])
      // chunk1 and the two others' first spans: 5 distinct traces, seen twice
      assert.equal(store.counts().traces, 5)
    } finally {
      await store.close().catch(() => undefined)
      await t.remove()
    }
  })

  it('writes payloads in the order accept() was called, even when called concurrently', {timeout: 20_000}, async () => {
    const t = await tempDir()
    const store = await createSpanStore({dir: t.dir, maxSpans: 10_000})
    try {
      const sent: TestSpan[][] = []
      const accepts = []
      for (let i = 0; i < 30; i++) {
        const spans = Array.from({length: 1 + (i % 7) * 40}, () => testSpan({resource: `p${i}`}))
        sent.push(spans)
        const d = decodePayload(i % 2 ? 'v0.5' : 'v0.4', i % 2 ? v05([spans]) : v04([spans]), limits)
        assert.ok(d.ok)
        accepts.push(store.accept({payload: d.payload, method: 'PUT', path: '/x', headers: {}, receivedAt: new Date()}))
      }
      const results = await Promise.all(accepts)
      assert.deepEqual(
        results.map((r) => (r.status === 'stored' ? r.record.seq : -1)),
        sent.map((_, i) => i),
      )
      await store.close()
      await store.close() // idempotent
      const late = decodePayload('v0.4', v04([[testSpan()]]), limits)
      assert.ok(late.ok)
      const after = await store.accept({payload: late.payload, method: 'PUT', path: '/x', headers: {}, receivedAt: new Date()})
      assert.equal(after.status, 'failed')
      const records = await readSpanFile(t.dir)
      assert.deepEqual(
        records.map((r) => `${r.payload}:${r.span_id}`),
        sent.flatMap((spans, i) => spans.map((s) => `${i}:${s.span_id}`)),
      )
    } finally {
      await store.close().catch(() => undefined)
      await t.remove()
    }
  })
})

const SECRET = 'hunter2-secret-value'

function redact(s: WireSpanFields): boolean {
  let changed = false
  for (const k of Object.keys(s.meta)) {
    if (k.includes('password')) {
      s.meta[k] = '[REDACTED]'
      changed = true
    }
  }
  if (/secret-\w+/.test(s.resource)) {
    s.resource = s.resource.replace(/secret-\w+/g, '[REDACTED]')
    changed = true
  }
  return changed
}

describe('span store: redaction', () => {
  for (const version of ['v0.4', 'v0.5'] as const) {
    it(`${version}: re-encodes payloads redaction changed, keeps the others byte for byte`, {timeout: 20_000}, async () => {
      const h = await startHarness({redactSpan: redact})
      try {
        const links = [{trace_id: 5n, span_id: 6n, attributes: {'link.kind': 'follows'}, flags: 1}]
        const leaky = testSpan({meta: {'db.password': SECRET, note: 'shared-value'}, ...(version === 'v0.4' ? {span_links: links, meta_struct: {blob: Buffer.from([1, 2, 3])}} : {})})
        const clean = testSpan({trace_id: leaky.trace_id, parent_id: leaky.span_id, meta: {note: 'shared-value', other: SECRET.toUpperCase()}})
        const urlSpan = testSpan({resource: 'GET /login?token=secret-abc123', type: 'web'})
        const encode = version === 'v0.4' ? v04 : v05
        const dirty = encode([[leaky, clean], [urlSpan]])
        const tidy = encode([[testSpan(), testSpan()]])
        assert.equal((await sendTraces(h.intake.url, version, dirty)).status, 200)
        assert.equal((await sendTraces(h.intake.url, version, tidy)).status, 200)
        await h.intake.close()
        await h.store.close()

        const [first, second] = await readIndex(h.dir)
        assert.equal(first.reencoded, true)
        assert.equal(second.reencoded, false)
        const stored = await readFile(path.join(h.dir, first.file))
        const storedTidy = await readFile(path.join(h.dir, second.file))
        assert.ok(storedTidy.equals(tidy), 'an untouched payload is stored as received')
        assert.ok(!stored.equals(dirty))
        assert.equal(first.size, stored.length)
        assert.equal(stored.indexOf(SECRET), -1, 'the secret is gone from the stored body')
        assert.equal(stored.indexOf('secret-abc123'), -1)

        // the re-encoded body decodes to exactly the redacted spans of the span file
        const records = await readSpanFile(h.dir)
        const fromFile = records.filter((r) => r.payload === 0).map(withoutTid)
        assert.deepEqual(decodeStored(version, stored, 0), fromFile)
        assert.equal(fromFile.length, 3)
        assert.equal(fromFile[0].meta['db.password'], '[REDACTED]')
        assert.equal(fromFile[0].meta.note, 'shared-value')
        assert.deepEqual(fromFile[1].meta, clean.meta, 'a span redaction did not change keeps its strings, shared ones included')
        assert.equal(fromFile[2].resource, 'GET /login?token=[REDACTED]')
        assert.deepEqual(fromFile[0], {...expectedRecord(leaky, 0), meta: {...leaky.meta, 'db.password': '[REDACTED]'}})

        const wire = unpack(stored) as unknown
        if (version === 'v0.4') {
          const [[a, b], [c]] = wire as Record<string, unknown>[][]
          // fields redaction does not see are kept as they were
          assert.deepEqual(a.span_links, links)
          assert.deepEqual(a.meta_struct, {blob: Buffer.from([1, 2, 3])})
          // re-encoded spans carry ids as uint64, the span left alone keeps its bytes (msgpackr wrote int64)
          const key = Buffer.from([0xa8, ...Buffer.from('trace_id')])
          const idTypes: number[] = []
          for (let at = stored.indexOf(key); at >= 0; at = stored.indexOf(key, at + 1)) idTypes.push(stored[at + key.length])
          // leaky span (re-encoded), its span link (kept as sent), the clean span (kept), the url span (re-encoded)
          assert.deepEqual(idTypes, [0xcf, 0xd3, 0xd3, 0xcf])
          assert.equal(b.resource, clean.resource)
          assert.equal(c.resource, 'GET /login?token=[REDACTED]')
        } else {
          const [table, traces] = wire as [string[], unknown[][][]]
          assert.equal(table[0], '')
          assert.ok(table.includes('shared-value'))
          assert.ok(!table.includes(SECRET))
          assert.equal(traces.length, 2)
          assert.equal(traces[0][0].length, 12)
        }
        assert.equal(h.store.counts().spans_kept, 5)
      } finally {
        await h.dispose()
      }
    })
  }

  it('a redaction hook that throws fails the store loudly instead of storing unredacted spans', {timeout: 20_000}, async () => {
    const h = await startHarness({
      redactSpan: () => {
        throw new Error('redactor bug')
      },
    })
    try {
      const r = await sendTraces(h.intake.url, 'v0.4', v04([[testSpan()]]))
      assert.equal(r.status, 500)
      assert.equal((await rawFiles(h.dir)).length, 0)
      await h.intake.close()
      await assert.rejects(h.store.close(), /could not write the captured spans: redactor bug/)
      assert.equal(h.store.counts().spans_dropped_vdiag, 1)
    } finally {
      await h.dispose()
    }
  })
})
