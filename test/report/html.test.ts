import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import type {AnalysisResult} from '../../src/analysis/types.js'
import {HTML_CSP, renderHtml} from '../../src/report/html.js'
import {SCRIPT} from '../../src/report/html/script.js'
import {MAX_MARKS_PER_LANE, TIME_BUCKETS} from '../../src/report/html/timeline.js'
import {HOSTILE, HOSTILE_COMMENT, METRICS_SUMMARY, PRIMARY_SUMMARY, hostileResult, largeResult, metricsRichResult, slowSinkResult} from './html-fixtures.js'

function dataOf(html: string): unknown {
  const m = /<script type="application\/json" id="vdiag-data">([\s\S]*?)<\/script>/.exec(html)
  assert.ok(m, 'the data block is present')
  return JSON.parse(m[1])
}

test('html: answer first, CSP with the script hash, nothing that fetches', () => {
  const html = renderHtml(slowSinkResult())
  assert.ok(html.startsWith('<!doctype html>'))
  const hash = createHash('sha256').update(SCRIPT).digest('base64')
  assert.ok(html.includes(`<meta http-equiv="Content-Security-Policy" content="${HTML_CSP}">`))
  assert.ok(HTML_CSP.includes(`'sha256-${hash}'`) && HTML_CSP.startsWith("default-src 'none'"))
  assert.ok(html.includes(`<script>${SCRIPT}</script>`), 'the inline script is exactly the hashed one')
  // The answer comes before every chart.
  const answer = html.indexOf(PRIMARY_SUMMARY)
  assert.ok(answer > 0 && answer < html.indexOf('id="topology"') && answer < html.indexOf('<svg'))
  // No attribute may point anywhere but the page itself or a data: URL.
  for (const m of html.matchAll(/\s(?:src|href|xlink:href|action|poster|srcset)\s*=\s*"([^"]*)"/gi)) {
    assert.match(m[1], /^(#|data:)/, `attribute value ${m[1]}`)
  }
  assert.doesNotMatch(html, /@import|url\(\s*['"]?(?!#|data:)/i, 'no stylesheet fetches')
  assert.deepEqual(dataOf(html), JSON.parse(JSON.stringify(slowSinkResult())))
  for (const text of ['in_file', 'parse', 'out_http', 'fingerprint', 'HTTP 503 Service Unavailable', 'inferred order']) assert.ok(html.includes(text), text)
})

test('html: hostile strings are inert text, the data block round-trips them', () => {
  const result = hostileResult()
  const html = renderHtml(result)
  assert.equal((html.match(/<script/gi) ?? []).length, 2, 'only the data block and the report script')
  assert.equal((html.match(/<\/script/gi) ?? []).length, 2)
  assert.equal((html.match(/<img/gi) ?? []).length, 0)
  assert.equal((html.match(/<!--/g) ?? []).length, 0)
  // Markup only comes from the renderer: no tag carries an event handler.
  // (Attribute values are dropped first: escaped text inside them is inert.)
  for (const tag of html.match(/<[a-zA-Z][^<>]*>/g) ?? []) assert.doesNotMatch(tag.replace(/"[^"]*"/g, '""'), /\son[a-z]+\s*=/i, tag)
  assert.ok(html.includes('&lt;/script&gt;&lt;script&gt;window.__pwned=1;alert(1)&lt;/script&gt;'))
  assert.deepEqual(dataOf(html), JSON.parse(JSON.stringify(result)))
})

test('html: large timelines and metric series are capped, and the page says so', () => {
  const result = largeResult()
  const html = renderHtml(result)
  const rects = (html.match(/<rect/g) ?? []).length
  assert.ok(rects < 2 * (2 * TIME_BUCKETS + MAX_MARKS_PER_LANE), `${rects} rects drawn for 80,600 iterations`)
  assert.ok(html.includes(`in_file: 40,000 iterations drawn as ${TIME_BUCKETS} time columns`))
  assert.ok(html.includes(`out_http: 40,000 iterations drawn as ${TIME_BUCKETS} time columns`))
  assert.doesNotMatch(html, /parse: 600 iterations drawn/, 'a lane under the cap is drawn one by one')
  const averaged = /5000 intervals averaged into (\d+) points/.exec(html)
  assert.ok(averaged && Number(averaged[1]) <= 400 && Number(averaged[1]) >= 200, 'long metric series are averaged down')
  assert.ok(html.length < 3_000_000, `page is ${html.length} chars`)
  const data = dataOf(html) as AnalysisResult
  assert.equal(data.timeline.in_file.length, 5000, 'embedded timeline capped too')
})

test('html: a bundle without tracing, components or findings still renders meaningfully', () => {
  const r = slowSinkResult()
  const empty: AnalysisResult = {
    ...r,
    spans: {...r.spans, total: 0, traces: 0, tracing_available: false, tracing_reason: 'the pipeline answered 404 on /tracing'},
    topology: {components: [], edges: [], inferred: true, edges_source: 'none', order: []},
    components: [],
    metrics: [],
    timeline: {},
    findings: [],
    window: {start: null, end: null, duration_s: 0, source: 'none'},
  }
  const html = renderHtml(empty)
  assert.match(html, /No findings: nothing in this bundle points at a bottleneck\./)
  assert.match(html, /Tracing was unavailable \(the pipeline answered 404 on \/tracing\): the findings come from metrics alone\./)
  assert.match(html, /No metric snapshots in this bundle\./)
  assert.doesNotMatch(html, /NaN|undefined|Infinity/)
})

test('html: numbers never render as NaN or undefined', () => {
  for (const r of [slowSinkResult(), hostileResult(), largeResult()]) {
    const visible = renderHtml(r).replace(/<script[\s\S]*?<\/script>/g, '')
    assert.doesNotMatch(visible, /NaN|undefined|Infinity/)
  }
})

test('html: the hostile fixture really is hostile', () => {
  assert.ok(HOSTILE.includes('</script>') && HOSTILE.includes('onerror') && HOSTILE_COMMENT.includes('<!--'))
})

test('html: utilization and errors per component, charted, with the config files and logs included', () => {
  const result = metricsRichResult()
  const html = renderHtml(result)
  const metrics = html.slice(html.indexOf('id="metrics"'))
  // The utilization chart: one line per component, the saturation threshold, the version caveat.
  const util = /<h3>Utilization<\/h3>([\s\S]*?)<h3>/.exec(metrics)
  assert.ok(util, 'utilization section')
  assert.equal((util[1].match(/<polyline /g) ?? []).length, 3)
  assert.match(util[1], /saturated \(90 %\)/)
  for (const id of ['in_file', 'parse', 'out_http']) assert.ok(util[1].includes(`${id}</span>`), id)
  assert.match(util[1], /Before Vector 0\.55 a component blocked on its downstream also reads busy/)
  // Errors: a chart for the component that had them, and per-component counts and rates in the table.
  const errs = /<h3>Errors<\/h3>([\s\S]*?)<h3>/.exec(metrics)
  assert.ok(errs, 'errors section')
  assert.equal((errs[1].match(/<polyline /g) ?? []).length, 1)
  assert.match(metrics, /<th scope="col">Errors\/s<\/th><th scope="col">Utilization \(max\)<\/th>/)
  assert.match(metrics, /<td class="text"><code>out_http<\/code><\/td>(<td>(?:(?!<\/td>).)*<\/td>){5}<td><strong>19<\/strong><\/td><td>0\.95\/s<\/td><td><strong>96 % \(98 %\)<\/strong><\/td>/)
  // What else the internal metrics said.
  assert.match(metrics, /<h3>Internal metrics<\/h3>/)
  assert.match(metrics, /<code>parse<\/code><\/td><td>2\.1 ms \/ 4\.4 ms<\/td>/)
  assert.match(metrics, /31\.5 ms \/ 49\.2 ms/)
  // Config files and log sources by name, never their content.
  assert.match(html, /<dt>Config files<\/dt><dd>1 of 1 files · 3 components · 2 edges \(the topology below uses them\)/)
  assert.ok(html.includes('<code>/etc/vector/vector.yaml</code> (yaml, defines <code>in_file</code>, <code>parse</code>, <code>out_http</code> · in the bundle as <code>config/01-vector.yaml</code>)'))
  assert.ok(html.includes('<code>/var/log/vector/vector.log</code> (120 lines, window, <strong>truncated</strong>'))
  assert.ok(html.includes('<code>journal:vector</code> (failed: journalctl is not installed)'))
  assert.match(html, /<dt>Internal metrics<\/dt><dd>21 Prometheus scrapes · prefix <code>vector_<\/code> · utilization for 3 components/)
  assert.match(html, /Edges come from the pipeline's config files/)
  // Without spans, the topology boxes show utilization.
  assert.match(html, /out_http \(sink, http\), utilization 96 %, the bottleneck/)
  assert.ok(html.indexOf(METRICS_SUMMARY) > 0 && html.indexOf(METRICS_SUMMARY) < html.indexOf('id="metrics"'), 'the answer comes first')
  assert.doesNotMatch(html.replace(/<script[\s\S]*?<\/script>/g, ''), /NaN|undefined|Infinity/)
})

test('html: hostile config, log and metric strings stay text', () => {
  const html = renderHtml(hostileResult())
  const visible = html.replace(/<script type="application\/json"[\s\S]*?<\/script>/, '')
  assert.equal((visible.match(/<script/gi) ?? []).length, 1)
  assert.equal((html.match(/<img/gi) ?? []).length, 0)
  assert.ok(visible.includes(`<code>journal:${HOSTILE.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')}</code>`))
  assert.ok(!visible.includes(HOSTILE_COMMENT))
})
