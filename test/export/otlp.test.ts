import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import {createRequire} from 'node:module'
import {JsonTraceSerializer} from '@opentelemetry/otlp-transformer'
import {OTLP_FILE} from '../../src/export/index.js'
import {OTLP_SPANS_PER_REQUEST} from '../../src/export/otlp.js'
import {HIGH, SpanFactory, standardSpans} from './fixtures.js'
import {exportLines} from './helpers.js'

const require = createRequire(import.meta.url)
// The protobufjs static module OpenTelemetry JS itself encodes OTLP with.
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js')
const ExportTraceServiceRequest = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest

const hex = (dec: string): string => BigInt(dec).toString(16).padStart(16, '0')

async function readLines(file: string): Promise<any[]> {
  const text = await readFile(file, 'utf8')
  assert.ok(text.endsWith('\n'))
  return text.trimEnd().split('\n').map((l) => JSON.parse(l))
}

/** OTLP JSON writes ids as hex where proto3 JSON would use base64: convert for protobufjs. */
function hexIdsToBytes(request: any): any {
  const copy = structuredClone(request)
  for (const rs of copy.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans) {
        for (const k of ['traceId', 'spanId', 'parentSpanId']) if (s[k] !== undefined) s[k] = Buffer.from(s[k], 'hex')
      }
    }
  }
  return copy
}

test('otlp export: hex ids, 128-bit mapping, ns strings, attributes, status', {timeout: 30_000}, async () => {
  const {spans, splitTrace, highTrace} = standardSpans()
  const ex = await exportLines('otlp', spans)
  try {
    assert.ok(ex.result.files[0].endsWith(OTLP_FILE))
    const requests = await readLines(ex.result.files[0])
    const out = requests.flatMap((r) => r.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans.map((s: any) => ({s, rs})))))
    assert.equal(out.length, spans.length)
    const byId = new Map(out.map((o) => [o.s.spanId as string, o]))
    for (const span of spans) {
      const o = byId.get(hex(span.span_id))
      assert.ok(o, `span ${span.span_id}`)
      const s = o.s
      assert.match(s.traceId, /^[0-9a-f]{32}$/)
      assert.match(s.spanId, /^[0-9a-f]{16}$/)
      assert.equal(s.traceId.slice(16), hex(span.trace_id))
      if (span.parent_id === '0') assert.equal('parentSpanId' in s, false, 'roots have no parentSpanId')
      else assert.equal(s.parentSpanId, hex(span.parent_id))
      assert.equal(typeof s.startTimeUnixNano, 'string')
      assert.equal(s.startTimeUnixNano, span.start)
      assert.equal(s.endTimeUnixNano, (BigInt(span.start) + BigInt(span.duration)).toString())
      assert.ok(Number.isInteger(s.kind))
      assert.equal(s.name, span.name)
      const attrs = new Map(s.attributes.map((a: any) => [a.key, a.value]))
      assert.deepEqual(attrs.get('resource.name'), {stringValue: span.resource})
      assert.deepEqual(attrs.get('datadog.span.id'), {stringValue: span.span_id})
      for (const [k, v] of Object.entries(span.meta)) assert.deepEqual(attrs.get(k), {stringValue: v})
      for (const [k, v] of Object.entries(span.metrics)) assert.deepEqual(attrs.get(k), {doubleValue: v})
      if (span.error > 0) assert.deepEqual(s.status, {code: 2, message: span.meta['error.message']})
      else assert.equal(s.status, undefined)
      const resAttrs = new Map(o.rs.resource.attributes.map((a: any) => [a.key, a.value.stringValue]))
      assert.equal(resAttrs.get('service.name'), span.service)
    }
    // The high half reaches every span of the 128-bit traces, also the chunk without _dd.p.tid.
    for (const trace of [splitTrace, highTrace]) {
      const ofTrace = out.filter((o) => o.s.traceId.endsWith(hex(trace)))
      assert.ok(ofTrace.length >= 2)
      for (const o of ofTrace) assert.equal(o.s.traceId, HIGH + hex(trace))
    }
    const splitRoot = spans.find((s) => s.trace_id === splitTrace && s.parent_id === '0')!
    assert.equal(splitRoot.trace_id_high, undefined, 'the fixture root chunk carries no high half itself')
    // Other traces have a zero high half.
    const plain = out.find((o) => o.s.traceId.endsWith(hex(spans[0].trace_id)))!
    assert.equal(plain.s.traceId.slice(0, 16), '0000000000000000')
  } finally {
    await ex.cleanup()
  }
})

