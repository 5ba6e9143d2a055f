import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {after, describe, test} from 'node:test'
import YAML from 'yaml'
import {parse as parseToml} from 'smol-toml'
import {collectConfigs, type CollectedConfigs} from '../../src/capture/config-files.js'
import {protectReferences} from '../../src/capture/config/references.js'
import {globToRegExp} from '../../src/capture/config/topology.js'
import {Redactor} from '../../src/bundle/redaction.js'

const work = mkdtempSync(path.join(os.tmpdir(), 'vdiag-config-test-'))
after(() => rmSync(work, {recursive: true, force: true}))

/** Every planted secret: none may appear anywhere in what collectConfigs returns. */
const SECRETS = {
  kafkaPassword: 'kafka-Pa55word!',
  esUrlPassword: 'Sup3rS3cretInUrl',
  esPassword: 'hunter2-es-basic',
  awsKeyId: 'AKIAIOSFODNN7EXAMPLE',
  awsSecret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  pgDefault: 'changeme-default-pw',
  commentKey: '0f1e2d3c4b5a69788796a5b4c3d2e1f0',
  bearer: 'abcdefghijklmnop123456bearer',
  headerApiKey: 'plain-header-apikey-778899',
  lokiUrlPassword: 'lokipass-in-url',
  lokiToken: 'loki-token-xyz-4242',
  brokenYaml: 's3cr3t-in-broken-yaml',
  brokenJson: 'hunter2-in-broken-json',
  brokenToml: 'hunter2-in-broken-toml',
  componentFileToken: 'token-in-component-file-55',
  execPassword: 'exec-argv-password-1',
  execApiKey: 'exec-argv-apikey-2',
}

const VECTOR_YAML = `# Production pipeline
# old key, do not use: default_api_key: ${SECRETS.commentKey}
data_dir: /var/lib/vector
api:
  enabled: true
  address: 127.0.0.1:8686
sources:
  app_web:
    type: file
    include: [/var/log/web/*.log]
  app_worker:
    type: file
    include: [/var/log/worker/*.log]
  auth_logs:
    type: journald
    include_units: [sshd]
  queue_depth:
    type: exec
    mode: scheduled
    command: ["/usr/local/bin/queue-stats", "--user", "monitor", "--password", "${SECRETS.execPassword}", "--api-key=${SECRETS.execApiKey}", "--token", "\${QUEUE_TOKEN}"]
  kafka_in:
    type: kafka
    bootstrap_servers: kafka.internal:9092
    group_id: vector
    topics: [events]
    sasl:
      enabled: true
      mechanism: PLAIN
      username: vector
      password: "${SECRETS.kafkaPassword}"
transforms:
  parse:
    type: remap
    inputs: ["app_*"]
    source: |
      . = parse_json!(.message)
      .env = "\${DEPLOY_ENV:-prod}"
  router:
    type: route
    inputs: [parse, kafka_in]
    route:
      errors: '.level == "error"'
      audit: '.kind == "audit"'
sinks:
  datadog:
    type: datadog_logs
    inputs: ["router.errors"]
    default_api_key: "\${DD_API_KEY}"
    site: "\${DD_SITE:-datadoghq.com}"
  es:
    type: elasticsearch
    inputs: ["router.audit", "auth_logs"]
    endpoints: ["https://elastic:${SECRETS.esUrlPassword}@es.internal:9200"]
    auth:
      strategy: basic
      user: elastic
      password: "${SECRETS.esPassword}"
  archive:
    type: aws_s3
    inputs: ["router._unmatched"]
    bucket: logs-archive
    region: eu-west-1
    auth:
      access_key_id: ${SECRETS.awsKeyId}
      secret_access_key: "${SECRETS.awsSecret}"
  pg:
    type: postgres
    inputs: [parse]
    endpoint: "postgres://vector@db.internal/logs"
    password: "\${PG_PASSWORD:-${SECRETS.pgDefault}}"
  lost:
    type: blackhole
    inputs: ["no_such_component", "nothing_*"]
`

