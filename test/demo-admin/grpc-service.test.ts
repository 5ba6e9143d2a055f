import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import type * as grpc from '@grpc/grpc-js'
import {loadObservability} from '../../src/protocol/observability.js'
import {addObservabilityService, type ObservabilityStreams} from '../../src/demo/admin/grpc-service.js'
import {
  collectStream,
  demoShape,
  fakePipeline,
  unaryCall,
  waitFor,
  type FakePipeline,
  type Msg,
  type ObservabilityClient,
} from './helpers.js'

const STEP = 100 // every components() call adds STEP to each counter: value = index + STEP × call

describe('demo gRPC ObservabilityService (real grpc-js server and client)', () => {
  let g: typeof grpc
  let server: grpc.Server
  let client: ObservabilityClient
  let streams: ObservabilityStreams
  let pipeline: FakePipeline

  before(async () => {
    const loaded = await loadObservability()
    g = loaded.grpc
    // Counter i of component n starts at n and grows by STEP per reading, so a value names its tick.
    pipeline = fakePipeline(
      demoShape().map((c, n) => ({
        ...c,
        counters: {received_events: n, sent_events: n, received_bytes: n, sent_bytes: n, errors: n},
      })),
      {advance: () => ({received_events: STEP, sent_events: STEP, received_bytes: STEP, sent_bytes: STEP, errors: STEP})},
    )
    server = new g.Server()
    streams = await addObservabilityService(server, pipeline)
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', g.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    )
    client = new loaded.Service(`127.0.0.1:${port}`, g.credentials.createInsecure()) as unknown as ObservabilityClient
  })

  after(() => {
    client?.close()
    server?.forceShutdown()
  })

  const unary = (method: string, request: Msg) => unaryCall(client, method, request)
  const collect = (method: string, request: Msg, enough: (msgs: Msg[]) => boolean) => collectStream(client, method, request, enough)

  const streamError = (method: string, request: Msg): Promise<grpc.ServiceError> =>
    collect(method, request, () => false).then(
      () => assert.fail('expected an error'),
      (err: grpc.ServiceError) => err,
    )

  it('GetMeta answers version string and hostname', {timeout: 20_000}, async () => {
    assert.deepEqual(await unary('GetMeta', {}), {
      version: '0.55.0 (vdiag-demo x86_64-unknown-linux-gnu)',
      hostname: 'fake-host',
    })
  })

  it('GetComponents: sorted by id, kind as ComponentType, plugin in on_type, _default output, int64 strings', {timeout: 20_000}, async () => {
    const {components} = await unary('GetComponents', {limit: 0})
    assert.deepEqual(
      components.map((c: Msg) => [c.component_id, c.component_type, c.on_type]),
      [
        ['in_files', 'COMPONENT_TYPE_SOURCE', 'file'],
        ['out_http', 'COMPONENT_TYPE_SINK', 'http'],
        ['parse', 'COMPONENT_TYPE_TRANSFORM', 'remap'],
      ],
    )
    const [source, sink, transform] = components as Msg[]
    assert.deepEqual(sink!.outputs, [])
    assert.equal(source!.outputs.length, 1)
    assert.equal(source!.outputs[0].output_id, '_default')
    assert.equal(source!.outputs[0].sent_events_total, source!.metrics.sent_events_total)
    for (const c of [source, sink, transform]) {
      for (const k of ['received_bytes_total', 'received_events_total', 'sent_bytes_total', 'sent_events_total']) {
        assert.equal(typeof c!.metrics[k], 'string', `${c!.component_id}.${k} is an int64 string`)
        assert.match(c!.metrics[k], /^\d+$/)
      }
    }
    // Cumulative: each later reading is larger (the fake grows by STEP per reading).
    const again = await unary('GetComponents', {limit: 0})
    assert.ok(BigInt(again.components[0].metrics.received_events_total) > BigInt(source!.metrics.received_events_total))
  })

  it('GetComponents honours limit (0 = all)', {timeout: 20_000}, async () => {
    const limited = await unary('GetComponents', {limit: 2})
    assert.deepEqual(
      limited.components.map((c: Msg) => c.component_id),
      ['in_files', 'out_http'],
    )
    assert.equal((await unary('GetComponents', {})).components.length, 3)
  })

  it('GetAllocationTracingStatus is false', {timeout: 20_000}, async () => {
    assert.deepEqual(await unary('GetAllocationTracingStatus', {}), {enabled: false})
  })

  it('StreamHeartbeat sends Timestamps; StreamUptime sends whole seconds as int64', {timeout: 30_000}, async () => {
    const beats = await collect('StreamHeartbeat', {interval_ms: 100}, (m) => m.length >= 2)
    for (const b of beats) {
      assert.match(b.utc.seconds, /^\d+$/)
      assert.ok(Math.abs(Number(b.utc.seconds) - Date.now() / 1000) < 3600, 'a current UTC time')
    }
    const [uptime] = await collect('StreamUptime', {interval_ms: 100}, (m) => m.length >= 1)
    assert.match(uptime!.uptime_seconds, /^\d+$/)
  })

  it('every stream rejects interval_ms < 100 with INVALID_ARGUMENT', {timeout: 30_000}, async () => {
    for (const method of ['StreamHeartbeat', 'StreamUptime', 'StreamComponentAllocatedBytes', 'StreamComponentMetrics']) {
      for (const interval_ms of [0, 99]) {
        const err = await streamError(method, {interval_ms, metric: 'METRIC_NAME_SENT_EVENTS_TOTAL'})
        assert.equal(err.code, g.status.INVALID_ARGUMENT, `${method} ${interval_ms}`)
        assert.match(err.details, /interval_ms must be >= 100/)
      }
    }
  })

  it('StreamComponentMetrics rejects an unspecified or unknown metric', {timeout: 20_000}, async () => {
    const unspecified = await streamError('StreamComponentMetrics', {interval_ms: 100, metric: 'METRIC_NAME_UNSPECIFIED'})
    assert.equal(unspecified.code, g.status.INVALID_ARGUMENT)
    const missing = await streamError('StreamComponentMetrics', {interval_ms: 100})
    assert.equal(missing.code, g.status.INVALID_ARGUMENT)
    const unknown = await streamError('StreamComponentMetrics', {interval_ms: 100, metric: 42})
    assert.equal(unknown.code, g.status.INVALID_ARGUMENT)
  })

  it('StreamComponentMetrics totals: one message per component per tick, consecutive ticks', {timeout: 30_000}, async () => {
    const tickOf = (m: Msg) => Math.floor(Number(m.total.value) / STEP)
    const msgs = await collect(
      'StreamComponentMetrics',
      {interval_ms: 100, metric: 'METRIC_NAME_RECEIVED_EVENTS_TOTAL'},
      (m) => new Set(m.map(tickOf)).size >= 3,
    )
    for (const m of msgs) {
      assert.equal(m.value, 'total')
      assert.match(m.total.value, /^\d+$/)
      assert.deepEqual(m.total.output_totals, {}, 'per-output totals only for SENT_EVENTS_TOTAL')
    }
    const ticks = [...new Set(msgs.map(tickOf))]
    assert.deepEqual(ticks, [ticks[0]!, ticks[0]! + 1, ticks[0]! + 2], 'consecutive readings')
    for (const tick of ticks.slice(0, 2)) {
      assert.deepEqual(
        msgs.filter((m) => tickOf(m) === tick).map((m) => m.component_id),
        ['in_files', 'out_http', 'parse'],
        `tick ${tick}: each component exactly once`,
      )
    }
  })

  it('StreamComponentMetrics SENT_EVENTS_TOTAL carries output_totals; ERRORS_TOTAL works', {timeout: 30_000}, async () => {
    const sent = await collect('StreamComponentMetrics', {interval_ms: 100, metric: 'METRIC_NAME_SENT_EVENTS_TOTAL'}, (m) => m.length >= 3)
    for (const m of sent) assert.deepEqual(m.total.output_totals, {_default: m.total.value})
    const errors = await collect('StreamComponentMetrics', {interval_ms: 100, metric: 'METRIC_NAME_ERRORS_TOTAL'}, (m) => m.length >= 3)
    assert.deepEqual(errors.map((m) => m.component_id).sort(), ['in_files', 'out_http', 'parse'])
    for (const m of errors) assert.ok(Number(m.total.value) > 0)
  })

  it('StreamComponentMetrics throughputs: first tick silent, then per-second doubles', {timeout: 30_000}, async () => {
    const callsAtStart = pipeline.calls
    let callsAtFirstMessage = -1
    const msgs = await collect('StreamComponentMetrics', {interval_ms: 100, metric: 'METRIC_NAME_SENT_EVENTS_THROUGHPUT'}, (m) => {
      if (m.length === 1) callsAtFirstMessage = pipeline.calls
      return m.length >= 6
    })
    assert.ok(callsAtFirstMessage - callsAtStart >= 2, 'the first reading produced no message')
    for (const m of msgs) {
      assert.equal(m.value, 'throughput')
      assert.equal(typeof m.throughput.value, 'number')
      assert.ok(m.throughput.value > 0, 'counters grow by STEP per reading')
      assert.deepEqual(m.throughput.output_throughputs, {_default: m.throughput.value})
    }
    const bytes = await collect('StreamComponentMetrics', {interval_ms: 100, metric: 'METRIC_NAME_RECEIVED_BYTES_THROUGHPUT'}, (m) => m.length >= 3)
    for (const m of bytes) assert.deepEqual(m.throughput.output_throughputs, {})
  })

  it('cancelling a stream stops its timer', {timeout: 30_000}, async () => {
    await waitFor(() => streams.activeStreams() === 0, 10_000, 'earlier streams to close')
    await collect('StreamComponentMetrics', {interval_ms: 100, metric: 'METRIC_NAME_SENT_BYTES_TOTAL'}, (m) => m.length >= 3)
    await waitFor(() => streams.activeStreams() === 0, 10_000, 'the cancelled stream to close')
    const calls = pipeline.calls
    await new Promise((r) => setTimeout(r, 600)) // six intervals: a live timer would have read the pipeline
    assert.equal(pipeline.calls, calls)
  })

  it('StreamComponentAllocatedBytes stays open and silent (allocation tracing off) until cancelled', {timeout: 30_000}, async () => {
    await waitFor(() => streams.activeStreams() === 0, 10_000, 'earlier streams to close')
    const call = client.StreamComponentAllocatedBytes!({interval_ms: 100}) as grpc.ClientReadableStream<Msg>
    let received = 0
    call.on('data', () => received++)
    const ended = new Promise<number>((resolve) => call.on('error', (err: grpc.ServiceError) => resolve(err.code)))
    await waitFor(() => streams.activeStreams() === 1, 10_000, 'the stream to open')
    call.cancel()
    assert.equal(await ended, g.status.CANCELLED)
    await waitFor(() => streams.activeStreams() === 0, 10_000, 'the stream to close')
    assert.equal(received, 0)
  })

  it('StreamOutputEvents (tap) is UNIMPLEMENTED', {timeout: 20_000}, async () => {
    const err = await streamError('StreamOutputEvents', {outputs_patterns: ['*'], limit: 10, interval_ms: 500})
    assert.equal(err.code, g.status.UNIMPLEMENTED)
  })

  it('endStreams() ends open streams with status OK', {timeout: 20_000}, async () => {
    await waitFor(() => streams.activeStreams() === 0, 10_000, 'earlier streams to close')
    const call = client.StreamHeartbeat!({interval_ms: 1000}) as grpc.ClientReadableStream<Msg>
    call.on('data', () => {})
    const status = new Promise<number>((resolve) => call.on('status', (s: grpc.StatusObject) => resolve(s.code)))
    await waitFor(() => streams.activeStreams() === 1, 10_000, 'the stream to open')
    streams.endStreams()
    assert.equal(await status, g.status.OK)
    assert.equal(streams.activeStreams(), 0)
  })
})
