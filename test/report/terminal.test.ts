import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {promises as fs} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {generateBundleDir, SCENARIOS} from '../../bench/generate-bundle.js'
import {analyseBundle} from '../../src/analysis/index.js'
import type {AnalysisResult} from '../../src/analysis/types.js'
import {renderTerminal} from '../../src/report/terminal.js'
import {stripAnsi, visibleWidth} from '../../src/report/text-width.js'

// eslint-disable-next-line no-control-regex
const ESC = /\x1b/

function assertFits(text: string, width: number, label: string) {
  for (const line of text.split('\n')) {
    assert.ok(visibleWidth(line) <= width, `${label}: ${visibleWidth(line)} columns: ${JSON.stringify(stripAnsi(line))}`)
  }
}

describe('terminal report', {timeout: 120_000}, () => {
  let root: string
  const results: {label: string; r: AnalysisResult}[] = []
  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'vdiag-terminal-'))
    let n = 0
    const add = async (label: string, opts: Omit<Parameters<typeof generateBundleDir>[0], 'dir'>) => {
      const dir = path.join(root, String(n++))
      const g = await generateBundleDir({dir, ...opts})
      results.push({label, r: await analyseBundle({root: dir, manifest: g.manifest, verified: true}, {path: path.join(root, 'vdiag-a-very-long-host-name-for-wrapping-20250115T100000Z.tar.gz')})})
    }
    for (const scenario of SCENARIOS) for (const level of ['info', 'debug'] as const) await add(`${scenario}/${level}`, {spans: 4000, scenario, level, seed: 3})
    await add('metrics-only', {scenario: 'slow-sink', withTracing: false, withUtilization: true})
    const everything = {withPrometheus: true, withErrorsStream: true, withConfig: true, withLogs: true, counterErrors: {parse: 30}}
    await add('everything', {spans: 4000, scenario: 'slow-sink', seed: 3, ...everything})
    await add('everything-metrics-only', {scenario: 'slow-sink', seed: 3, withTracing: false, ...everything})
    await add('insufficient', {spans: 25, scenario: 'balanced'})
  })
  after(async () => {
    await fs.rm(root, {recursive: true, force: true})
  })

  it('fits 100 columns (and 80) in every scenario, with and without colour', () => {
    for (const {label, r} of results) {
      for (const width of [100, 80]) {
        assertFits(renderTerminal(r, {color: false, width}), width, `${label}@${width}`)
        assertFits(renderTerminal(r, {color: true, width}), width, `${label}@${width} colour`)
      }
      assertFits(renderTerminal(r, {color: false}), 100, `${label} default width`)
    }
  })

  it('has ANSI escapes only when colour is on', () => {
    for (const {label, r} of results) {
      assert.doesNotMatch(renderTerminal(r, {color: false}), ESC, label)
      assert.match(renderTerminal(r, {color: true}), ESC, label)
    }
  })

  it('puts the answer first: header, then findings led by the bottleneck, then the component table', () => {
    const {r} = results.find((x) => x.label === 'slow-sink/debug')!
    const text = renderTerminal(r, {color: false})
    const lines = text.split('\n')
    assert.match(lines[0], /^vdiag replay · Vector 0\.55\.0 on synthetic-host \(grpc API\)$/)
    assert.ok(lines.some((l) => /^bundle {4}.*format 1/.test(l)))
    assert.ok(lines.some((l) => /checksums verified · complete/.test(l)))
    assert.ok(lines.some((l) => /^window {4}2025-01-15 10:00:00Z → /.test(l)))
    assert.ok(lines.some((l) => /^spans {5}[\d,]+ in [\d,]+ traces · dropped 0 · lost 0 · orphans 0 · level debug$/.test(l)))
    const findings = lines.indexOf('FINDINGS')
    const components = lines.findIndex((l) => l.startsWith('COMPONENTS'))
    assert.ok(findings > 0 && components > findings)
    assert.match(lines[findings + 1], /^ 1 {2}CRITICAL http_out · send$/)
    assert.match(lines[findings + 2], /Sink http_out is the bottleneck/)
    // stage rows with bars and the sub-stage under its stage
    const sendRow = lines.findIndex((l, i) => i > components && /^ {2}send +█+ +\d+\.\d%/.test(l) && lines[i + 1].startsWith('    request'))
    assert.ok(sendRow > components, text)
  })

  it('marks blocked and idle time with their own bar characters', () => {
    const {r} = results.find((x) => x.label === 'slow-sink/info')!
    const lines = renderTerminal(r, {color: false}).split('\n')
    assert.ok(lines.some((l) => /^ {2}send +▒{10,}/.test(l)), 'blocked send of the source/transform')
    const {r: balanced} = results.find((x) => x.label === 'balanced/info')!
    assert.ok(renderTerminal(balanced, {color: false}).split('\n').some((l) => /^ {2}(sleep|wait) +░{5,}/.test(l)))
  })

  it('says when there were no spans and shows the metrics instead', () => {
    const {r} = results.find((x) => x.label === 'metrics-only')!
    const text = renderTerminal(r, {color: false})
    assert.match(text, /spans {5}none: tracing unavailable/)
    assert.match(text, /metrics \(events\/s over the capture\)/)
    assert.match(text, /http_out +in +5\.0k {2}out +5\.0k · utilization \d+%/)
  })

  it('neutralises control characters from the bundle and cuts what is too long', () => {
    const base = results.find((x) => x.label === 'heavy-transform/debug')!.r
    const evil = '\x1b[2J\x1b]0;pwned\x07' + 'x'.repeat(300)
    const r: AnalysisResult = structuredClone(base)
    r.components[0].id = evil
    r.components[0].stages[0].name = '名前'.repeat(40)
    r.findings[0].component = evil
    r.findings[0].summary = evil + ' ' + r.findings[0].summary
    r.pipeline.hostname = evil
    r.bundle.path = '/tmp/' + '漢'.repeat(80)
    const plain = renderTerminal(r, {color: false})
    assert.doesNotMatch(plain, ESC)
    assert.doesNotMatch(plain, /\x07/)
    assertFits(plain, 100, 'hostile')
    const coloured = renderTerminal(r, {color: true})
    assert.doesNotMatch(stripAnsi(coloured), ESC)
    assertFits(coloured, 100, 'hostile colour')
  })

  it('shows the internal metrics, config files and logs in the header, and utilization and errors per component', () => {
    const {r} = results.find((x) => x.label === 'everything')!
    const text = renderTerminal(r, {color: false})
    const lines = text.split('\n')
    assert.ok(lines.includes('topology  file_in → parse → http_out (edges from the config files)'), text)
    assert.ok(lines.some((l) => /^scrapes {3}\d+ of internal_metrics · utilization for 3 components$/.test(l)))
    assert.ok(lines.includes('config    1 file: /etc/vector/vector.yaml · 3 components, 2 edges'))
    assert.ok(lines.some((l) => /^logs {6}\/var\/log\/vector\/vector\.log \(12 lines\) · journal:vector \(failed: journalctl/.test(l)))
    // under each component's heading: its utilization and, where there were any, its errors
    const under = (kind: string) => lines[lines.findIndex((l) => l.startsWith(`${kind} `)) + 1]
    assert.match(under('source file_in'), /^ {2}utilization \d+% · send wait [\d.]+m?s p95 /)
    assert.match(under('transform parse'), /^ {2}utilization \d+% · errors 30 \([\d.]+\/s\) · latency /)
    assert.match(under('sink http_out'), /^ {2}utilization (9\d|100)% · errors \d+ \([\d.]+\/s\) · rtt /)
    // the merged errors finding
    assert.match(text, /Transform parse counted 30 error\(s\)/)
  })

  it('lists utilization and errors per component without spans', () => {
    const {r} = results.find((x) => x.label === 'everything-metrics-only')!
    const text = renderTerminal(r, {color: false})
    assert.match(text, /\n {2}parse +in +5\.0k {2}out +5\.0k · utilization \d+% · errors 30 \([\d.]+\/s\)\n {21}latency [\d.]+ms p95 [\d.]+ms · buffer peak \d+% · cpu [\d.]+ cores\n/)
    assert.match(text, /^ 1 {2}HIGH {5}http_out$/m)
  })

  it('keeps config paths and log specs from the bundle harmless', () => {
    const base = results.find((x) => x.label === 'everything')!.r
    const evil = '\x1b[2J\x1b]0;pwned\x07' + 'y'.repeat(300)
    const r: AnalysisResult = structuredClone(base)
    r.config!.files[0].source = evil
    r.logs!.sources[0].spec = evil
    r.logs!.sources[1].error = evil
    r.metrics[0].id = evil
    for (const color of [false, true]) {
      const text = renderTerminal(r, {color})
      assert.doesNotMatch(stripAnsi(text), ESC)
      assert.doesNotMatch(text, /\x07/)
      assertFits(text, 100, `hostile ${color}`)
    }
  })
})