const METRICS_TOML = `# metrics pipeline
[secret.vault]
type = "exec"
command = ["/usr/local/bin/vault-secrets", "--path", "kv/vector"]

[sources.metrics_in]
type = "internal_metrics"
scrape_interval_secs = 2

[sinks.dd_metrics]
type = "datadog_metrics"
inputs = ["metrics_in"]
default_api_key = "SECRET[vault.dd_key]"

[sinks.http_out]
type = "http"
inputs = ["metrics_in"]
uri = "https://hooks.example.com/ingest"
encoding.codec = "json"

[sinks.http_out.request.headers]
Authorization = "Bearer ${SECRETS.bearer}"
X-Api-Key = "${SECRETS.headerApiKey}"
`

const LOKI_JSON = JSON.stringify(
  {
    sources: {syslog_in: {type: 'syslog', address: '0.0.0.0:514', mode: 'tcp'}},
    sinks: {
      loki: {
        type: 'loki',
        inputs: ['syslog_in'],
        endpoint: `http://vector:${SECRETS.lokiUrlPassword}@loki.internal:3100`,
        auth: {strategy: 'bearer', token: SECRETS.lokiToken},
        encoding: {codec: 'json'},
        labels: {app: 'syslog'},
      },
    },
  },
  null,
  2,
)

function write(rel: string, text: string): string {
  const p = path.join(work, rel)
  mkdirSync(path.dirname(p), {recursive: true})
  writeFileSync(p, text)
  return p
}

function everything(c: CollectedConfigs, r: Redactor): string {
  return JSON.stringify(c.collection) + c.documents.map((d) => d.text).join('\n') + JSON.stringify(r.audit())
}

function doc(c: CollectedConfigs, entrySuffix: string): string {
  const d = c.documents.find((x) => x.entry.endsWith(entrySuffix))
  assert.ok(d, `no document ending in ${entrySuffix}: ${c.documents.map((x) => x.entry).join(', ')}`)
  return d.text
}

function edgeSet(c: CollectedConfigs): string[] {
  return c.collection.edges.map((e) => `${e.from}${e.output ? `.${e.output}` : ''} -> ${e.to} (${e.input})`).sort()
}

