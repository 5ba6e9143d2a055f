import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import {JAEGER_FILE} from '../../src/export/index.js'
import {HIGH, HOSTILE_ID, standardSpans} from './fixtures.js'
import {exportLines} from './helpers.js'

const TAG_TYPES: Record<string, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  bool: (v) => typeof v === 'boolean',
  int64: (v) => Number.isSafeInteger(v),
  float64: (v) => typeof v === 'number' && Number.isFinite(v),
}

test('jaeger export: upload JSON, one trace per iteration, integer µs, CHILD_OF references', {timeout: 30_000}, async () => {
  const {spans, splitTrace, highTrace} = standardSpans()
  const ex = await exportLines('jaeger', spans)
  try {
    assert.ok(ex.result.files[0].endsWith(JAEGER_FILE))
    const doc = JSON.parse(await readFile(ex.result.files[0], 'utf8')) as {data: any[]}
    assert.ok(Array.isArray(doc.data))
    assert.equal(doc.data.length, new Set(spans.map((s) => s.trace_id)).size, 'one trace per Datadog trace, the split one reassembled')
    const seen = new Set<string>()
    for (const trace of doc.data) {
      assert.match(trace.traceID, /^([0-9a-f]{16}|[0-9a-f]{32})$/)
      assert.ok(trace.spans.length > 0)
      const spanIds = new Set(trace.spans.map((s: any) => s.spanID))
      for (const s of trace.spans) {
        assert.equal(s.traceID, trace.traceID)
        assert.match(s.spanID, /^[0-9a-f]{16}$/)
        assert.equal('parentSpanID' in s, false, 'Jaeger JSON has no parentSpanID field')
        assert.ok(Number.isSafeInteger(s.startTime) && s.startTime > 1_600_000_000_000_000, 'startTime is integer epoch µs')
        assert.ok(Number.isSafeInteger(s.duration) && s.duration >= 0, 'duration is integer µs')
        assert.equal(typeof s.operationName, 'string')
        assert.ok(s.operationName.length > 0)
        assert.ok(Array.isArray(s.references))
        for (const r of s.references) {
          assert.equal(r.refType, 'CHILD_OF')
          assert.equal(r.traceID, trace.traceID)
          assert.match(r.spanID, /^[0-9a-f]{16}$/)
        }
        assert.ok(s.processID in trace.processes, 'processID refers to the trace\'s processes')
        for (const tag of s.tags) {
          assert.equal(typeof tag.key, 'string')
          assert.ok(TAG_TYPES[tag.type]?.(tag.value), `tag ${tag.key}: ${tag.type} ${JSON.stringify(tag.value)}`)
        }
        seen.add(s.spanID)
        // Within a complete trace every reference resolves, except the planted orphan.
        for (const r of s.references) if (trace.spans.length > 1) assert.ok(spanIds.has(r.spanID))
      }
      for (const p of Object.values(trace.processes) as any[]) {
        assert.equal(typeof p.serviceName, 'string')
        assert.ok(Array.isArray(p.tags))
      }
    }
    assert.equal(seen.size, spans.length)
    // Exact µs conversion, and roots without references.
    const all = doc.data.flatMap((t) => t.spans)
    for (const span of spans) {
      const s = all.find((x: any) => x.spanID === BigInt(span.span_id).toString(16).padStart(16, '0'))
      assert.equal(s.startTime, Number(BigInt(span.start) / 1000n))
      assert.equal(s.startTime + s.duration, Number((BigInt(span.start) + BigInt(span.duration)) / 1000n))
      if (span.parent_id === '0') assert.deepEqual(s.references, [])
    }
    const hex = (d: string): string => BigInt(d).toString(16).padStart(16, '0')
    for (const t of [splitTrace, highTrace]) assert.ok(doc.data.some((x) => x.traceID === HIGH + hex(t)), '32-hex trace id for a 128-bit trace')
    assert.ok(doc.data.some((x) => x.traceID === hex(spans[0].trace_id)), '16-hex trace id otherwise')
    const services = new Set(doc.data.flatMap((t) => Object.values(t.processes).map((p: any) => p.serviceName)))
    for (const c of ['in_file', 'parse', 'out_http', HOSTILE_ID]) assert.ok(services.has(c))
    const failed = all.filter((s: any) => s.tags.some((t: any) => t.key === 'error' && t.value === true))
    assert.equal(failed.length, spans.filter((s) => s.error > 0).length)
    const cpu = all.find((s: any) => s.tags.some((t: any) => t.key === 'cpu_ns'))
    assert.ok(cpu, 'metrics become numeric tags')
  } finally {
    await ex.cleanup()
  }
})

test('jaeger export: an empty span file gives an empty upload', {timeout: 30_000}, async () => {
  const ex = await exportLines('jaeger', [])
  try {
    assert.deepEqual(JSON.parse(await readFile(ex.result.files[0], 'utf8')), {data: []})
  } finally {
    await ex.cleanup()
  }
})
