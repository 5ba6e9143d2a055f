/**
 * Hostile input, property-based (fast-check): random bytes, truncated and
 * bit-flipped payloads, type confusion, huge declared lengths, deep nesting,
 * big v0.5 string tables, wrong content types, oversized bodies. The intake
 * must only ever answer 400/413 to them, stay up, keep memory bounded, and
 * keep every valid payload sent in between.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import fc from 'fast-check'
import {decodePayload} from '../../src/intake/decode.js'
import {resolveLimits} from '../../src/intake/limits.js'
import {spanLine} from '../../src/intake/normalise.js'
import {MSGPACK, pack, readIndex, readSpanFile, send, sendTraces, startHarness, type TestSpan, v04, v05} from './helpers.js'

type Version = 'v0.4' | 'v0.5'

const MAX_U64 = (1n << 64n) - 1n

const spanArb: fc.Arbitrary<TestSpan> = fc.record({
  trace_id: fc.bigInt({min: 0n, max: MAX_U64}),
  span_id: fc.bigInt({min: 0n, max: MAX_U64}),
  parent_id: fc.bigInt({min: 0n, max: MAX_U64}),
  service: fc.string({maxLength: 20}),
  name: fc.string({maxLength: 20}),
  resource: fc.string({unit: 'binary', maxLength: 40}),
  type: fc.constantFrom('', 'web', 'worker'),
  start: fc.bigInt({min: 0n, max: (1n << 63n) - 1n}),
  duration: fc.nat(),
  error: fc.constantFrom(0, 1),
  meta: fc.dictionary(fc.string({maxLength: 12}), fc.string({unit: 'binary', maxLength: 30}), {maxKeys: 6}),
  metrics: fc.dictionary(fc.string({maxLength: 12}), fc.double({noNaN: true, noDefaultInfinity: true}), {maxKeys: 4}),
})

const chunksArb = fc.array(fc.array(spanArb, {minLength: 1, maxLength: 4}), {minLength: 1, maxLength: 3})

interface Valid {
  version: Version
  body: Buffer
  spans: number
}

const validArb: fc.Arbitrary<Valid> = fc.tuple(fc.constantFrom<Version>('v0.4', 'v0.5'), chunksArb).map(([version, chunks]) => ({
  version,
  body: version === 'v0.4' ? v04(chunks) : v05(chunks),
  spans: chunks.reduce((n, c) => n + c.length, 0),
}))

interface Bad {
  kind: string
  version: Version
  body: Buffer
  headers?: Record<string, string>
  /** The only statuses allowed. */
  expect: number[]
}

const BODY_LIMIT = 64 * 1024
const TABLE_LIMIT = 2_000

const wrongForText = fc.constantFrom<unknown>(1, 1.5, true, [1], {a: 'b'})
const wrongForInt = fc.constantFrom<unknown>('1', 1.5, true, [1], {a: 1}, Buffer.from([1]))
const wrongForMap = fc.constantFrom<unknown>('m', 1, [['a', 'b']], true)
/** Meta values may be str, bin or nil: anything else is wrong. */
const wrongForMetaValue = fc.constantFrom<unknown>(2, 1.5, true, [1], {a: 1})

/** A valid v0.4 span with one field given a wrong type. */
const confusedV04: fc.Arbitrary<Bad> = fc
  .tuple(spanArb, fc.constantFrom('service', 'name', 'resource', 'type', 'trace_id', 'span_id', 'parent_id', 'start', 'duration', 'error', 'meta', 'metrics', 'meta value', 'metrics value', 'span', 'chunk'), wrongForText, wrongForInt, wrongForMap, wrongForMetaValue)
  .map(([span, field, text, int, map, metaValue]) => {
    const s: Record<string, unknown> = {...span}
    let chunk: unknown = [s]
    if (['service', 'name', 'resource', 'type'].includes(field)) s[field] = text
    else if (field === 'meta' || field === 'metrics') s[field] = map
    else if (field === 'meta value') s.meta = {...span.meta, k: metaValue}
    else if (field === 'metrics value') s.metrics = {...span.metrics, k: typeof int === 'number' ? 'x' : int}
    else if (field === 'span') chunk = [Array.isArray(text) || typeof text !== 'object' ? text : 'x'] // anything but a map
    else if (field === 'chunk') chunk = 'not a chunk'
    else s[field] = int
    return {kind: `confused ${field}`, version: 'v0.4' as Version, body: pack([chunk]), expect: [400]}
  })