describe('collectConfigs', {timeout: 60_000}, () => {
  test('a directory of YAML, TOML and JSON files, a broken file and a per-type component folder', async () => {
    const dir = path.join(work, 'etc-vector')
    write('etc-vector/vector.yaml', VECTOR_YAML)
    write('etc-vector/metrics.toml', METRICS_TOML)
    write('etc-vector/loki.json', LOKI_JSON)
    write('etc-vector/broken.yaml', `sinks:\n  bad:\n    password: ${SECRETS.brokenYaml}: oops\n`)
    write('etc-vector/README.md', `not a config, password: never-read\n`)
    write('etc-vector/sinks/archive_blackhole.toml', `type = "blackhole"\ninputs = ["metrics_in"]\nauth.token = "${SECRETS.componentFileToken}"\n`)
    write('etc-vector/transforms/tag_metrics.yaml', `type: remap\ninputs: [metrics_in]\nsource: .tags.env = "prod"\n`)

    const redactor = new Redactor()
    const c = await collectConfigs([dir], redactor)
    const all = everything(c, redactor)

    // No planted secret survives anywhere: documents, index, audit.
    for (const [name, secret] of Object.entries(SECRETS)) assert.ok(!all.includes(secret), `${name} leaked`)
    assert.ok(!all.includes('never-read'), 'README.md was read')

    // Files: root files sorted by name, then the per-type folders; the broken one recorded and left out.
    assert.deepEqual(
      c.collection.files.map((f) => [path.relative(dir, f.source), f.ok, f.entry, f.layout]),
      [
        ['broken.yaml', false, null, 'config'],
        ['loki.json', true, 'config/01-loki.json', 'config'],
        ['metrics.toml', true, 'config/02-metrics.toml', 'config'],
        ['vector.yaml', true, 'config/03-vector.yaml', 'config'],
        ['transforms/tag_metrics.yaml', true, 'config/04-transforms-tag_metrics.yaml', 'component'],
        ['sinks/archive_blackhole.toml', true, 'config/05-sinks-archive_blackhole.toml', 'component'],
      ],
    )
    const broken = c.collection.files[0]!
    assert.match(broken.error!, /^invalid YAML: .*line 3, column \d+/)
    assert.equal(broken.format, 'yaml')
    assert.deepEqual(c.collection.errors.map((e) => path.basename(e.source)), ['broken.yaml'])
    assert.equal(c.documents.length, 5)
    assert.deepEqual(c.collection.files[3]!.components, ['app_web', 'app_worker', 'auth_logs', 'queue_depth', 'kafka_in', 'parse', 'router', 'datadog', 'es', 'archive', 'pg', 'lost'])

    // References stay visible as such; a default that could be a secret is judged like a value.
    const yamlText = doc(c, 'vector.yaml')
    const tomlText = doc(c, 'metrics.toml')
    assert.ok(yamlText.includes('${DD_API_KEY}'), yamlText)
    assert.ok(yamlText.includes('${DD_SITE:-datadoghq.com}'))
    assert.ok(yamlText.includes('${DEPLOY_ENV:-prod}'))
    assert.ok(yamlText.includes('${PG_PASSWORD:-[REDACTED:key-password]}'))
    assert.ok(tomlText.includes('SECRET[vault.dd_key]'), tomlText)
    assert.ok(!yamlText.includes('Production pipeline'), 'comments are not kept')

    // Each copy is a valid file of its own format and redacted key by key.
    const y = YAML.parse(yamlText) as {sources: Record<string, Record<string, unknown>>; sinks: Record<string, Record<string, unknown>>; data_dir: string}
    assert.equal(y.data_dir, '/var/lib/vector')
    assert.equal(y.sinks.datadog!.default_api_key, '${DD_API_KEY}')
    assert.equal((y.sources.kafka_in!.sasl as Record<string, unknown>).password, '[REDACTED:key-password]')
    assert.equal((y.sources.kafka_in!.sasl as Record<string, unknown>).username, 'vector')
    assert.deepEqual(y.sinks.es!.endpoints, ['https://[REDACTED:url-credentials]@es.internal:9200'])
    assert.equal((y.sinks.es!.auth as Record<string, unknown>).password, '[REDACTED:key-authorization]')
    assert.equal((y.sinks.archive!.auth as Record<string, unknown>).secret_access_key, '[REDACTED:key-authorization]')
    assert.equal(y.sinks.archive!.bucket, 'logs-archive')
    // Command lines: the value after a sensitive flag goes, references and harmless flags stay.
    assert.deepEqual(y.sources.queue_depth!.command, ['/usr/local/bin/queue-stats', '--user', 'monitor', '--password', '[REDACTED:key-password]', '--api-key=[REDACTED:key-api-key]', '--token', '${QUEUE_TOKEN}'])
    // A component whose id looks like a sensitive key is not redacted whole.
    assert.equal(y.sources.auth_logs!.type, 'journald')
    assert.deepEqual(y.sources.auth_logs!.include_units, ['sshd'])

    const t = parseToml(tomlText) as {sinks: Record<string, Record<string, unknown>>; secret: Record<string, Record<string, unknown>>}
    assert.equal(t.sinks.dd_metrics!.default_api_key, 'SECRET[vault.dd_key]')
    const headers = (t.sinks.http_out!.request as {headers: Record<string, string>}).headers
    assert.equal(headers.Authorization, '[REDACTED:key-authorization]')
    assert.equal(headers['X-Api-Key'], '[REDACTED:key-api-key]')
    assert.equal(t.sinks.http_out!.uri, 'https://hooks.example.com/ingest')
    // Secret-backend settings sit under a sensitive key: redacted whole.
    assert.equal(t.secret.vault!.type, '[REDACTED:key-secret]')

    const j = JSON.parse(doc(c, 'loki.json')) as {sinks: {loki: Record<string, unknown>}}
    assert.equal(j.sinks.loki.endpoint, 'http://[REDACTED:url-credentials]@loki.internal:3100')
    assert.deepEqual(j.sinks.loki.labels, {app: 'syslog'})

    const component = parseToml(doc(c, 'sinks-archive_blackhole.toml')) as Record<string, unknown>
    assert.equal(component.type, 'blackhole')

    // The audit says where each redaction happened, per bundle entry.
    const audit = redactor.audit()
    const places = audit.hits.flatMap((h) => h.where.map((w) => `${h.rule} ${w.file} ${w.field}`))
    assert.ok(places.includes('key-password config/03-vector.yaml sasl.password'), places.join('\n'))
    assert.ok(places.includes('url-credentials config/03-vector.yaml endpoints[]'), places.join('\n'))
    assert.ok(places.includes('key-password config/03-vector.yaml password'), places.join('\n'))

    // Components and edges across all files, with a wildcard, named route outputs and a per-type folder.
    const kinds = Object.fromEntries(c.collection.components.map((x) => [x.id, `${x.kind}:${x.type}`]))
    assert.equal(kinds.router, 'transform:route')
    assert.equal(kinds.archive_blackhole, 'sink:blackhole')
    assert.equal(kinds.tag_metrics, 'transform:remap')
    assert.equal(kinds.loki, 'sink:loki')
    assert.deepEqual(c.collection.components.find((x) => x.id === 'router')!.outputs, ['errors', 'audit', '_unmatched'])
    assert.deepEqual(edgeSet(c), [
      'app_web -> parse (app_*)',
      'app_worker -> parse (app_*)',
      'auth_logs -> es (auth_logs)',
      'kafka_in -> router (kafka_in)',
      'metrics_in -> archive_blackhole (metrics_in)',
      'metrics_in -> dd_metrics (metrics_in)',
      'metrics_in -> http_out (metrics_in)',
      'metrics_in -> tag_metrics (metrics_in)',
      'parse -> pg (parse)',
      'parse -> router (parse)',
      'router._unmatched -> archive (router._unmatched)',
      'router.audit -> es (router.audit)',
      'router.errors -> datadog (router.errors)',
      'syslog_in -> loki (syslog_in)',
    ])
    assert.deepEqual(c.collection.unresolved_inputs, [
      {component: 'lost', input: 'no_such_component'},
      {component: 'lost', input: 'nothing_*'},
    ])
  })

  test('files given one by one: broken JSON and TOML and a missing path are recorded, never fatal', async () => {
    const good = write('single/pipeline.yml', 'sources:\n  in:\n    type: stdin\nsinks:\n  out:\n    type: console\n    inputs: [in]\n    encoding: {codec: json}\n')
    const badJson = write('single/bad.json', `{"sinks": {"x": {"type": "http", "password": ${SECRETS.brokenJson}}}}`)
    const badToml = write('single/bad.toml', `[sinks.x]\npassword = ${SECRETS.brokenToml}\n`)
    const listJson = write('single/list.json', '[1, 2]')
    const missing = path.join(work, 'single', 'missing.yaml')
    const noExt = write('single/vector-config', '[sources.in]\ntype = "stdin"\n')
    const emptyDir = path.join(work, 'single', 'empty')
    mkdirSync(emptyDir)
    // The same file twice (directly and through a link) is collected once.
    symlinkSync(good, path.join(work, 'single', 'link.yml'))

    const redactor = new Redactor()
    const c = await collectConfigs([good, badJson, badToml, listJson, missing, noExt, emptyDir, path.join(work, 'single', 'link.yml')], redactor)
    const all = everything(c, redactor)
    for (const [name, secret] of Object.entries(SECRETS)) assert.ok(!all.includes(secret), `${name} leaked`)

    const byName = new Map(c.collection.files.map((f) => [path.basename(f.source), f]))
    assert.equal(byName.get('pipeline.yml')!.ok, true)
    assert.equal(byName.get('link.yml'), undefined)
    assert.match(byName.get('bad.json')!.error!, /^invalid JSON: /)
    assert.match(byName.get('bad.toml')!.error!, /^invalid TOML: .*line 2, column \d+/)
    assert.match(byName.get('list.json')!.error!, /top level is a list/)
    assert.match(byName.get('missing.yaml')!.error!, /no such file/)
    assert.match(byName.get('empty')!.error!, /holds no \.yaml/)
    assert.equal(byName.get('vector-config')!.ok, true)
    assert.equal(byName.get('vector-config')!.format, 'toml')
    assert.equal(c.collection.errors.length, 5)
    assert.deepEqual(c.documents.map((d) => d.entry), ['config/01-pipeline.yml', 'config/02-vector-config'])
    assert.deepEqual(edgeSet(c), ['in -> out (in)'])
  })

  test('an empty path list gives an empty collection', async () => {
    const c = await collectConfigs([], new Redactor())
    assert.deepEqual(c.collection, {files: [], components: [], edges: [], unresolved_inputs: [], errors: [], warnings: []})
    assert.deepEqual(c.documents, [])
  })
})

