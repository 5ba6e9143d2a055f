/**
 * Each planted scenario, captured through a real window: the planted stage
 * is the dominant busy (non-idle) self time of the planted component. In
 * `balanced`, every component spends time idle. Plain script-level checks;
 * the real analysis lives in src/analysis.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {PLANTED_BOTTLENECK} from '../../src/demo/pipeline/scenarios.js'
import {spawnDemo} from '../../src/demo/spawn.js'
import {dominantBusyStage, openWindow, selfTimes, waitEnded, waitFor} from './helpers/demo-client.js'
import {TraceIntake, type IntakeSpan} from './helpers/trace-intake.js'

/** Long enough for several iterations of the slowest planted component (~1-2 s each on a loaded box). */
const WINDOW_SECS = 3

async function capture(scenario: string): Promise<IntakeSpan[]> {
  const demo = await spawnDemo({scenario})
  const intake = await new TraceIntake().start()
  try {
    // Let the pipeline reach its steady state first: events through to the sink.
    await waitFor(
      'events to reach the sink',
      async () => {
        const text = await (await fetch(demo.metrics)).text()
        const m = /vector_component_sent_events_total\{component_id="http_out"[^}]*\} (\d+)/.exec(text)
        return m && Number(m[1]) > 0 ? true : undefined
      },
      60_000,
      250,
    )
    const opened = await openWindow(demo.api, {duration_secs: WINDOW_SECS, endpoint: intake.url})
    assert.equal(opened.status, 201, opened.text)
    const ended = await waitEnded(demo.api, opened.json.window.id)
    assert.equal(ended.spans_started - ended.spans_dropped, intake.spans.length)
    return intake.spans
  } finally {
    await intake.close()
    await demo.stop()
  }
}

describe('demo scenarios plant their bottleneck', {timeout: 400_000}, () => {
  for (const [scenario, planted] of Object.entries(PLANTED_BOTTLENECK)) {
    it(`${scenario}: ${planted.component}'s busy time goes mostly to ${planted.stage}`, {timeout: 120_000}, async () => {
      const spans = await capture(scenario)
      const perStage = selfTimes(spans).get(planted.component)
      assert.ok(perStage, `spans of ${planted.component} arrived`)
      const dominant = dominantBusyStage(perStage)
      const detail = JSON.stringify(Object.fromEntries(Object.entries(dominant.busy).map(([k, v]) => [k, Math.round(v / 1e6) + 'ms'])))
      assert.equal(dominant.stage, planted.stage, `busy self time of ${planted.component}: ${detail}`)
    })
  }

  it('balanced: every component spends part of its time idle', {timeout: 120_000}, async () => {
    const spans = await capture('balanced')
    for (const [component, perStage] of selfTimes(spans)) {
      const idle = (perStage.get('sleep') ?? 0) + (perStage.get('wait') ?? 0)
      assert.ok(idle > 0, `${component} has idle time: ${JSON.stringify(Object.fromEntries(perStage))}`)
    }
  })
})
