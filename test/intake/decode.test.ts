import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {FLOAT32_OPTIONS, Packr} from 'msgpackr'
import {decodePayload, type DecodedPayload, type WireSpan} from '../../src/intake/decode.js'
import {DEFAULT_LIMITS, resolveLimits, type IntakeLimits} from '../../src/intake/limits.js'
import {spanLine, toSpanRecord, uint64String, int64String} from '../../src/intake/normalise.js'
import {TraceIdSet} from '../../src/intake/trace-count.js'
import {pack, testSpan, v04, v05, expectedRecord} from './helpers.js'

const limits = resolveLimits()

function accepted(version: 'v0.4' | 'v0.5', body: Buffer, l: IntakeLimits = limits): DecodedPayload {
  const r = decodePayload(version, body, l)
  if (!r.ok) assert.fail(`refused: ${r.reason}`)
  return r.payload
}

function refused(version: 'v0.4' | 'v0.5', body: Buffer, pattern: RegExp, l: IntakeLimits = limits): void {
  const r = decodePayload(version, body, l)
  assert.equal(r.ok, false, 'payload should be refused')
  if (!r.ok) assert.match(r.reason, pattern)
}

function allSpans(p: DecodedPayload): WireSpan[][] {
  const out: WireSpan[][] = []
  const c = p.cursor()
  for (let n = c.nextChunk(); n >= 0; n = c.nextChunk()) {
    const chunk: WireSpan[] = []
    for (let i = 0; i < n; i++) chunk.push(c.nextSpan())
    out.push(chunk)
  }
  return out
}

/** A v0.4 payload of one chunk holding one span map given as raw msgpack entries. */
function v04Raw(...entries: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from([0x91, 0x91, 0x80 | entries.length]), ...entries])
}

const kv = (key: string, value: unknown): Buffer => Buffer.concat([pack(key), pack(value)])

