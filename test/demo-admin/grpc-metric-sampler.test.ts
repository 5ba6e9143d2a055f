import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {createMetricSampler, toInt64} from '../../src/demo/admin/grpc-metric-sampler.js'
import {demoShape, fakePipeline} from './helpers.js'

describe('StreamComponentMetrics sampler', () => {
  it('rejects UNSPECIFIED and unknown metric values', () => {
    assert.equal(createMetricSampler('METRIC_NAME_UNSPECIFIED'), undefined)
    assert.equal(createMetricSampler(42), undefined)
    assert.equal(createMetricSampler('toString'), undefined)
  })

  it('totals: one TotalMetric per component, int64 as strings, output_totals only for sent events', () => {
    const pipeline = fakePipeline(demoShape())
    const sent = createMetricSampler('METRIC_NAME_SENT_EVENTS_TOTAL')!
    assert.deepEqual(sent.sample(pipeline.components(), 0), [
      {component_id: 'in_files', total: {value: '9', output_totals: {_default: '9'}}},
      {component_id: 'out_http', total: {value: '7', output_totals: {_default: '7'}}},
      {component_id: 'parse', total: {value: '8', output_totals: {_default: '8'}}},
    ])
    const bytes = createMetricSampler('METRIC_NAME_RECEIVED_BYTES_TOTAL')!
    assert.deepEqual(
      bytes.sample(pipeline.components(), 0).map((m) => ('total' in m ? [m.component_id, m.total.value, m.total.output_totals] : m)),
      [
        ['in_files', '1000', {}],
        ['out_http', '0', {}],
        ['parse', '0', {}],
      ],
    )
    const errors = createMetricSampler('METRIC_NAME_ERRORS_TOTAL')!
    assert.deepEqual(
      errors.sample(pipeline.components(), 0).map((m) => ('total' in m ? m.total.value : null)),
      ['0', '0', '1'],
    )
  })

  it('throughputs: nothing on the first tick, then delta per second, clamped at zero', () => {
    let step = 0
    const pipeline = fakePipeline(demoShape(), {
      // in_files grows by 50 per reading; out_http's counter goes backwards once (a restart)
      advance: (c) => (c.id === 'in_files' ? {sent_events: 50} : c.id === 'out_http' ? {sent_events: step === 2 ? -5 : 0} : {}),
    })
    const sampler = createMetricSampler('METRIC_NAME_SENT_EVENTS_THROUGHPUT')!
    step = 1
    assert.deepEqual(sampler.sample(pipeline.components(), 1000), [])
    step = 2
    const second = sampler.sample(pipeline.components(), 1500) // half a second later
    assert.deepEqual(second, [
      {component_id: 'in_files', throughput: {value: 100, output_throughputs: {_default: 100}}},
      {component_id: 'out_http', throughput: {value: 0, output_throughputs: {_default: 0}}},
      {component_id: 'parse', throughput: {value: 0, output_throughputs: {_default: 0}}},
    ])
    step = 3
    const third = sampler.sample(pipeline.components(), 3500) // two seconds later
    assert.equal(third.find((m) => m.component_id === 'in_files' && 'throughput' in m && m.throughput.value === 25) !== undefined, true)
  })

  it('throughputs other than sent events carry no per-output map; new components wait one tick', () => {
    const pipeline = fakePipeline(demoShape(), {advance: () => ({received_bytes: 10})})
    const sampler = createMetricSampler('METRIC_NAME_RECEIVED_BYTES_THROUGHPUT')!
    const first = pipeline.components()
    sampler.sample(first.slice(0, 2), 0)
    const next = sampler.sample(pipeline.components(), 1000)
    assert.deepEqual(
      next.map((m) => m.component_id),
      ['in_files', 'out_http'],
    )
    for (const m of next) assert.ok('throughput' in m && m.throughput.value === 10 && Object.keys(m.throughput.output_throughputs).length === 0)
  })

  it('int64 conversion keeps integers exact and never emits a fraction or a sign', () => {
    assert.equal(toInt64(0), '0')
    assert.equal(toInt64(12.9), '12')
    assert.equal(toInt64(-3), '0')
    assert.equal(toInt64(Number.NaN), '0')
    assert.equal(toInt64(2 ** 53), '9007199254740992')
  })
})
