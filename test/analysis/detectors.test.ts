import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {promises as fs} from 'node:fs'
import {generateBundleDir, type Scenario} from '../../bench/generate-bundle.js'
import {analyseBundle} from '../../src/analysis/index.js'
import type {AnalysisResult} from '../../src/analysis/types.js'
import {tempDir} from './fixtures.js'

/** The planted bottleneck of each generated scenario: what the first finding must name. */
const PLANTED: Record<Exclude<Scenario, 'balanced'>, {component: string; stage: string; id: string}> = {
  'slow-sink': {component: 'http_out', stage: 'send', id: 'bottleneck.sink_destination'},
  'heavy-transform': {component: 'parse', stage: 'process', id: 'bottleneck.component'},
  'slow-discovery': {component: 'file_in', stage: 'discover', id: 'bottleneck.component'},
}

describe('detectors on generated bundles', {timeout: 120_000}, () => {
  let root: string
  before(async () => {
    root = await tempDir('vdiag-detectors-')
  })
  after(async () => {
    await fs.rm(root, {recursive: true, force: true})
  })
  let n = 0
  const analyse = async (opts: Omit<Parameters<typeof generateBundleDir>[0], 'dir'>, mutate?: (m: Parameters<typeof analyseBundle>[0]) => void) => {
    const dir = `${root}/b${n++}`
    const g = await generateBundleDir({dir, ...opts})
    const opened = {root: dir, manifest: g.manifest, verified: true}
    mutate?.(opened)
    return analyseBundle(opened)
  }

  for (const level of ['info', 'debug'] as const) {
    for (const [scenario, planted] of Object.entries(PLANTED)) {
      it(`${scenario} at ${level}: the first finding is ${planted.component} / ${planted.stage}`, async () => {
        const r = await analyse({spans: 6000, scenario: scenario as Scenario, level, seed: 11, splitChunks: level === 'debug'})
        const first = r.findings[0]
        assert.equal(first.id, planted.id)
        assert.equal(first.component, planted.component)
        assert.equal(first.stage, planted.stage)
        assert.ok(first.severity === 'critical' || first.severity === 'high', first.severity)
        assert.ok(first.summary.length > 20 && !first.summary.includes('\n'))
        assert.equal(first.evidence.topology, 'component order inferred from kinds (sources → transforms → sinks): the bundle has no topology edges')
        if (level === 'debug' && scenario === 'slow-discovery') {
          assert.equal(first.evidence.substage, 'fingerprint')
          assert.equal(first.evidence.dominant_substage, 'fingerprint')
          const share = first.evidence.substage_share as number
          assert.ok(share > 0 && share <= 1, `substage_share ${share}`)
          assert.match(first.summary, /`fingerprint` \(\d+% of the stage\)/)
        }
        if (level === 'debug') {
          // Every kind names its dominant sub-stage the same way when the stage has sub-stages.
          if (first.evidence.substage !== undefined) assert.ok(first.summary.includes(`\`${first.evidence.substage}\` (`), first.summary)
        }
        if (level === 'info') {
          assert.equal(first.evidence.substage, undefined)
          assert.equal(first.evidence.substage_share, undefined)
          assert.equal(first.evidence.dominant_substage, undefined)
          assert.doesNotMatch(first.summary, /of the stage\)/)
        }
        assert.equal(r.spans.orphans, 0)
        // the others are named as blocked behind it, never as the cause
        for (const f of r.findings.slice(1)) assert.ok(!f.id.startsWith('bottleneck.'), f.id)
      })
    }
    it(`balanced at ${level}: no high or critical finding`, async () => {
      const r = await analyse({spans: 6000, scenario: 'balanced', level, seed: 11})
      assert.ok(r.findings.length > 0)
      assert.deepEqual(r.findings.filter((f) => f.severity === 'high' || f.severity === 'critical'), [])
      assert.ok(r.findings.some((f) => f.id === 'bottleneck.none' || f.id === 'bottleneck.near_saturation'))
    })
  }

  it('names upstream components as blocked behind the sink, not as causes', async () => {
    const r = await analyse({spans: 6000, scenario: 'slow-sink', seed: 3})
    const blocked = r.findings.filter((f) => f.id === 'backpressure.blocked')
    assert.deepEqual(blocked.map((f) => f.component).sort(), ['file_in', 'parse'])
    assert.ok(blocked.every((f) => f.evidence.caused_by === 'http_out' && f.severity === 'low'))
  })

  it('uses topology edges when the facts have them, and says where they came from', async () => {
    const r = await analyse({spans: 6000, scenario: 'heavy-transform', seed: 5, withEdges: true})
    assert.equal(r.topology.inferred, false)
    assert.equal(r.findings[0].component, 'parse')
    assert.equal(r.findings[0].evidence.topology, 'topology edges from graphql')
  })

  it('with tracing unavailable, works from metrics alone and says so', async () => {
    const withUtil = await analyse({scenario: 'slow-sink', seed: 2, withTracing: false, withUtilization: true})
    assert.equal(withUtil.spans.tracing_available, false)
    assert.equal(withUtil.findings[0].id, 'metrics.saturated')
    assert.equal(withUtil.findings[0].component, 'http_out')
    assert.match(withUtil.findings[0].summary, /metrics alone/)
    assert.ok(withUtil.findings.some((f) => f.id === 'tracing.unavailable' && /metrics alone/.test(f.summary)))

    const plain = await analyse({scenario: 'heavy-transform', seed: 2, withTracing: false})
    assert.deepEqual(
      plain.findings.map((f) => f.id),
      ['tracing.unavailable', 'metrics.throughput'],
    )
    assert.ok(plain.findings.every((f) => !f.id.startsWith('bottleneck.')))
  })

  it('says "not enough data" instead of guessing from a handful of spans', async () => {
    const r = await analyse({spans: 30, scenario: 'slow-sink', seed: 1})
    assert.equal(r.findings[0].id, 'data.insufficient')
    assert.ok(!r.findings.some((f) => f.id.startsWith('bottleneck.')))
  })

  it('reports lost and dropped spans, and an incomplete or unverified bundle, after the bottleneck', async () => {
    const r = await analyse({spans: 6000, scenario: 'heavy-transform', seed: 4}, (o) => {
      o.manifest = {
        ...o.manifest,
        complete: false,
        incomplete_reason: 'interrupted (SIGINT)',
        counts: {...o.manifest.counts, spans_lost: 2000, spans_dropped_pipeline: 50},
      }
      o.verified = false
    })
    assert.equal(r.findings[0].component, 'parse')
    const byId = new Map(r.findings.map((f) => [f.id, f]))
    assert.equal(byId.get('spans.lost')?.severity, 'high') // 2000 of 8050 expected
    assert.equal(byId.get('spans.dropped')?.severity, 'low')
    assert.match(byId.get('bundle.incomplete')!.summary, /interrupted \(SIGINT\)/)
    assert.equal(byId.get('bundle.unverified')?.severity, 'info')
  })

  it('is deterministic for a seed', async () => {
    const a: AnalysisResult = await analyse({spans: 3000, scenario: 'slow-discovery', level: 'debug', seed: 8})
    const b: AnalysisResult = await analyse({spans: 3000, scenario: 'slow-discovery', level: 'debug', seed: 8})
    assert.deepEqual({...a, bundle: null}, {...b, bundle: null})
  })
})
