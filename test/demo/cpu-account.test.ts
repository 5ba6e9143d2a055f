/**
 * `cpu_ns` of the demo's spans (src/demo/tracing/cpu-account.ts) on a fake
 * span backend: synchronous spans are measured whole, spans that await get
 * only the synchronous slices of their own work (or nothing), and no span
 * reports more CPU than its duration. Only structure is asserted, no timings.
 */
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {setImmediate as yieldToLoop, setTimeout as sleep} from 'node:timers/promises'
import {describe, it} from 'node:test'
import {SPAN} from '../../src/protocol/tracing-control.js'
import type {BackendSpan, FlushResult, SpanBackend, SpanTags} from '../../src/demo/tracing/span-backend.js'
import {TracedIteration, type IterationOwner} from '../../src/demo/tracing/traced-iteration.js'

interface FakeSpan {
  name: string
  parent: FakeSpan | null
  tags: Record<string, string | number>
  start: number
  end: number | null
}

class FakeBackend implements SpanBackend {
  readonly spans: FakeSpan[] = []
  onRejected: ((spans: number) => void) | null = null
  readonly exactAccounting = true
  setEndpoint(): void {}
  startSpan(name: string, parent: BackendSpan | null, tags: SpanTags): BackendSpan {
    const span: FakeSpan = {name, parent: parent === null ? null : (parent as unknown as {fake: FakeSpan}).fake, tags: {...tags}, start: performance.now(), end: null}
    this.spans.push(span)
    return {
      fake: span,
      setTag: (key: string, value: string | number) => (span.tags[key] = value),
      finish: () => {
        span.end = performance.now()
      },
    } as BackendSpan & {fake: FakeSpan}
  }
  bufferedSpans(): number {
    return 0
  }
  pendingSpans(): number {
    return 0
  }
  flush(): Promise<FlushResult> {
    return Promise.resolve({spans: 0, delivered: true})
  }
}

function owner(debug: boolean): IterationOwner {
  return {accepting: true, debug, spanStarted: () => undefined, spanDropped: () => undefined, iterationClosed: () => undefined}
}

/** Real CPU work, long enough to register on the process CPU clock (µs resolution). */
function burn(rounds: number): string {
  let digest = 'seed'
  for (let i = 0; i < rounds; i++) digest = createHash('sha256').update(digest).digest('hex')
  return digest
}

function cpuOf(span: FakeSpan): number | undefined {
  const v = span.tags[SPAN.metrics.cpuNs]
  return v === undefined ? undefined : Number(v)
}

function byName(backend: FakeBackend, name: string): FakeSpan {
  const span = backend.spans.find((s) => s.name === name)
  assert.ok(span, `span ${name}`)
  return span
}

function assertNeverAboveDuration(backend: FakeBackend): void {
  for (const s of backend.spans) {
    assert.ok(s.end !== null, `${s.name} finished`)
    const cpu = cpuOf(s)
    if (cpu === undefined) continue
    assert.ok(Number.isInteger(cpu) && cpu >= 0, `${s.name}: cpu_ns ${cpu}`)
    // The fake's clock brackets the span from outside, so its duration is at least what the span measured.
    assert.ok(cpu <= (s.end - s.start) * 1e6, `${s.name}: cpu_ns ${cpu} > duration ${(s.end - s.start) * 1e6}`)
  }
}

