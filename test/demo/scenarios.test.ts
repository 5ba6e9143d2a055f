/**
 * Each planted scenario, captured through a real debug window: the planted
 * stage is the dominant busy (non-idle) self time of the planted component,
 * and `cpu_ns` never exceeds a span's duration. slow-discovery's source is
 * saturated by fingerprinting: `fingerprint` is most of `discover`, and it
 * rarely sleeps. In `balanced`, every component spends time idle. Plain
 * script-level checks on the spans; the real analysis lives in src/analysis.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {PLANTED_BOTTLENECK} from '../../src/demo/pipeline/scenarios.js'
import {spawnDemo} from '../../src/demo/spawn.js'
import {checkCpuNs, dominantBusyStage, openWindow, selfTimes, waitEnded, waitFor} from './helpers/demo-client.js'
import {TraceIntake, type IntakeSpan} from './helpers/trace-intake.js'

/**
 * Long enough for several iterations of the slowest planted component: a
 * slow-discovery iteration is a whole scan (~0.3 s here, but seconds when the
 * box is loaded), and only iterations that start inside the window are traced.
 */
const WINDOW_SECS = 5

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
    const opened = await openWindow(demo.api, {duration_secs: WINDOW_SECS, endpoint: intake.url, level: 'debug'})
    assert.equal(opened.status, 201, opened.text)
    const ended = await waitEnded(demo.api, opened.json.window.id)
    assert.equal(ended.spans_started - ended.spans_dropped, intake.spans.length)
    assert.ok(checkCpuNs(intake.spans) > 0, `some spans measured CPU: ${intake.spans.length} spans, window ${JSON.stringify(ended)}\n${demo.stderr().slice(-2000)}`)
    return intake.spans
  } finally {
    await intake.close()
    await demo.stop()
  }
}

/** Sum of span durations (ns) by name, for one component. */
function totals(spans: readonly IntakeSpan[], component: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const s of spans) if (s.meta.component_id === component) out.set(s.name, (out.get(s.name) ?? 0) + Number(s.duration))
  return out
}

/**
 * The planted cost is fingerprinting many files: the `fingerprint` sub-stages
 * cover most of `discover` (not its untracked self time), and the source is
 * saturated: there is always more to read, so hardly an iteration sleeps.
 */
function checkSlowDiscovery(spans: readonly IntakeSpan[], source: string): void {
  const t = totals(spans, source)
  const discover = t.get('discover') ?? 0
  const fingerprint = t.get('fingerprint') ?? 0
  assert.ok(discover > 0 && fingerprint > 0, 'discover and fingerprint spans arrived')
  assert.ok(fingerprint > discover / 2, `fingerprint is ${Math.round((100 * fingerprint) / discover)}% of discover`)
  for (const [name, ns] of t) {
    if (name !== 'fingerprint' && name !== 'discover' && name !== 'iteration' && spans.some((s) => s.name === name && s.meta.stage === 'discover')) {
      assert.ok(ns < fingerprint, `sub-stage ${name} of discover is smaller than fingerprint`)
    }
  }
  const iterations = spans.filter((s) => s.meta.component_id === source && s.parent_id === 0n).length
  const sleeps = spans.filter((s) => s.meta.component_id === source && s.name === 'sleep').length
  assert.ok(iterations >= 2, `${iterations} iterations`)
  assert.ok(sleeps <= iterations / 10, `the source slept in ${sleeps} of ${iterations} iterations`)
  // Every traced iteration scans (the scan outlasts the cooldown), so the files are fingerprinted each time.
  const scans = spans.filter((s) => s.meta.component_id === source && s.name === 'discover').length
  assert.ok(scans >= iterations - 1, `${scans} scans in ${iterations} iterations`)
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
      if (scenario === 'slow-discovery') checkSlowDiscovery(spans, planted.component)
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
