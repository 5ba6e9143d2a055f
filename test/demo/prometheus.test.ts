/**
 * The demo's /metrics: Vector's internal metric names with the `vector_`
 * prefix and component labels, counters that grow, well-formed histograms.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {spawnDemo, type SpawnedDemo} from '../../src/demo/spawn.js'
import {waitFor} from './helpers/demo-client.js'

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

function parse(text: string): {samples: Sample[]; types: Map<string, string>} {
  const samples: Sample[] = []
  const types = new Map<string, string>()
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type) types.set(type[1], type[2])
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    assert.ok(m, `exposition line: ${line}`)
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2]
    samples.push({name: m[1], labels, value: Number(m[3])})
  }
  return {samples, types}
}

const COMPONENTS = [
  {component_id: 'app_logs', component_kind: 'source', component_type: 'file'},
  {component_id: 'parse_logs', component_kind: 'transform', component_type: 'remap'},
  {component_id: 'http_out', component_kind: 'sink', component_type: 'http'},
]

describe('demo Prometheus exposition', {timeout: 90_000}, () => {
  let demo: SpawnedDemo
  const scrape = async () => {
    const res = await fetch(demo.metrics)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/)
    return parse(await res.text())
  }
  const value = (samples: Sample[], name: string, id: string) => samples.find((s) => s.name === name && s.labels.component_id === id)?.value

  before(async () => {
    demo = await spawnDemo()
  })
  after(async () => {
    assert.equal(await demo?.stop(), 0, demo?.stderr())
  })

  it('serves at /metrics', () => {
    assert.match(demo.metrics, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
  })

  it('has Vector’s counters and gauge for every component, with component labels', async () => {
    const {samples, types} = await scrape()
    for (const name of [
      'vector_component_received_events_total',
      'vector_component_sent_events_total',
      'vector_component_received_bytes_total',
      'vector_component_sent_bytes_total',
      'vector_component_errors_total',
    ]) {
      assert.equal(types.get(name), 'counter', name)
      for (const c of COMPONENTS) {
        const s = samples.find((x) => x.name === name && x.labels.component_id === c.component_id)
        assert.ok(s, `${name}{component_id="${c.component_id}"}`)
        assert.deepEqual(s.labels, c)
        assert.ok(s.value >= 0)
      }
    }
    assert.equal(types.get('vector_utilization'), 'gauge')
    for (const c of COMPONENTS) {
      const u = value(samples, 'vector_utilization', c.component_id)
      assert.ok(u !== undefined && u >= 0 && u <= 1, `utilization of ${c.component_id}: ${u}`)
    }
  })

  it('has the two latency histograms, well formed', async () => {
    const {samples, types} = await scrape()
    const histograms: [string, string][] = [
      ['vector_source_send_latency_seconds', 'app_logs'],
      ['vector_component_latency_seconds', 'parse_logs'],
    ]
    for (const [name, id] of histograms) {
      assert.equal(types.get(name), 'histogram', name)
      const buckets = samples.filter((s) => s.name === `${name}_bucket` && s.labels.component_id === id)
      assert.ok(buckets.length > 2, `${name} buckets`)
      assert.equal(buckets.at(-1)?.labels.le, '+Inf')
      for (let i = 1; i < buckets.length; i++) {
        assert.ok(buckets[i].value >= buckets[i - 1].value, 'cumulative buckets')
        if (buckets[i].labels.le !== '+Inf') assert.ok(Number(buckets[i].labels.le) > Number(buckets[i - 1].labels.le))
      }
      assert.equal(buckets.at(-1)?.value, value(samples, `${name}_count`, id))
      assert.ok(value(samples, `${name}_sum`, id) !== undefined)
    }
  })

  it('counters grow while the pipeline runs, end to end', async () => {
    const first = (await scrape()).samples
    const before = value(first, 'vector_component_sent_events_total', 'http_out') ?? 0
    await waitFor(
      'the sink to send more events',
      async () => {
        const now = (await scrape()).samples
        const sent = value(now, 'vector_component_sent_events_total', 'http_out') ?? 0
        if (sent <= before) return undefined
        // The source read at least what the sink delivered.
        assert.ok((value(now, 'vector_component_received_events_total', 'app_logs') ?? 0) >= sent)
        assert.ok((value(now, 'vector_component_sent_bytes_total', 'http_out') ?? 0) > 0)
        return true
      },
      30_000,
      250,
    )
  })

  it('answers 404 off /metrics', async () => {
    const res = await fetch(demo.metrics.replace(/\/metrics$/, '/other'))
    await res.text()
    assert.equal(res.status, 404)
  })
})
