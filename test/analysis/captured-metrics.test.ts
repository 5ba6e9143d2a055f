/**
 * A bundle captured for real: the demo serves /metrics and `capture --demo`
 * scrapes it, the admin API streams error totals; replay reads both and every
 * component gets its utilization, in the JSON and in the terminal.
 */
import {after, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type {AnalysisResult} from '../../src/analysis/types.js'
import {renderTerminal} from '../../src/report/terminal.js'
import {runCli} from '../helpers/cli.js'

const work = mkdtempSync(path.join(os.tmpdir(), 'vdiag-captured-metrics-'))
after(() => rmSync(work, {recursive: true, force: true}))

describe('internal metrics of a real capture', {timeout: 300_000}, () => {
  it('slow-sink: utilization for the three components, error totals, scrapes summarised', async () => {
    const bundle = path.join(work, 'slow-sink.tar.gz')
    const cap = await runCli(['capture', '--demo', '--demo-scenario', 'slow-sink', '--duration', '6s', '--interval', '2s', '--json', '--output', bundle], {timeoutMs: 150_000})
    assert.equal(cap.code, 0, cap.stderr + cap.stdout)
    const rep = await runCli(['replay', bundle, '--json'], {timeoutMs: 60_000})
    assert.equal(rep.code, 0, rep.stderr)
    const r = JSON.parse(rep.stdout) as AnalysisResult

    assert.ok(r.internal_metrics, 'the bundle has Prometheus scrapes')
    assert.equal(r.internal_metrics.prefix, 'vector_')
    assert.ok(r.internal_metrics.scrapes >= 2, `${r.internal_metrics.scrapes} scrapes`)
    assert.ok(r.internal_metrics.families.includes('utilization'))

    const ids = r.topology.components.map((c) => c.id).sort()
    assert.equal(ids.length, 3)
    const byId = new Map(r.metrics.map((m) => [m.id, m]))
    for (const id of ids) {
      const m = byId.get(id)
      assert.ok(m, `metrics for ${id}`)
      assert.equal(typeof m.utilization, 'number', `${id}: utilization ${m.utilization}`)
      assert.ok(m.utilization! >= 0 && m.utilization! <= 1)
      assert.ok((m.utilization_samples ?? 0) >= 1)
      assert.ok(m.intervals.some((iv) => typeof iv.utilization === 'number'), `${id}: interval utilization`)
      // the admin API's error stream (or the scrapes' counter) gives a count, 0 in this scenario or not
      assert.equal(typeof m.errors, 'number', `${id}: errors`)
      assert.ok(m.errors_source === 'errors_stream' || m.errors_source === 'prometheus', String(m.errors_source))
    }
    // the demo publishes a source's send latency and a transform's latency histogram
    const kinds = new Map(r.topology.components.map((c) => [c.id, c.kind]))
    const source = r.metrics.find((m) => kinds.get(m.id) === 'source')!
    const transform = r.metrics.find((m) => kinds.get(m.id) === 'transform')!
    assert.ok(source.send_latency && source.send_latency.count !== null, JSON.stringify(source.send_latency))
    assert.ok(transform.latency && transform.latency.count !== null, JSON.stringify(transform.latency))

    const text = renderTerminal(r, {color: false})
    // one utilization per component: under its heading in the stage table, or in the metrics table without spans
    const lines = text.split('\n').filter((l) => /(^ {2}|· )utilization \d+%/.test(l))
    assert.ok(lines.length >= 3, text)
    assert.match(text, /^scrapes {3}\d+ of internal_metrics/m)
  })
})