describe('decodePayload v0.4', () => {
  it('decodes dd-trace-shaped spans with exact 64-bit ids', () => {
    const a = testSpan({trace_id: 0xffff_ffff_ffff_fffen, span_id: 0x8000_0000_0000_0001n, parent_id: 42n, type: 'web'})
    const b = testSpan({trace_id: a.trace_id, parent_id: a.span_id, meta: {'error.message': 'x'}, error: 1})
    const p = accepted('v0.4', v04([[a, b], []]))
    assert.equal(p.traces, 2)
    assert.equal(p.spans, 2)
    const [[x, y], empty] = allSpans(p)
    assert.equal(empty.length, 0)
    assert.deepEqual(toSpanRecord(x, undefined, 7), expectedRecord(a, 7))
    assert.deepEqual(toSpanRecord(y, undefined, 7), expectedRecord(b, 7))
    assert.equal(toSpanRecord(x, undefined, 7).trace_id, '18446744073709551614')
  })

  it('is as tolerant as the Agent: any int width, nil, bin strings, missing fields', () => {
    const body = v04Raw(
      kv('trace_id', 5), // fixint
      kv('span_id', -1n), // int64: the same bits unsigned
      kv('parent_id', null),
      kv('service', Buffer.from('bin-svc')),
      kv('name', null),
      kv('start', 0xffff_ffff_ffff_ffffn), // uint64 above 2^63: int64 -1
      kv('duration', 70000),
      kv('error', 3),
      kv('meta', {k: Buffer.from('vé'), n: null}),
      kv('metrics', {big: 0x1_0000_0000_0000n, nil: null, nan: NaN, f: 1.5, neg: -7}),
      kv('span_links', [{trace_id: 1n, span_id: 2n, attributes: {a: 'b'}}]),
    )
    const [[s]] = allSpans(accepted('v0.4', body))
    const r = toSpanRecord(s, undefined, 0)
    assert.equal(r.trace_id, '5')
    assert.equal(r.span_id, '18446744073709551615')
    assert.equal(r.parent_id, '0')
    assert.equal(r.service, 'bin-svc')
    assert.equal(r.name, '')
    assert.equal(r.resource, '')
    assert.equal(r.type, undefined)
    assert.equal(r.start, '-1')
    assert.equal(r.duration, '70000')
    assert.equal(r.error, 1)
    assert.deepEqual(r.meta, {k: 'vé', n: ''})
    // non-finite metrics cannot be JSON numbers: left out of the record (the raw body keeps them)
    assert.deepEqual(r.metrics, {big: 2 ** 48, nil: 0, f: 1.5, neg: -7})
  })

  it('reads float32 metrics and a nil meta map', () => {
    const p32 = new Packr({useRecords: false, useFloat32: FLOAT32_OPTIONS.ALWAYS})
    const body = Buffer.concat([Buffer.from([0x91, 0x91, 0x83]), pack('metrics'), p32.pack({x: 0.5}), kv('meta', null), kv('trace_id', 9)])
    const [[s]] = allSpans(accepted('v0.4', body))
    assert.deepEqual(s.metrics, {x: 0.5})
    assert.deepEqual(s.meta, {})
  })

  it('refuses structural errors with a reason', () => {
    refused('v0.4', Buffer.alloc(0), /empty body/)
    refused('v0.4', pack({a: 1}), /payload must be an array, got map/)
    refused('v0.4', pack([[1]]), /span must be a map, got int/)
    refused('v0.4', pack([['x']]), /span must be a map/)
    refused('v0.4', pack([{}]), /trace chunk must be an array/)
    refused('v0.4', v04Raw(kv('service', ['a'])), /service must be a string, got array/)
    refused('v0.4', v04Raw(kv('trace_id', 'abc')), /trace_id must be an integer, got str/)
    refused('v0.4', v04Raw(kv('duration', 1.5)), /duration must be an integer, got float/)
    refused('v0.4', v04Raw(kv('meta', ['a'])), /meta must be a map, got array/)
    refused('v0.4', v04Raw(kv('meta', {a: 1})), /meta value must be a string, got int/)
    refused('v0.4', v04Raw(kv('metrics', {a: 'x'})), /metrics value must be a number, got str/)
    refused('v0.4', v04Raw(kv('metrics', {a: true})), /metrics value must be a number, got bool/)
    refused('v0.4', Buffer.concat([Buffer.from([0x91, 0x91, 0x81]), pack(Buffer.from('service')), pack('x')]), /span field name must be a string, got bin/)
    refused('v0.4', Buffer.concat([pack([[]]), Buffer.from([0x00])]), /unexpected bytes after the payload/)
    // ext types (msgpackr would build Dates, Sets, Errors, records from them)
    refused('v0.4', v04Raw(Buffer.concat([pack('span_links'), Buffer.from([0xd4, 0x01, 0x00])])), /unsupported ext value/)
    refused('v0.4', v04Raw(Buffer.concat([pack('x'), Buffer.from([0xc1])])), /unsupported reserved byte 0xc1/)
    refused('v0.4', v04Raw(kv('span_links', {[1]: 2, k: {}}), Buffer.concat([pack('y'), Buffer.from([0x81, 0xc4, 0x01, 0x41, 0x00])])), /map key of type bin/)
  })

  it('refuses declared lengths beyond the body before allocating', () => {
    refused('v0.4', Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), /declares 4294967295 elements but only 0 bytes follow/)
    refused('v0.4', Buffer.from([0x91, 0xdc, 0xff, 0xff, 0x80]), /declares 65535 elements/)
    refused('v0.4', Buffer.from([0x91, 0x91, 0xdf, 0x7f, 0xff, 0xff, 0xff]), /span declares 2147483647 entries/)
    refused('v0.4', Buffer.concat([Buffer.from([0x91, 0x91, 0x81]), pack('service'), Buffer.from([0xdb, 0x00, 0x10, 0x00, 0x00, 0x41])]), /declares 1048576 bytes but only 1 follow/)
    refused('v0.4', Buffer.concat([Buffer.from([0x91, 0x91, 0x81]), pack('service'), Buffer.from([0xdb, 0x7f, 0xff, 0xff, 0xff])]), /over the 1048576-byte limit/)
    // every truncation of a valid payload is refused
    const body = v04([[testSpan(), testSpan()]])
    for (let n = 1; n < body.length; n++) refused('v0.4', body.subarray(0, n), /cut short|declares|bytes follow/)
  })

  it('refuses nesting deeper than the limit', () => {
    const deep = Buffer.concat([Buffer.alloc(100, 0x91), Buffer.from([0x90])])
    refused('v0.4', v04Raw(Buffer.concat([pack('span_links'), deep])), /nests deeper than 16 levels/)
    // within the limit is fine
    const ok = Buffer.concat([Buffer.alloc(DEFAULT_LIMITS.maxDepth - 4, 0x91), Buffer.from([0x90])])
    accepted('v0.4', v04Raw(Buffer.concat([pack('span_links'), ok])))
  })

  it('enforces per-span and per-payload limits', () => {
    const small = resolveLimits({maxSpanBytes: 200, maxValuesPerSpan: 50, maxSpansPerPayload: 3, maxStringBytes: 64})
    refused('v0.4', v04([[testSpan({resource: 'r'.repeat(60), meta: {a: 'b'.repeat(60), c: 'd'.repeat(60)}})]]), /span is \d+ bytes, over the 200-byte limit/, small)
    const many: Record<string, string> = {}
    for (let i = 0; i < 30; i++) many[`k${i}`] = 'v'
    refused('v0.4', v04([[testSpan({meta: many})]]), /more than 50 values/, small)
    refused('v0.4', v04([[testSpan(), testSpan()], [testSpan(), testSpan()]]), /more than 3 spans/, small)
    refused('v0.4', v04([[testSpan({resource: 'x'.repeat(65)})]]), /65 bytes long, over the 64-byte limit/, small)
    accepted('v0.4', v04([[testSpan()], [testSpan(), testSpan()]]), small)
  })
})

