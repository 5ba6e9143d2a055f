import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {promises as fs} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {generateBundleDir} from '../../bench/generate-bundle.js'
import {analyseBundle} from '../../src/analysis/index.js'
import type {AnalysisResult} from '../../src/analysis/types.js'
import {toJson} from '../../src/report/json.js'
import {packageRoot} from '../../src/util/paths.js'

type Json = Record<string, unknown>

function assertTypes(obj: Json, spec: Record<string, string>, where: string) {
  for (const [key, type] of Object.entries(spec)) {
    const v = obj[key]
    const actual = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v
    assert.ok(type.split('|').includes(actual), `${where}.${key}: ${actual}, expected ${type}`)
  }
}

describe('replay --json document', {timeout: 60_000}, () => {
  let root: string
  let doc: Json
  let result: AnalysisResult
  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'vdiag-json-'))
    // Every optional part of a bundle, so every key the document can hold is emitted (and checked against the docs).
    const g = await generateBundleDir({
      dir: root,
      spans: 4000,
      scenario: 'slow-discovery',
      level: 'debug',
      seed: 6,
      withPrometheus: true,
      withErrorsStream: true,
      counterErrors: {parse: 10},
      withConfig: true,
      withLogs: true,
    })
    result = await analyseBundle({root, manifest: g.manifest, verified: true}, {path: 'bundle.tar.gz'})
    doc = JSON.parse(toJson(result))
  })
  after(async () => {
    await fs.rm(root, {recursive: true, force: true})
  })

  it('is one JSON document ending in a newline', () => {
    const text = toJson(result)
    assert.ok(text.endsWith('}\n'))
    assert.doesNotThrow(() => JSON.parse(text))
  })

  it('has every field the issue requires, with the right types', () => {
    assertTypes(doc.bundle as Json, {path: 'string', format_version: 'number', verified: 'boolean'}, 'bundle')
    assertTypes(doc.pipeline as Json, {version: 'string|null', hostname: 'string|null', api: 'string'}, 'pipeline')
    assertTypes(doc.window as Json, {start: 'string|null', end: 'string|null', duration_s: 'number'}, 'window')
    assertTypes(doc.spans as Json, {total: 'number', traces: 'number', dropped: 'number'}, 'spans')
    const components = doc.components as Json[]
    assert.equal(components.length, 3)
    for (const c of components) {
      assertTypes(c, {id: 'string', kind: 'string', type: 'string', iterations: 'number', busy_share: 'number', stages: 'array'}, 'component')
      for (const s of c.stages as Json[]) {
        assertTypes(s, {name: 'string', self_ms: 'number', total_ms: 'number', share: 'number', p50_ms: 'number', p95_ms: 'number', p99_ms: 'number', substages: 'array'}, `stage ${s.name}`)
        for (const sub of s.substages as Json[]) assertTypes(sub, {name: 'string', self_ms: 'number', share: 'number', p95_ms: 'number'}, 'substage')
      }
    }
    for (const m of doc.metrics as Json[]) {
      assertTypes(m, {utilization: 'number|null', utilization_max: 'number|null', errors: 'number|null', errors_per_s: 'number|null', errors_source: 'string|null', latency: 'object|null', http_rtt: 'object|null'}, `metrics ${m.id}`)
    }
    assertTypes(doc, {internal_metrics: 'object', config: 'object', logs: 'object'}, 'doc')
    const findings = doc.findings as Json[]
    assert.ok(findings.length > 0)
    for (const f of findings) assertTypes(f, {severity: 'string', component: 'string|null', stage: 'string|null', summary: 'string', evidence: 'object'}, 'finding')
    assert.equal(findings[0].component, 'file_in')
    assert.equal(findings[0].stage, 'discover')
    assert.equal((findings[0].evidence as Json).dominant_substage, 'fingerprint')
  })

  it('writes non-finite numbers as null so the document always parses', () => {
    const r = structuredClone(result)
    r.window.duration_s = Number.NaN
    r.components[0].busy_share = Number.POSITIVE_INFINITY
    const back = JSON.parse(toJson(r))
    assert.equal(back.window.duration_s, null)
    assert.equal(back.components[0].busy_share, null)
  })

  it('documents every field it emits in docs/replay-json.md', async () => {
    const docText = await fs.readFile(path.join(packageRoot, 'docs', 'replay-json.md'), 'utf8')
    const keys = new Set<string>()
    const walk = (v: unknown, free: boolean) => {
      if (Array.isArray(v)) for (const x of v) walk(x, free)
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (!free) keys.add(k)
          // evidence is per finding id, and timeline is keyed by component id
          walk(x, free || k === 'evidence' || k === 'timeline')
        }
      }
    }
    walk(doc, false)
    for (const t of Object.values(result.timeline)) for (const it of t) for (const k of Object.keys(it)) keys.add(k)
    const missing = [...keys].filter((k) => !docText.includes(`\`${k}\``))
    assert.deepEqual(missing, [])
  })
})