const confusedV05: fc.Arbitrary<Bad> = fc.tuple(spanArb, fc.constantFrom('short', 'long', 'index type', 'index range', 'negative index', 'table entry', 'table', 'top'), fc.integer({min: 1, max: 3})).map(([span, how, k]) => {
  const good = v05([[span]])
  const table: unknown[] = ['']
  const s: unknown[] = [0, 0, 0, span.trace_id, span.span_id, span.parent_id, span.start, span.duration, 0, {}, {}, 0]
  const traces: unknown[][][] = [[s]]
  let top: unknown[] = [table, traces]
  if (how === 'short') traces[0][0] = s.slice(0, 12 - k)
  else if (how === 'long') traces[0][0] = [...s, ...Array(k).fill(0)]
  else if (how === 'index type') s[k - 1] = 'service'
  else if (how === 'index range') s[k - 1] = table.length + k
  else if (how === 'negative index') s[11] = -k
  else if (how === 'table entry') table.push(k === 1 ? 5 : k === 2 ? [] : {})
  else if (how === 'table') top = ['x', traces]
  else top = k === 1 ? [table] : [table, traces, good]
  return {kind: `v0.5 ${how}`, version: 'v0.5' as Version, body: pack(top), expect: [400]}
})

/** Container or string headers that declare more than the body holds. */
const hugeLength: fc.Arbitrary<Bad> = fc
  .tuple(fc.constantFrom(0xdd, 0xdf, 0xdb, 0xc6, 0xdc, 0xde, 0xda, 0xc5), fc.constantFrom('top', 'chunk', 'span', 'meta', 'value', 'table'), fc.integer({min: 0, max: 0xffff_ffff}), fc.uint8Array({maxLength: 64}))
  .map(([token, site, n, tail]) => {
    const wide = token === 0xdd || token === 0xdf || token === 0xdb || token === 0xc6
    const count = wide ? Math.max(n, 0x10000) : Math.max(n & 0xffff, 200)
    const header = Buffer.alloc(wide ? 5 : 3)
    header[0] = token
    if (wide) header.writeUInt32BE(count, 1)
    else header.writeUInt16BE(count, 1)
    const prefix: Record<string, Buffer> = {
      top: Buffer.alloc(0),
      chunk: Buffer.from([0x91]),
      span: Buffer.from([0x91, 0x91]),
      meta: Buffer.concat([Buffer.from([0x91, 0x91, 0x81]), pack('meta')]),
      value: Buffer.concat([Buffer.from([0x91, 0x91, 0x81]), pack('resource')]),
      table: Buffer.from([0x92]),
    }
    const version: Version = site === 'table' ? 'v0.5' : 'v0.4'
    return {kind: `huge ${site} 0x${token.toString(16)}`, version, body: Buffer.concat([prefix[site], header, Buffer.from(tail)]), expect: [400]}
  })

const deepNesting: fc.Arbitrary<Bad> = fc.tuple(fc.integer({min: 17, max: 20_000}), fc.constantFrom(0x91, 0x81), fc.boolean()).map(([depth, token, inField]) => {
  // a one-entry map needs a key before its value: 0x81 0xa0 (empty-string key) per level
  const level = token === 0x91 ? Buffer.from([0x91]) : Buffer.from([0x81, 0xa0])
  const nest = Buffer.concat([...Array(depth).fill(level), Buffer.from([0xc0])])
  const body = inField ? Buffer.concat([Buffer.from([0x91, 0x91, 0x81]), pack('span_links'), nest]) : nest
  return {kind: `deep ${depth}`, version: 'v0.4' as Version, body, expect: [400]}
})

/** v0.5 string tables around the (lowered) limit; spans index into them. */
const bigTable: fc.Arbitrary<Bad> = fc.tuple(fc.integer({min: 1, max: 2 * TABLE_LIMIT}), spanArb).map(([size, span]) => {
  const table = Array.from({length: size}, (_, i) => `s${i}`)
  const last = size - 1
  const s = [last, 0, last, span.trace_id, span.span_id, span.parent_id, span.start, span.duration, 0, new Map([[last, 0]]), {}, 0]
  return {kind: `table ${size}`, version: 'v0.5' as Version, body: pack([table, [[s]]]), expect: size > TABLE_LIMIT ? [400] : [200]}
})

const truncated: fc.Arbitrary<Bad> = fc.tuple(validArb, fc.nat()).map(([v, cut]) => ({kind: 'truncated', version: v.version, body: v.body.subarray(0, cut % v.body.length), expect: [400]}))

const wrongType: fc.Arbitrary<Bad> = fc.tuple(validArb, fc.constantFrom('application/json', 'text/plain', 'text/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x')).map(([v, type]) => ({
  kind: `content-type ${type}`,
  version: v.version,
  body: v.body,
  headers: {'content-type': type},
  expect: [400],
}))

const oversized: fc.Arbitrary<Bad> = fc.tuple(fc.constantFrom<Version>('v0.4', 'v0.5'), fc.integer({min: 1, max: 4 * BODY_LIMIT})).map(([version, extra]) => ({kind: 'oversized', version, body: Buffer.alloc(BODY_LIMIT + extra, 0x90), expect: [413]}))