describe('decodePayload v0.5', () => {
  it('decodes spans through the string table, same records as v0.4', () => {
    const a = testSpan({type: 'worker', meta: {'_dd.p.tid': '6b071e9a00000000', x: 'y'}, metrics: {m: 1.25, n: 3}})
    const b = testSpan({trace_id: a.trace_id, parent_id: a.span_id, duration: 2 ** 33})
    const p5 = accepted('v0.5', v05([[a, b]]))
    const p4 = accepted('v0.4', v04([[a, b]]))
    const s5 = allSpans(p5)[0].map((s) => toSpanRecord(s, undefined, 1))
    const s4 = allSpans(p4)[0].map((s) => toSpanRecord(s, undefined, 1))
    assert.deepEqual(s5, s4)
    assert.deepEqual(s5, [expectedRecord(a, 1), expectedRecord(b, 1)])
  })

  it('takes indexes of any width and nil, and bin or nil table entries', () => {
    const table: unknown[] = Array.from({length: 300}, (_, i) => `f${i}`)
    table[0] = ''
    table[1] = Buffer.from('svc')
    table[2] = null
    table[3] = 'k'
    table[4] = 'v'
    table[5] = 'k2'
    table[255] = 'name255'
    table[256] = 'res256'
    // 255n is packed as int64, 256 as uint16, null as nil (index 0)
    const span = [1, 255n, 256, 10n, 11n, 0n, 5, 6, 0, new Map([[3, 4], [5, 2]]), null, null]
    const [[s]] = allSpans(accepted('v0.5', pack([table, [[span]]])))
    assert.equal(s.service, 'svc')
    assert.equal(s.name, 'name255')
    assert.equal(s.resource, 'res256')
    assert.equal(s.type, '')
    assert.deepEqual(s.meta, {k: 'v', k2: ''})
    assert.deepEqual(s.metrics, {})
  })

  it('refuses structural errors with a reason', () => {
    refused('v0.5', pack([['']]), /exactly 2 elements.*got 1/)
    refused('v0.5', pack([[''], [], []]), /exactly 2 elements.*got 3/)
    refused('v0.5', pack(['', []]), /string table must be an array, got str/)
    refused('v0.5', pack([['', 1], []]), /string table entry must be a string, got int/)
    const span = [0, 0, 0, 1n, 1n, 0n, 1, 1, 0, {}, {}, 0]
    refused('v0.5', pack([[''], [[span.slice(0, 11)]]]), /array of 12 elements, got 11/)
    refused('v0.5', pack([[''], [[[...span, 0]]]]), /array of 12 elements, got 13/)
    refused('v0.5', pack([[''], [[[0, 5, ...span.slice(2)]]]]), /name index 5 is out of range for a string table of 1/)
    refused('v0.5', pack([[''], [[[0, 0, -1, ...span.slice(3)]]]]), /resource index is negative/)
    refused('v0.5', pack([[''], [[[0, 0, 'x', ...span.slice(3)]]]]), /resource index must be a string-table index, got str/)
    refused('v0.5', pack([[''], [[[...span.slice(0, 9), new Map([[0, 7]]), {}, 0]]]]), /meta value index 7 is out of range/)
    refused('v0.5', pack([[''], [[[...span.slice(0, 10), new Map([[0, 'x']]), 0]]]]), /metrics value must be a number, got str/)
    refused('v0.5', pack([[], [[span]]]), /service index 0 is out of range for a string table of 0/)
  })

  it('bounds the string table and what spans expand to', () => {
    refused('v0.5', Buffer.from([0x92, 0xdd, 0x7f, 0xff, 0xff, 0xff, 0x90]), /declares 2147483647 elements/)
    const table = Array.from({length: 20}, (_, i) => `s${i}`)
    refused('v0.5', pack([table, []]), /string table has 20 entries, over the 10 limit/, resolveLimits({maxStringTable: 10}))
    // one long string referenced by many meta entries: small body, large expansion
    const long = 'x'.repeat(1000)
    const meta = new Map<number, number>()
    for (let k = 2; k < 52; k++) meta.set(k, 1)
    const keys = Array.from({length: 50}, (_, i) => `k${i}`)
    const span = [0, 0, 0, 1n, 1n, 0n, 1, 1, 0, meta, {}, 0]
    const body = pack([['', long, ...keys], [[span]]])
    assert.ok(body.length < 2000)
    refused('v0.5', body, /stands for \d+ bytes of strings, over the 20000-byte limit/, resolveLimits({maxSpanBytes: 20_000}))
    refused('v0.5', pack([['', long, ...keys], [[span, span, span]]]), /more than 100000 bytes of strings/, resolveLimits({maxExpandedBytes: 100_000}))
    accepted('v0.5', body)
  })
})

