/**
 * The real `vdiag demo` child process, seen through both admin API
 * generations: gRPC (Vector >= 0.55) and POST /graphql (Vector <= 0.54).
 */
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import type * as grpc from '@grpc/grpc-js'
import {loadObservability} from '../../src/protocol/observability.js'
import {spawnDemo, type SpawnedDemo} from '../../src/demo/spawn.js'
import {assertValidForVector, collectStream, unaryCall, type Msg, type ObservabilityClient} from './helpers.js'

/** The demo's plugins per kind (issue 2 §3): a file source, a remap transform, an http sink. */
const PLUGIN_BY_KIND = {source: 'file', transform: 'remap', sink: 'http'} as const
/** How long counters may take to move on a loaded 2-core machine; a bound, not a timing assertion. */
const GROWTH_DEADLINE_MS = 60_000
const POLL_MS = 250

const semver = (version: string) => {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version.split(' ')[0] ?? '')
  assert.ok(m, `version string starts with a semver: ${version}`)
  return [Number(m[1]), Number(m[2]), Number(m[3])] as const
}

async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + GROWTH_DEADLINE_MS
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
}

describe('real demo, gRPC generation (Vector >= 0.55)', {timeout: 180_000}, () => {
  let demo: SpawnedDemo | undefined
  let client: ObservabilityClient
  let g: typeof grpc

  before(async () => {
    const loaded = await loadObservability()
    g = loaded.grpc
    demo = await spawnDemo({apiProtocol: 'grpc'})
    client = new loaded.Service(new URL(demo.api).host, g.credentials.createInsecure()) as unknown as ObservabilityClient
  })

  after(async () => {
    client?.close()
    await demo?.stop()
  })

  it('GetMeta: a >= 0.55 version string and a hostname', {timeout: 30_000}, async () => {
    const meta = await unaryCall(client, 'GetMeta', {})
    const [major, minor] = semver(meta.version)
    assert.ok(major > 0 || minor >= 55, `gRPC generation reports >= 0.55: ${meta.version}`)
    assert.equal(typeof meta.hostname, 'string')
    assert.ok(meta.hostname.length > 0)
  })

  it('GetComponents: kinds, plugin types, counters that grow between two calls', {timeout: 90_000}, async () => {
    const first = (await unaryCall(client, 'GetComponents', {limit: 0})).components as Msg[]
    const ids = first.map((c) => c.component_id)
    assert.deepEqual(ids, [...ids].sort(), 'sorted by id')
    for (const [kind, plugin] of Object.entries(PLUGIN_BY_KIND)) {
      const ofKind = first.filter((c) => c.component_type === `COMPONENT_TYPE_${kind.toUpperCase()}`)
      assert.ok(ofKind.length >= 1, `at least one ${kind}`)
      for (const c of ofKind) assert.equal(c.on_type, plugin, `${c.component_id} is a ${plugin} ${kind}`)
    }
    for (const c of first) {
      if (c.component_type !== 'COMPONENT_TYPE_SINK') assert.ok(c.outputs.some((o: Msg) => o.output_id === '_default'))
      assert.match(c.metrics.received_events_total, /^\d+$/)
    }
    const source = first.find((c) => c.component_type === 'COMPONENT_TYPE_SOURCE')!
    const sink = first.find((c) => c.component_type === 'COMPONENT_TYPE_SINK')!
    const sentOf = (list: Msg[], id: string) => BigInt(list.find((c) => c.component_id === id)!.metrics.sent_events_total)
    await pollUntil(
      async () => (await unaryCall(client, 'GetComponents', {limit: 0})).components as Msg[],
      (later) => sentOf(later, source.component_id) > sentOf(first, source.component_id) && sentOf(later, sink.component_id) > sentOf(first, sink.component_id),
      'source and sink sent_events_total to grow',
    )
  })

  it('StreamComponentMetrics: totals per component that never shrink, then throughputs', {timeout: 90_000}, async () => {
    const {components} = await unaryCall(client, 'GetComponents', {limit: 0})
    const ids = (components as Msg[]).map((c) => c.component_id).sort()
    const seenTwice = (msgs: Msg[]) => ids.every((id) => msgs.filter((m) => m.component_id === id).length >= 2)
    const totals = await collectStream(client, 'StreamComponentMetrics', {interval_ms: 200, metric: 'METRIC_NAME_SENT_EVENTS_TOTAL'}, seenTwice, 60_000)
    assert.deepEqual([...new Set(totals.map((m) => m.component_id))].sort(), ids)
    for (const id of ids) {
      const values = totals.filter((m) => m.component_id === id).map((m) => BigInt(m.total.value))
      for (let i = 1; i < values.length; i++) assert.ok(values[i]! >= values[i - 1]!, `${id} total is cumulative`)
      for (const m of totals.filter((x) => x.component_id === id)) assert.equal(m.total.output_totals._default, m.total.value)
    }
    const rates = await collectStream(
      client,
      'StreamComponentMetrics',
      {interval_ms: 200, metric: 'METRIC_NAME_RECEIVED_EVENTS_THROUGHPUT'},
      (msgs) => msgs.length >= ids.length,
      60_000,
    )
    for (const m of rates) {
      assert.equal(m.value, 'throughput')
      assert.ok(Number.isFinite(m.throughput.value) && m.throughput.value >= 0)
    }
  })

  it('StreamComponentMetrics rejects interval_ms < 100', {timeout: 30_000}, async () => {
    await assert.rejects(
      collectStream(client, 'StreamComponentMetrics', {interval_ms: 50, metric: 'METRIC_NAME_SENT_EVENTS_TOTAL'}, () => false),
      (err: grpc.ServiceError) => err.code === g.status.INVALID_ARGUMENT,
    )
  })
})