describe('cpu_ns of demo spans', {timeout: 30_000}, () => {
  it('a stage that finishes without awaiting is measured whole; a stage that only waits has no cpu_ns', async () => {
    const backend = new FakeBackend()
    const iter = new TracedIteration(owner(false), {id: 'k', kind: 'sink', type: 'http'}, backend)
    iter.stage('encode')
    burn(2000)
    iter.stage('send') // encode ends synchronously, right here
    await sleep(20)
    iter.end()

    const encode = cpuOf(byName(backend, 'encode'))
    assert.ok(encode !== undefined && encode > 0, `encode cpu_ns ${encode}`)
    assert.equal(cpuOf(byName(backend, 'send')), undefined, 'a stage that awaited with no measured slice has no cpu_ns')
    // The iteration carries what its stages measured: encode's CPU, not the 20 ms of waiting.
    const root = cpuOf(byName(backend, SPAN.iteration))
    assert.equal(root, encode)
    assertNeverAboveDuration(backend)
  })

  it('a stage that awaits counts only the slices its component measured, not what ran meanwhile', async () => {
    const backend = new FakeBackend()
    const iter = new TracedIteration(owner(false), {id: 't', kind: 'transform', type: 'remap'}, backend)
    iter.stage('process')
    let slices = 0
    for (let i = 0; i < 3; i++) {
      iter.onCpu(() => burn(300))
      slices++
      await yieldToLoop()
      // Someone else's CPU while this stage waits: must not be counted.
      burn(3000)
    }
    iter.end()
    assert.equal(slices, 3)
    const process = byName(backend, 'process')
    const cpu = cpuOf(process)
    assert.ok(cpu !== undefined && cpu > 0)
    // The other work is ten times the slices: counting it would put cpu_ns far above the slices' share.
    const wallNs = ((process.end as number) - process.start) * 1e6
    assert.ok(cpu < wallNs / 2, `cpu_ns ${cpu} of a ${wallNs} ns stage mostly spent in other work`)
    assertNeverAboveDuration(backend)
  })

  it('sub-stages: a synchronous one is measured whole and counted once in its stage, nested slices included', async () => {
    const backend = new FakeBackend()
    const iter = new TracedIteration(owner(true), {id: 't', kind: 'transform', type: 'remap'}, backend)
    iter.stage('process')
    const parse = iter.sub('parse')
    assert.ok(parse)
    iter.onCpu(() => burn(1000)) // a slice inside a synchronous sub-stage
    parse.end(10)
    await yieldToLoop()
    const enrich = iter.sub('enrich')
    assert.ok(enrich)
    const before = process.cpuUsage()
    iter.onCpu(() => iter.onCpu(() => burn(1000))) // nested: counted once
    const after = process.cpuUsage(before)
    const outside = (after.user + after.system) * 1000
    await yieldToLoop()
    enrich.end(10)
    iter.stage('send')
    await sleep(5)
    iter.end()

    const p = cpuOf(byName(backend, 'parse')) as number
    const e = cpuOf(byName(backend, 'enrich')) as number
    const stage = cpuOf(byName(backend, 'process')) as number
    assert.ok(p > 0 && e > 0, `parse ${p}, enrich ${e}`)
    // Counted twice, the nested slice would be about twice what the process clock saw around it.
    assert.ok(e <= outside, `enrich ${e} ns > ${outside} ns measured around the slice`)
    // process awaited, so it is the sum of what was measured inside it: exactly its sub-stages here.
    assert.equal(stage, p + e)
    assert.equal(cpuOf(byName(backend, 'send')), undefined)
    assert.equal(cpuOf(byName(backend, SPAN.iteration)), stage)
    assertNeverAboveDuration(backend)
  })

  it('span detail becomes meta on stage and sub-stage spans, without overriding the protocol keys', () => {
    const backend = new FakeBackend()
    const iter = new TracedIteration(owner(true), {id: 'k', kind: 'sink', type: 'http'}, backend)
    iter.stage('send', {'http.url': 'http://u:p@127.0.0.1:1/ingest', component_id: 'spoofed'})
    iter.sub('request', {'file.path': '/x'})?.end(1, 2, {files: 3})
    iter.end()
    const send = byName(backend, 'send')
    assert.equal(send.tags['http.url'], 'http://u:p@127.0.0.1:1/ingest')
    assert.equal(send.tags[SPAN.meta.componentId], 'k')
    const request = byName(backend, 'request')
    assert.equal(request.tags['file.path'], '/x')
    assert.equal(request.tags.files, 3)
    assert.equal(request.tags[SPAN.meta.substage], 'request')
  })
})