describe('normalise', () => {
  it('spanLine is JSON.stringify(toSpanRecord) line by line', () => {
    const spans: WireSpan[] = [
      {service: 's"\n', name: 'n', resource: '\u2028', type: '', trace_id: 1n, span_id: 2, parent_id: null, start: -5n, duration: 7, error: 0n, meta: {'a"b': 'c\\d', __proto_: 'x'}, metrics: {m: 1e-7, n: -0}},
      {service: '', name: '', resource: '', type: 'web', trace_id: -2, span_id: 0xffff_ffff_ffff_ffffn, parent_id: 3, start: 0xffff_ffff_ffff_ffffn, duration: null, error: 1, meta: {}, metrics: {}},
    ]
    for (const s of spans) {
      for (const tid of [undefined, '00000000000000ab']) assert.equal(spanLine(s, tid, 12), JSON.stringify(toSpanRecord(s, tid, 12)) + '\n')
    }
    assert.equal(uint64String(-2), '18446744073709551614')
    assert.equal(int64String(0xffff_ffff_ffff_fffen), '-2')
    assert.equal(int64String(2n ** 62n), '4611686018427387904')
  })
})

describe('TraceIdSet', () => {
  it('counts distinct 64-bit ids whatever their JS type', () => {
    const set = new TraceIdSet()
    assert.equal(set.add(5n), true)
    assert.equal(set.add(5), false)
    assert.equal(set.add(null), true)
    assert.equal(set.add(0), false)
    assert.equal(set.add(-1), true)
    assert.equal(set.add(0xffff_ffff_ffff_ffffn), false)
    // past several growths, with ids differing only in the upper or lower word
    for (let i = 1n; i <= 5000n; i++) {
      set.add(i << 32n)
      set.add(i + 0x1_0000_0000n * 7n)
    }
    for (let i = 1n; i <= 5000n; i++) assert.equal(set.add(i << 32n), false)
    assert.equal(set.size, 3 + 10_000)
  })
})