describe('real demo, GraphQL generation (Vector <= 0.54)', {timeout: 180_000}, () => {
  let demo: SpawnedDemo | undefined

  before(async () => {
    demo = await spawnDemo({apiProtocol: 'graphql'})
  })

  after(async () => {
    await demo?.stop()
  })

  const query = async (document: string): Promise<Msg> => {
    await assertValidForVector(document)
    const res = await fetch(`${demo!.api}/graphql`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({query: document}),
      signal: AbortSignal.timeout(15_000),
    })
    assert.equal(res.status, 200)
    const body = (await res.json()) as Msg
    assert.equal(body.errors, undefined, JSON.stringify(body.errors))
    return body.data
  }

  const COMPONENTS = `{
    components(first: 32767) {
      totalCount
      nodes {
        __typename componentId componentType
        ... on Source { sinks { componentId } transforms { componentId }
          metrics { sentEventsTotal { sentEventsTotal } receivedEventsTotal { receivedEventsTotal } } }
        ... on Transform { sources { componentId } sinks { componentId }
          metrics { sentEventsTotal { sentEventsTotal } } }
        ... on Sink { sources { componentId } transforms { componentId }
          metrics { sentEventsTotal { sentEventsTotal } } }
      }
    }
  }`

  it('health and meta: a <= 0.54 version string', {timeout: 30_000}, async () => {
    const data = await query('{ health meta { versionString hostname } }')
    assert.equal(data.health, true)
    const [major, minor] = semver(data.meta.versionString)
    assert.ok(major === 0 && minor <= 54, `GraphQL generation reports <= 0.54: ${data.meta.versionString}`)
  })

  it('components: kinds as __typename, plugins as componentType, relations, counters that grow', {timeout: 90_000}, async () => {
    const first = (await query(COMPONENTS)).components
    const nodes = first.nodes as Msg[]
    assert.equal(first.totalCount, nodes.length)
    for (const [kind, plugin] of Object.entries(PLUGIN_BY_KIND)) {
      const typename = kind[0]!.toUpperCase() + kind.slice(1)
      const ofKind = nodes.filter((n) => n.__typename === typename)
      assert.ok(ofKind.length >= 1, `at least one ${typename}`)
      for (const n of ofKind) assert.equal(n.componentType, plugin)
    }
    const source = nodes.find((n) => n.__typename === 'Source')!
    const transform = nodes.find((n) => n.__typename === 'Transform')!
    const sink = nodes.find((n) => n.__typename === 'Sink')!
    // file → remap → http: each relation seen from both ends.
    assert.ok(transform.sources.some((s: Msg) => s.componentId === source.componentId))
    assert.ok(source.transforms.some((t: Msg) => t.componentId === transform.componentId))
    assert.ok(sink.transforms.some((t: Msg) => t.componentId === transform.componentId))
    assert.ok(transform.sinks.some((s: Msg) => s.componentId === sink.componentId))

    const sent = (list: Msg[], id: string) => list.find((n) => n.componentId === id)!.metrics.sentEventsTotal?.sentEventsTotal ?? 0
    await pollUntil(
      async () => (await query(COMPONENTS)).components.nodes as Msg[],
      (later) =>
        sent(later, source.componentId) > sent(nodes, source.componentId) && sent(later, sink.componentId) > sent(nodes, sink.componentId),
      'source and sink sentEventsTotal to grow',
    )
  })

  it('without first, Vector pages 10 nodes at most; the demo reports its total', {timeout: 30_000}, async () => {
    const data = await query('{ components { totalCount nodes { componentId } pageInfo { hasNextPage } } }')
    assert.equal(data.components.nodes.length, Math.min(10, data.components.totalCount))
    assert.equal(data.components.pageInfo.hasNextPage, data.components.totalCount > 10)
  })
})
