/**
 * The Prometheus side of vdiag: the exposition parser on text shaped like
 * Vector's prometheus_exporter output (with and without the namespace,
 * histograms, escaped labels, broken lines), scraping over real HTTP
 * (timeouts, garbage, caps), the recorder's NDJSON, and the real demo's
 * /metrics through spawnDemo().
 */
import {after, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type http from 'node:http'
import type {PrometheusRecord, PrometheusScrape} from '../../src/bundle/format.js'
import {PhaseRecorder} from '../../src/capture/recorder.js'
import {isVdiagError, type VdiagError} from '../../src/errors.js'
import {parseExposition, parseSampleLine, parseValue} from '../../src/attach/prometheus-text.js'
import {
  detectPrefix,
  probeMetricsUrl,
  prometheusSource,
  scrapeOnce,
  summariseExposition,
} from '../../src/attach/prometheus.js'
import {spawnDemo} from '../../src/demo/spawn.js'
import {closedPort, startHttp} from './fake-admin.js'

const unhandled: unknown[] = []
process.on('unhandledRejection', (e) => unhandled.push(e))
after(() => assert.deepEqual(unhandled, [], 'no unhandled rejections'))

const T = {timeout: 30_000}
const TS = 1_767_225_600_000
const WEIRD_ID = 'we"ird\\id\nx'

/** Labels as Vector's exporter writes them: component tags, then the metric's own, then `host`. */
function labels(id: string, kind: string, type: string, extra = ''): string {
  const esc = id.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
  return `{component_id="${esc}",component_kind="${kind}",component_type="${type}"${extra},host="box-1"}`
}

/** A realistic Vector 0.55 exposition with namespace `prefix`. */
function vectorExposition(prefix: string): string {
  const src = (extra = '') => labels('in_files', 'source', 'file', extra)
  const tr = (extra = '') => labels('parse', 'transform', 'remap', extra)
  const sink = (extra = '') => labels('out_http', 'sink', 'http', extra)
  const weird = (extra = '') => labels(WEIRD_ID, 'transform', 'filter', extra)
  const p = prefix
  const histogram = (name: string, l: (e?: string) => string, counts: number[], sum: number) => {
    const les = ['0.001', '0.005', '0.025', '0.1', '+Inf']
    return [
      ...les.map((le, i) => `${p}${name}_bucket${l(`,le="${le}"`)} ${counts[i]} ${TS}`),
      `${p}${name}_sum${l()} ${sum} ${TS}`,
      `${p}${name}_count${l()} ${counts[counts.length - 1]} ${TS}`,
    ]
  }
  return [
    `# HELP ${p}component_received_events_total component_received_events_total`,
    `# TYPE ${p}component_received_events_total counter`,
    `${p}component_received_events_total${src()} 1200 ${TS}`,
    `${p}component_received_events_total${tr()} 1100 ${TS}`,
    `${p}component_received_events_total${sink()} 1000 ${TS}`,
    `${p}component_received_events_total${weird()} 7 ${TS}`,
    `# HELP ${p}component_sent_events_total component_sent_events_total`,
    `# TYPE ${p}component_sent_events_total counter`,
    `${p}component_sent_events_total${src(',output="_default"')} 1150 ${TS}`,
    `${p}component_sent_events_total${tr(',output="_default"')} 1050 ${TS}`,
    `${p}component_sent_events_total${tr(',output="dropped"')} 3 ${TS}`,
    `# HELP ${p}utilization utilization`,
    `# TYPE ${p}utilization gauge`,
    `${p}utilization${tr()} 0.93 ${TS}`,
    `${p}utilization${sink()} 0.41 ${TS}`,
    `${p}utilization${weird()} NaN ${TS}`,
    `# TYPE ${p}component_latency_seconds histogram`,
    ...histogram('component_latency_seconds', tr, [2, 10, 30, 39, 40], 1.5),
    `# TYPE ${p}component_latency_mean_seconds gauge`,
    `${p}component_latency_mean_seconds${tr()} 0.0375 ${TS}`,
    `# TYPE ${p}source_send_latency_seconds histogram`,
    ...histogram('source_send_latency_seconds', src, [0, 1, 5, 20, 22], 2.25),
    `# TYPE ${p}component_errors_total counter`,
    `${p}component_errors_total${tr(',error_type="conversion_failed",stage="processing"')} 3 ${TS}`,
    `${p}component_errors_total${tr(',error_type="parser_failed",stage="processing"')} 2 ${TS}`,
    `# TYPE ${p}component_discarded_events_total counter`,
    `${p}component_discarded_events_total${tr(',intentional="false"')} 5 ${TS}`,
    `# TYPE ${p}buffer_size_events gauge`,
    `${p}buffer_size_events${sink(',buffer_id="out_http",buffer_type="memory",stage="0"')} 480 ${TS}`,
    `# TYPE ${p}buffer_max_size_events gauge`,
    `${p}buffer_max_size_events${sink(',buffer_id="out_http",buffer_type="memory",stage="0"')} 500 ${TS}`,
    `# TYPE ${p}source_buffer_utilization_mean gauge`,
    `${p}source_buffer_utilization_mean${src()} 0.2 ${TS}`,
    `# TYPE ${p}component_cpu_usage_ns_total counter`,
    `${p}component_cpu_usage_ns_total${tr()} 123456789 ${TS}`,
    `# TYPE ${p}http_client_rtt_seconds histogram`,
    ...histogram('http_client_rtt_seconds', sink, [0, 0, 3, 9, 10], 0.5),
    // Not per component, or not about performance: left out.
    `# TYPE ${p}http_client_requests_sent_total counter`,
    `${p}http_client_requests_sent_total{method="POST"} 10 ${TS}`,
    `# TYPE ${p}uptime_seconds gauge`,
    `${p}uptime_seconds{host="box-1"} 3600 ${TS}`,
    `# TYPE ${p}build_info gauge`,
    `${p}build_info{debug="false",version="0.55.0"} 1 ${TS}`,
    // A kept family without component_id: counted as unattributed.
    `${p}component_errors_total{error_type="reload_failed",stage="topology"} 1 ${TS}`,
    '',
  ].join('\n')
}

async function failure(p: Promise<unknown>): Promise<VdiagError> {
  try {
    await p
  } catch (e) {
    assert.ok(isVdiagError(e), `expected a VdiagError, got ${String(e)}`)
    return e
  }
  assert.fail('expected a failure')
}

describe('exposition parser', () => {
  test('sample lines: labels with escapes, special values, timestamps, tabs, trailing comma, empty braces', () => {
    assert.deepEqual(parseSampleLine('a_b:c{x="1",y="q\\"uo\\\\te\\nnl",} 1.5e3 -42'), {name: 'a_b:c', labels: {x: '1', y: 'q"uo\\te\nnl'}, value: 1500, timestamp: -42})
    assert.deepEqual(parseSampleLine('m{}\t+Inf'), {name: 'm', labels: {}, value: Infinity})
    assert.equal(parseSampleLine('m -Inf').value, -Infinity)
    assert.ok(Number.isNaN(parseSampleLine('m NaN').value))
    assert.equal(parseSampleLine('m { a = "b" } .5').labels.a, 'b')
    assert.ok(Number.isNaN(parseValue('0x10')), 'hex is not an exposition value')
  })

  test('a realistic Vector exposition with the vector_ namespace', () => {
    const scrape = summariseExposition(vectorExposition('vector_'))
    assert.equal(scrape.prefix, 'vector_')
    assert.equal(scrape.skipped_lines, 0)
    assert.deepEqual(Object.keys(scrape.components).sort(), ['in_files', 'out_http', 'parse', WEIRD_ID].sort())
    const parse = scrape.components.parse!
    assert.equal(parse.kind, 'transform')
    assert.equal(parse.type, 'remap')
    assert.deepEqual(parse.metrics.utilization, [{value: 0.93, ts: TS}])
    assert.deepEqual(parse.metrics.component_latency_seconds, [
      {sum: 1.5, count: 40, buckets: [[0.001, 2], [0.005, 10], [0.025, 30], [0.1, 39]], ts: TS},
    ])
    assert.deepEqual(
      parse.metrics.component_errors_total!.map((s) => [s.labels?.error_type, s.value]),
      [['conversion_failed', 3], ['parser_failed', 2]],
    )
    assert.deepEqual(parse.metrics.component_sent_events_total!.map((s) => s.labels), [{output: '_default'}, {output: 'dropped'}])
    assert.equal(parse.metrics.component_cpu_usage_ns_total![0]!.value, 123456789)
    assert.equal(parse.metrics.component_discarded_events_total![0]!.labels!.intentional, 'false')
    const sink = scrape.components.out_http!
    assert.equal(sink.metrics.buffer_size_events![0]!.value, 480)
    assert.equal(sink.metrics.buffer_max_size_events![0]!.value, 500)
    assert.equal(sink.metrics.buffer_size_events![0]!.labels!.buffer_type, 'memory')
    assert.equal(sink.metrics.http_client_rtt_seconds![0]!.count, 10)
    const source = scrape.components.in_files!
    assert.equal(source.metrics.source_send_latency_seconds![0]!.sum, 2.25)
    assert.equal(source.metrics.source_buffer_utilization_mean![0]!.value, 0.2)
    // NaN is legal in the exposition and has no JSON form.
    assert.deepEqual(scrape.components[WEIRD_ID]!.metrics.utilization, [{value: null, ts: TS}])
    // host never becomes a series label; unrelated families are gone.
    assert.ok(!JSON.stringify(scrape.components).includes('box-1'))
    for (const name of ['uptime_seconds', 'build_info', 'http_client_requests_sent_total']) assert.equal(scrape.types[name], undefined)
    assert.equal(scrape.types.component_latency_seconds, 'histogram')
    assert.equal(scrape.types.utilization, 'gauge')
    assert.equal(scrape.unattributed, 1)
  })

  test('the same exposition without a namespace, and with a custom one, gives the same components', () => {
    const withPrefix = summariseExposition(vectorExposition('vector_'))
    const bare = summariseExposition(vectorExposition(''))
    const custom = summariseExposition(vectorExposition('edge_'))
    assert.equal(bare.prefix, '')
    assert.equal(custom.prefix, 'edge_')
    assert.deepEqual(bare.components, withPrefix.components)
    assert.deepEqual(custom.components, withPrefix.components)
    // An explicit prefix wins over detection: nothing matches `vector_` in the bare text.
    assert.deepEqual(summariseExposition(vectorExposition(''), {prefix: 'vector_'}).components, {})
  })

  test('prefix detection ignores buffer families and prefers vector_ on a tie', () => {
    assert.equal(detectPrefix(['vector_source_buffer_utilization', 'vector_utilization', 'vector_component_errors_total']), 'vector_')
    assert.equal(detectPrefix(['x_utilization', 'vector_utilization']), 'vector_')
    assert.equal(detectPrefix(['http_requests_total', 'process_cpu_seconds_total']), null)
    assert.equal(summariseExposition('http_requests_total 3\n').prefix, null)
    // Without any anchor family, the performance families still tell the prefix.
    assert.equal(detectPrefix(['edge_source_buffer_utilization', 'edge_component_latency_seconds', 'process_cpu_seconds_total']), 'edge_')
  })

  test('malformed lines are skipped and counted, never fatal; the rest is kept', () => {
    const good = vectorExposition('vector_')
    const bad = [
      'vector_utilization{component_id="a" 0.5',
      'vector_utilization{component_id="b"} abc',
      'vector_utilization{component_id="c"} 1 2 3',
      'vector_utilization{component_id="d"} 1 1.5',
      'vector_utilization{component_id="e",component_id="f"} 1',
      'vector_utilization{component_id="g\\t"} 1',
      '# TYPE vector_utilization gauge',
      '# TYPE vector_weird nonsense',
      'vector_component_latency_seconds_bucket{component_id="parse"} 3',
      'vector_component_latency_seconds{component_id="parse"} 3',
      `vector_utilization${labels('parse', 'transform', 'remap')} 0.1 ${TS}`,
      '!!! garbage',
    ]
    const text = good.replace('# TYPE vector_component_errors_total counter', `${bad.join('\n')}\n# TYPE vector_component_errors_total counter`)
    const scrape = summariseExposition(text)
    assert.equal(scrape.skipped_lines, bad.length)
    assert.equal(scrape.problems!.length, 5)
    assert.match(scrape.problems![0]!, /^line \d+: labels are not separated by ",": "vector_utilization\{component_id=\\"a\\" 0.5"$/)
    // Every good line still counts: the first utilization of `parse` is kept, the duplicate is not.
    assert.deepEqual(scrape.components.parse!.metrics.utilization, [{value: 0.93, ts: TS}])
    assert.deepEqual(Object.keys(scrape.components).sort(), Object.keys(summariseExposition(good).components).sort())
    // Unparsed families are only checked; the kept ones hold samples.
    const parsed = parseExposition(text, {keep: (name) => name === 'vector_utilization'})
    assert.deepEqual([...parsed.families.keys()], ['vector_utilization'])
    assert.equal(parsed.skipped, bad.length)
  })

  test('summaries (distributions_as_summaries) fold into quantiles; a histogram without _count takes +Inf', () => {
    const text = [
      '# TYPE vector_component_latency_seconds summary',
      'vector_component_latency_seconds{component_id="t",quantile="0.99"} 0.2',
      'vector_component_latency_seconds{component_id="t",quantile="0.5"} 0.01',
      'vector_component_latency_seconds_sum{component_id="t"} 4',
      'vector_component_latency_seconds_count{component_id="t"} 100',
      '# TYPE vector_http_client_rtt_seconds histogram',
      'vector_http_client_rtt_seconds_bucket{component_id="s",le="+Inf"} 7',
      'vector_http_client_rtt_seconds_bucket{component_id="s",le="0.5"} 6',
      'vector_http_client_rtt_seconds_sum{component_id="s"} 1.25',
      '',
    ].join('\n')
    const scrape = summariseExposition(text)
    assert.equal(scrape.skipped_lines, 0)
    assert.deepEqual(scrape.components.t!.metrics.component_latency_seconds, [{quantiles: [[0.5, 0.01], [0.99, 0.2]], sum: 4, count: 100}])
    assert.deepEqual(scrape.components.s!.metrics.http_client_rtt_seconds, [{buckets: [[0.5, 6]], sum: 1.25, count: 7}])
    assert.equal(scrape.types.component_latency_seconds, 'summary')
  })

  test('CRLF line ends, blank lines and free comments are accepted', () => {
    const text = '# a free comment\r\n\r\n# TYPE vector_utilization gauge\r\nvector_utilization{component_id="x"} 0.5\r\n'
    const scrape = summariseExposition(text)
    assert.equal(scrape.skipped_lines, 0)
    assert.equal(scrape.components.x!.metrics.utilization![0]!.value, 0.5)
  })
})

describe('scraping over HTTP', () => {
  const servers: {close(): Promise<void>}[] = []
  after(async () => {
    for (const s of servers) await s.close()
  })
  const serve = async (handler: http.RequestListener) => {
    const s = await startHttp(handler)
    servers.push(s)
    return s
  }
  const text = (body: string, type = 'text/plain; version=0.0.4'): http.RequestListener => (_req, res) => {
    res.writeHead(200, {'content-type': type, 'content-length': Buffer.byteLength(body)})
    res.end(body)
  }

  test('scrapeOnce reads and summarises a real exposition; the probe finds it', T, async () => {
    const s = await serve(text(vectorExposition('vector_')))
    const scrape = await scrapeOnce(`${s.url}/metrics`)
    assert.equal(scrape.prefix, 'vector_')
    assert.equal(Object.keys(scrape.components).length, 4)
    const probe = await probeMetricsUrl(`${s.url}/metrics`, {explicit: true})
    assert.equal(probe.found, true)
    assert.equal(probe.http_status, 200)
    assert.equal(probe.components, 4)
    assert.equal(probe.explicit, true)
  })

  test('a server that never answers: the scrape gives up after its timeout, the probe says not found', T, async () => {
    const s = await serve(() => undefined)
    const e = await failure(scrapeOnce(`${s.url}/metrics`, {timeoutMs: 300}))
    assert.equal(e.code, 'failed')
    assert.match(e.message, /could not scrape the Prometheus metrics at .*: no complete reply within 300 ms/)
    assert.ok(e.hint?.includes('prometheus_exporter'))
    const probe = await probeMetricsUrl(`${s.url}/metrics`, {timeoutMs: 300})
    assert.equal(probe.found, false)
    assert.match(probe.reason, /300 ms/)
  })

  test('garbage, HTML, JSON, 404 and oversized bodies are failures with plain reasons', T, async () => {
    const garbage = await serve(text('hello world\nthis is { not prometheus\n'))
    assert.match((await failure(scrapeOnce(garbage.url))).message, /none of the 2 lines of the reply is a Prometheus sample/)
    const html = await serve(text('<html><body>login</body></html>', 'text/html'))
    assert.match((await failure(scrapeOnce(html.url))).message, /not a Prometheus text exposition \(content-type text\/html\)/)
    const json = await serve(text('{"ok":true}', 'application/json'))
    assert.match((await failure(scrapeOnce(json.url))).message, /not a Prometheus text exposition/)
    const missing = await serve((_req, res) => res.writeHead(404).end())
    const e404 = await failure(scrapeOnce(`${missing.url}/metrics`))
    assert.match(e404.message, /HTTP 404/)
    assert.equal((await probeMetricsUrl(`${missing.url}/metrics`)).http_status, 404)
    const big = await serve(text(vectorExposition('vector_')))
    assert.match((await failure(scrapeOnce(big.url, {maxBytes: 1000}))).message, /larger than 1000 bytes/)
  })

  test('nothing listening, a bad URL, an abort', T, async () => {
    const port = await closedPort()
    const refused = await failure(scrapeOnce(`http://127.0.0.1:${port}/metrics`))
    assert.match(refused.message, /refused/)
    const probe = await probeMetricsUrl(`http://127.0.0.1:${port}/metrics`)
    assert.deepEqual([probe.found, probe.explicit, probe.http_status], [false, false, null])
    assert.match(probe.reason, /refused/)
    assert.equal((await failure(scrapeOnce('ftp://127.0.0.1/metrics'))).code, 'usage')
    assert.match((await failure(scrapeOnce('not a url'))).message, /--metrics-url/)
    const slow = await serve(() => undefined)
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 50)
    assert.equal((await failure(scrapeOnce(slow.url, {signal: ac.signal, timeoutMs: 10_000}))).code, 'interrupted')
  })

  test('a non-Vector exposition answers but is not "found"', T, async () => {
    const s = await serve(text('# TYPE http_requests_total counter\nhttp_requests_total{code="200"} 3\n'))
    const probe = await probeMetricsUrl(s.url)
    assert.equal(probe.found, false)
    assert.equal(probe.http_status, 200)
    assert.match(probe.reason, /without Vector's internal metrics/)
  })

  test('recording scrapes writes one NDJSON line per scrape in order, failures included', T, async () => {
    let requests = 0
    const s = await serve((req, res) => {
      requests++
      if (requests === 2) return void res.writeHead(500).end()
      text(vectorExposition('vector_'))(req, res)
    })
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vdiag-prom-'))
    try {
      const file = path.join(dir, 'prometheus.ndjson')
      let now = 1000
      const clock = {now: () => (now += 250), wall: () => new Date(TS)}
      const recorder = new PhaseRecorder({file, field: 'scrape', source: prometheusSource(`${s.url}/metrics`), failed: null as PrometheusScrape | null, clock, t0: 1000})
      const first = recorder.take('start')
      const second = recorder.take('interval')
      const third = recorder.take('end')
      assert.equal((await second).error !== undefined, true)
      await Promise.all([first, third])
      await recorder.close()
      assert.equal(recorder.taken, 3)
      assert.equal(recorder.failed, 1)
      const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as PrometheusRecord)
      assert.deepEqual(lines.map((l) => [l.seq, l.phase]), [[0, 'start'], [1, 'interval'], [2, 'end']])
      assert.deepEqual(lines.map((l) => l.t_ms), [250, 500, 750])
      assert.equal(lines[1]!.scrape, null)
      assert.match(lines[1]!.error!, /HTTP 500/)
      assert.equal(lines[2]!.scrape!.components.parse!.metrics.utilization![0]!.value, 0.93)
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })
})

describe("the real demo's /metrics", () => {
  test('samples for all three components, utilization within 0..1, the timing histograms present', {timeout: 120_000}, async () => {
    const demo = await spawnDemo()
    try {
      const probe = await probeMetricsUrl(demo.metrics, {timeoutMs: 5_000})
      assert.equal(probe.found, true, probe.reason)
      assert.equal(probe.prefix, 'vector_')
      // Events flow within a few seconds; poll (bounded) until the source has read some.
      let scrape = await scrapeOnce(demo.metrics)
      const deadline = Date.now() + 30_000
      while ((scrape.components.app_logs?.metrics.component_received_events_total?.[0]?.value ?? 0) === 0) {
        assert.ok(Date.now() < deadline, 'the demo source received no events within 30 s')
        await new Promise((r) => setTimeout(r, 200))
        scrape = await scrapeOnce(demo.metrics)
      }
      assert.equal(scrape.skipped_lines, 0)
      assert.deepEqual(Object.keys(scrape.components).sort(), ['app_logs', 'http_out', 'parse_logs'])
      for (const [id, c] of Object.entries(scrape.components)) {
        const u = c.metrics.utilization?.[0]?.value
        assert.equal(typeof u, 'number', `${id} has utilization`)
        assert.ok(u! >= 0 && u! <= 1, `${id} utilization ${u} within 0..1`)
        assert.ok(c.metrics.component_errors_total, `${id} has component_errors_total`)
      }
      assert.deepEqual(
        [scrape.components.app_logs!.kind, scrape.components.parse_logs!.kind, scrape.components.http_out!.kind],
        ['source', 'transform', 'sink'],
      )
      const send = scrape.components.app_logs!.metrics.source_send_latency_seconds![0]!
      assert.ok(send.buckets!.length > 0 && typeof send.count === 'number')
      assert.ok(scrape.components.parse_logs!.metrics.component_latency_seconds![0]!.buckets!.length > 0)
      assert.equal(scrape.types.source_send_latency_seconds, 'histogram')
    } finally {
      await demo.stop()
    }
  })
})