/** Random bytes may by chance be a valid payload (0x90 is an empty one): then 200, and the decoder must agree. */
const randomBytes: fc.Arbitrary<Bad> = fc.tuple(fc.constantFrom<Version>('v0.4', 'v0.5'), fc.uint8Array({maxLength: 512})).map(([version, bytes]) => {
  const body = Buffer.from(bytes)
  const ok = body.length > 0 && decodePayload(version, body, resolveLimits({maxBodyBytes: BODY_LIMIT, maxStringTable: TABLE_LIMIT})).ok
  return {kind: 'random', version, body, expect: ok ? [200] : [400]}
})

const flipped: fc.Arbitrary<Bad> = fc.tuple(validArb, fc.array(fc.tuple(fc.nat(), fc.integer({min: 0, max: 255})), {minLength: 1, maxLength: 4})).map(([v, flips]) => {
  const body = Buffer.from(v.body)
  for (const [at, byte] of flips) body[at % body.length] = byte
  const ok = decodePayload(v.version, body, resolveLimits({maxBodyBytes: BODY_LIMIT, maxStringTable: TABLE_LIMIT})).ok
  return {kind: 'flipped', version: v.version, body, expect: ok ? [200] : [400]}
})

describe('intake under hostile input', () => {
  it('decoding never throws, and whatever is accepted decodes and normalises completely', {timeout: 60_000}, () => {
    const limits = resolveLimits({maxStringTable: TABLE_LIMIT})
    const anything = fc.oneof(randomBytes, flipped, truncated, confusedV04, confusedV05, hugeLength, deepNesting, bigTable)
    fc.assert(
      fc.property(anything, (bad) => {
        const r = decodePayload(bad.version, bad.body, limits)
        if (!r.ok) {
          assert.equal(typeof r.reason, 'string')
          return
        }
        let spans = 0
        const c = r.payload.cursor()
        for (let n = c.nextChunk(); n >= 0; n = c.nextChunk()) {
          for (let i = 0; i < n; i++) {
            JSON.parse(spanLine(c.nextSpan(), undefined, 0))
            spans++
          }
        }
        assert.equal(spans, r.payload.spans)
      }),
      {numRuns: 1500},
    )
  })

  it('answers only 400/413 to bad requests, stays up, and keeps every valid payload sent in between', {timeout: 120_000}, async () => {
    const h = await startHarness({limits: {maxBodyBytes: BODY_LIMIT, maxStringTable: TABLE_LIMIT}})
    const rss0 = process.memoryUsage().rss
    let validPayloads = 0
    let validSpans = 0
    const seen = new Map<string, number>()
    try {
      const cases = fc.oneof(randomBytes, flipped, truncated, confusedV04, confusedV05, hugeLength, deepNesting, bigTable, wrongType, oversized)
      await fc.assert(
        fc.asyncProperty(cases, validArb, async (bad, good) => {
          const r = await send(h.intake.url, {path: `/${bad.version}/traces`, body: bad.body, headers: bad.headers ?? MSGPACK})
          assert.ok(bad.expect.includes(r.status), `${bad.kind}: got ${r.status} ${r.body}`)
          seen.set(bad.kind.split(' ')[0], (seen.get(bad.kind.split(' ')[0]) ?? 0) + 1)
          if (r.status === 200) {
            const d = decodePayload(bad.version, bad.body, resolveLimits({maxStringTable: TABLE_LIMIT}))
            assert.ok(d.ok)
            validPayloads++
            validSpans += d.payload.spans
          }
          const ok = await sendTraces(h.intake.url, good.version, good.body)
          assert.equal(ok.status, 200, ok.body)
          validPayloads++
          validSpans += good.spans
        }),
        {numRuns: 400},
      )
      // still up
      assert.equal((await send(h.intake.url, {method: 'GET', path: '/info'})).status, 200)
      await h.intake.close()
      await h.store.close()
      const c = h.store.counts()
      assert.equal(c.payloads, validPayloads)
      assert.equal(c.spans_kept, validSpans)
      assert.equal(c.spans_dropped_vdiag, 0)
      assert.equal((await readIndex(h.dir)).length, validPayloads)
      assert.equal((await readSpanFile(h.dir)).length, validSpans)
      assert.ok(c.bad_payloads + c.oversized_payloads > 200, `refusals counted: ${JSON.stringify(c)}`)
      for (const kind of ['random', 'flipped', 'truncated', 'confused', 'v0.5', 'huge', 'deep', 'table', 'content-type', 'oversized']) assert.ok((seen.get(kind) ?? 0) > 0, `${kind} cases were generated`)
      // bounded: nothing above grows memory with what was sent (a generous bound: the process also holds node:test and fast-check)
      const grown = process.memoryUsage().rss - rss0
      assert.ok(grown < 300 * 1024 * 1024, `rss grew by ${Math.round(grown / 1048576)} MiB`)
    } finally {
      await h.dispose()
    }
  })
})