describe('reference protection', () => {
  test('strings without references are not touched', () => {
    assert.equal(protectReferences('plain value'), null)
    assert.equal(protectReferences('costs $$5'), null)
  })

  test('mixed text keeps references and still redacts the text around them', () => {
    const r = new Redactor()
    const run = (key: string, value: string) => {
      const p = protectReferences(value)!
      const out = r.redactJson({[key]: p.standIn}, 'config/01-x.yaml') as Record<string, string>
      return p.restore(out[key]!)
    }
    assert.equal(run('header', 'Bearer ${TOKEN}'), 'Bearer ${TOKEN}')
    assert.equal(run('endpoint', 'https://${HOST}:${PORT}/v1'), 'https://${HOST}:${PORT}/v1')
    // Credentials in a URL around a reference: the whole userinfo goes, the reference with it.
    assert.equal(run('endpoint', 'postgres://admin:Hunter2xx${SUFFIX}@db/x'), 'postgres://[REDACTED:url-credentials]@db/x')
    assert.equal(run('api_key', '${DD_API_KEY}'), '${DD_API_KEY}')
    assert.equal(run('api_key', '${DD_API_KEY:?set DD_API_KEY}'), '${DD_API_KEY:?[REDACTED:key-api-key]}')
    assert.equal(run('api_key', 'SECRET[vault.dd_key]'), 'SECRET[vault.dd_key]')
    assert.equal(run('password', ' $DB_PASS '), ' $DB_PASS ')
    // Literal text next to a reference under a sensitive key could be part of the secret.
    assert.equal(run('password', 'prefix-${DB_PASS}'), '[REDACTED:key-password]')
  })
})

describe('input globs', () => {
  test('Rust glob syntax', () => {
    assert.ok(globToRegExp('app_*')!.test('app_web'))
    assert.ok(!globToRegExp('app_*')!.test('web_app'))
    assert.ok(globToRegExp('*')!.test('router.errors'))
    assert.ok(globToRegExp('r?uter.*')!.test('router.audit'))
    assert.ok(globToRegExp('[ab]*')!.test('beta'))
    assert.ok(!globToRegExp('[!ab]*')!.test('beta'))
    assert.equal(globToRegExp('[abc'), null)
    assert.equal(globToRegExp('a**'), null)
  })
})