test('otlp export: decodes with the OpenTelemetry JS protobuf definitions, losslessly', {timeout: 30_000}, async () => {
  const {spans} = standardSpans()
  const ex = await exportLines('otlp', spans)
  try {
    const requests = await readLines(ex.result.files[0])
    let decodedSpans = 0
    for (const request of requests) {
      const message = ExportTraceServiceRequest.fromObject(hexIdsToBytes(request))
      assert.equal(ExportTraceServiceRequest.verify(message), null)
      const bytes = ExportTraceServiceRequest.encode(message).finish()
      const decoded = ExportTraceServiceRequest.decode(bytes)
      assert.equal(ExportTraceServiceRequest.verify(decoded), null)
      const back = ExportTraceServiceRequest.toObject(decoded, {longs: String, enums: Number, bytes: Array})
      request.resourceSpans.forEach((rs: any, i: number) => {
        const brs = back.resourceSpans[i]
        assert.deepEqual(brs.resource.attributes, rs.resource.attributes)
        assert.deepEqual(brs.scopeSpans[0].scope, rs.scopeSpans[0].scope)
        rs.scopeSpans[0].spans.forEach((s: any, j: number) => {
          const b = brs.scopeSpans[0].spans[j]
          // Every field we wrote is a field of the proto: nothing silently dropped.
          for (const key of Object.keys(s)) assert.ok(key in b, `field ${key} survives the proto round trip`)
          assert.equal(Buffer.from(b.traceId).toString('hex'), s.traceId)
          assert.equal(Buffer.from(b.spanId).toString('hex'), s.spanId)
          if (s.parentSpanId) assert.equal(Buffer.from(b.parentSpanId).toString('hex'), s.parentSpanId)
          assert.equal(b.startTimeUnixNano, s.startTimeUnixNano)
          assert.equal(b.endTimeUnixNano, s.endTimeUnixNano)
          assert.equal(b.kind, s.kind)
          assert.equal(b.name, s.name)
          assert.deepEqual(b.attributes, s.attributes)
          if (s.status) assert.deepEqual(b.status, s.status)
          decodedSpans++
        })
      })
    }
    assert.equal(decodedSpans, spans.length)
  } finally {
    await ex.cleanup()
  }
})

test('otlp export: same field names and value types as OpenTelemetry JS JsonTraceSerializer', {timeout: 30_000}, async () => {
  const {spans} = standardSpans()
  const ex = await exportLines('otlp', spans)
  try {
    const [request] = await readLines(ex.result.files[0])
    const ours = request.resourceSpans[0].scopeSpans[0].spans.find((s: any) => s.parentSpanId && s.status)
      ?? request.resourceSpans[0].scopeSpans[0].spans.find((s: any) => s.parentSpanId)
    const readable = {
      name: 'send',
      kind: 0,
      spanContext: () => ({traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1}),
      parentSpanContext: {traceId: 'a'.repeat(32), spanId: 'c'.repeat(16), traceFlags: 1},
      startTime: [1_740_830_400, 123_456_789],
      endTime: [1_740_830_401, 5],
      duration: [1, 0],
      status: {code: 2, message: 'boom'},
      attributes: {stage: 'send', cpu_ns: 1.5},
      links: [],
      events: [],
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
      ended: true,
      resource: {attributes: {'service.name': 'vector'}},
      instrumentationScope: {name: 'vdiag'},
    }
    const theirs = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest([readable as any])))
    const ref = theirs.resourceSpans[0].scopeSpans[0].spans[0]
    assert.equal(ref.startTimeUnixNano, '1740830400123456789', 'the reference writes ns as decimal strings too')
    for (const key of Object.keys(ours)) {
      assert.ok(key in ref, `OpenTelemetry JS also writes ${key}`)
      if (key !== 'status') assert.equal(typeof ours[key], typeof ref[key], `${key} has the reference's JSON type`)
    }
    assert.match(ref.traceId, /^[0-9a-f]{32}$/, 'the reference writes hex ids')
    const refStage = ref.attributes.find((a: any) => a.key === 'stage')
    assert.deepEqual(Object.keys(refStage.value), ['stringValue'])
    const refCpu = ref.attributes.find((a: any) => a.key === 'cpu_ns')
    assert.deepEqual(Object.keys(refCpu.value), ['doubleValue'])
    assert.deepEqual(Object.keys(ref.status).sort(), ['code', 'message'])
  } finally {
    await ex.cleanup()
  }
})

test('otlp export: lines are bounded requests grouped per service', {timeout: 60_000}, async () => {
  const f = new SpanFactory()
  const perIteration = 4
  const iterations = Math.ceil((OTLP_SPANS_PER_REQUEST * 2.5) / perIteration)
  for (let i = 0; i < iterations; i++) {
    f.iteration({component: `c${i % 3}`, kind: 'transform', type: 'remap', at: i * 1_000_000, payload: i, stages: [['wait', 1000], ['process', 1000], ['send', 1000]]})
  }
  f.spans.forEach((s, i) => {
    s.service = i % 2 === 0 ? 'vector' : 'other'
  })
  const ex = await exportLines('otlp', f.spans)
  try {
    const requests = await readLines(ex.result.files[0])
    assert.equal(requests.length, Math.ceil(f.spans.length / OTLP_SPANS_PER_REQUEST))
    let total = 0
    for (const r of requests) {
      const services = r.resourceSpans.map((rs: any) => rs.resource.attributes.find((a: any) => a.key === 'service.name').value.stringValue)
      assert.deepEqual([...new Set(services)].length, services.length, 'one ResourceSpans per service per line')
      const n = r.resourceSpans.reduce((sum: number, rs: any) => sum + rs.scopeSpans[0].spans.length, 0)
      assert.ok(n <= OTLP_SPANS_PER_REQUEST)
      total += n
    }
    assert.equal(total, f.spans.length)
  } finally {
    await ex.cleanup()
  }
})
