import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {MAX_WHERE_PER_RULE, REDACTION_RULES_VERSION, Redactor} from '../../src/bundle/redaction.js'

const ADMIN_TOKEN = 'adm1n-T0ken-4-vdiag-9f8e7d'
const KNOWN_SHORT_FLAG_SECRET = 'kn0wnSecretGivenWith-t'

interface Planted {
  name: string
  /** The exact secret that must not survive. */
  secret: string
  /** Runs the redactor over an input holding `secret` and returns everything it produced, serialised. */
  run: (r: Redactor) => string
}

const PEM_BODY = 'MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB'
const PEM = `-----BEGIN RSA PRIVATE KEY-----\n${PEM_BODY}\naG9wZWZ1bGx5IG5vdCBhIHJlYWwga2V5\n-----END RSA PRIVATE KEY-----`
const SSH_BODY = 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW'
const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'

const text = (input: string, field?: string) => (r: Redactor) => r.redactText(input, 'vdiag.log', field)
const json = (input: unknown) => (r: Redactor) => JSON.stringify(r.redactJson(input, 'host/facts.json'))
const argv = (input: string[]) => (r: Redactor) => JSON.stringify(r.redactArgv(input))
const span = (s: {service?: string; name?: string; resource?: string; type?: string; meta?: Record<string, string>}) => (r: Redactor) => {
  const copy = {...s, meta: s.meta ? {...s.meta} : undefined}
  r.redactSpanFields(copy, 'spans/spans.ndjson.gz')
  return JSON.stringify(copy)
}

const CORPUS: Planted[] = [
  // free text
  {name: 'postgres URL password', secret: 'Pg-Sup3r-S3cret', run: text('connecting to postgres://app:Pg-Sup3r-S3cret@db.internal:5432/app')},
  {name: 'token as URL user', secret: 'tok3nAsUserName991', run: text('git clone https://tok3nAsUserName991@git.example.com/org/repo.git')},
  {name: 'bearer header', secret: 'vF9dft4qmTc2Nvb3RlckBleGFtcGxlLmNvbQ', run: text('> Authorization: Bearer vF9dft4qmTc2Nvb3RlckBleGFtcGxlLmNvbQ')},
  {name: 'basic header', secret: 'YWxhZGRpbjpvcGVuc2VzYW1l', run: text('curl -H "Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l" http://127.0.0.1/')},
  {name: 'JWT in prose', secret: JWT.split('.')[1]!, run: text(`session established with ${JWT} for user`)},
  {name: 'PEM RSA block', secret: PEM_BODY, run: text(`key file:\n${PEM}\ndone`)},
  {name: 'PEM cut off', secret: SSH_BODY, run: text(`-----BEGIN OPENSSH PRIVATE KEY-----\n${SSH_BODY}`)},
  {name: 'AWS access key id', secret: 'AKIAIOSFODNN7EXAMPLE', run: text('using AKIAIOSFODNN7EXAMPLE for s3')},
  {name: 'AWS temporary key id', secret: 'ASIAY34FZKBOKMUTVV7A', run: text('sts returned ASIAY34FZKBOKMUTVV7A')},
  {name: 'AWS secret key keyed', secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', run: text('aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')},
  {name: 'Datadog API key', secret: '5f2b3c4d6e7f80912a3b4c5d6e7f8091', run: text('forwarding with 5f2b3c4d6e7f80912a3b4c5d6e7f8091 to intake')},
  {name: 'Datadog app key', secret: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', run: text('app a1b2c3d4e5f60718293a4b5c6d7e8f9012345678 ok')},
  {name: 'Datadog key in header line', secret: '0a1b2c3d4e5f60718293a4b5c6d7e8f9', run: text('DD-API-KEY: 0a1b2c3d4e5f60718293a4b5c6d7e8f9')},
  {name: 'GitHub classic token', secret: 'ghp_16C7e42F292c6912E7710c838347Ae178B4a', run: text('GITHUB=ghp_16C7e42F292c6912E7710c838347Ae178B4a')},
  {name: 'GitHub fine-grained token', secret: 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz', run: text('token github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz used')},
  {name: 'Slack bot token', secret: 'xoxb-2837465019-Zq8s7d6f5g4h3j2k', run: text('slack xoxb-2837465019-Zq8s7d6f5g4h3j2k')},
  {name: 'Slack webhook', secret: 'T0001/B0002/XXXXabcdYYYY1234', run: text('post to https://hooks.slack.com/services/T0001/B0002/XXXXabcdYYYY1234')},
  {name: 'Stripe live key', secret: 'sk_live_4eC39HqLyjWDarjtT1zdp7dc', run: text('stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc')},
  {name: 'password in query string', secret: 'qsPassw0rd', run: text('GET /login?user=bob&password=qsPassw0rd&next=/')},
  {name: 'SQL Server connection string', secret: 'C0nnStr!ngPwd', run: text('Server=db;User Id=sa;Password=C0nnStr!ngPwd;Database=app')},
  {name: 'libpq key/value', secret: 'libpqS3cret', run: text('host=db user=app password=libpqS3cret dbname=app')},
  {name: 'JSON client_secret', secret: 'cl1ent-secret-value', run: text('{"client_id": "abc", "client_secret": "cl1ent-secret-value"}')},
  {name: 'YAML api_key', secret: 'yamlApiKeyValue123', run: text('sinks:\n  dd:\n    api_key: yamlApiKeyValue123\n')},
  {name: 'escaped JSON in a log line', secret: 'escapedTok3n', run: text('msg="{\\"token\\":\\"escapedTok3n\\"}"')},
  {name: 'cookie header', secret: 'sess-9f8e7d6c5b4a', run: text('Cookie: sessionid=sess-9f8e7d6c5b4a')},
  {name: 'known secret in prose', secret: ADMIN_TOKEN, run: text(`admin api answered for ${ADMIN_TOKEN} at 12:00`)},
  {name: 'known secret URL-encoded', secret: encodeURIComponent('p@ss w/ord+1'), run: text(`GET /x?t=${encodeURIComponent('p@ss w/ord+1')}`)},
  {name: 'text under a sensitive field', secret: 'fieldIsSecret42', run: text('fieldIsSecret42', 'db.password')},
  // JSON documents
  {name: 'nested password', secret: 'jsonPassw0rd!', run: json({db: {host: 'db', password: 'jsonPassw0rd!'}})},
  {name: 'X-Api-Key header', secret: 'hdrApiKey123', run: json({headers: {'X-Api-Key': 'hdrApiKey123', accept: '*/*'}})},
  {name: 'env-style key in object', secret: 'envSecretValue7', run: json({env: {AWS_SECRET_ACCESS_KEY: 'envSecretValue7'}})},
  {name: 'credentials subtree', secret: 'credPassValue', run: json({credentials: {user: 'u', pass: 'credPassValue'}})},
  {name: 'AKIA inside a component id', secret: 'AKIAJ7Q3EXAMPLEKEY99', run: json({components: [{id: 'aws_s3_AKIAJ7Q3EXAMPLEKEY99', kind: 'sink'}]})},
  {name: 'token inside an object key', secret: 'ghp_aaaaBBBBccccDDDDeeeeFFFFgggg00001111', run: json({components: {'sink_ghp_aaaaBBBBccccDDDDeeeeFFFFgggg00001111': {sent_events: 1}}})},
  {name: 'camelCase privateKey', secret: 'camelPrivKeyValue', run: json({tls: {privateKey: 'camelPrivKeyValue'}})},
  {name: 'numeric pin password', secret: '48151623', run: json({pin_password: 48151623})},
  // vdiag's own argv
  {name: 'argv --token X', secret: 'argvTokenValue1', run: argv(['capture', '--token', 'argvTokenValue1', '--json'])},
  {name: 'argv --token=X', secret: 'argvTokenValue2', run: argv(['capture', '--token=argvTokenValue2'])},
  {name: 'argv --api with credentials', secret: 'argvPass', run: argv(['capture', '--api', 'http://admin:argvPass@127.0.0.1:8686'])},
  {name: 'argv env-style', secret: 'envStyleKeyValue', run: argv(['DD_API_KEY=envStyleKeyValue', 'vdiag'])},
  {name: 'argv header value', secret: 'argvBearerTok123', run: argv(['--header', 'Authorization: Bearer argvBearerTok123'])},
  {name: 'argv unknown short flag, known secret', secret: KNOWN_SHORT_FLAG_SECRET, run: argv(['capture', '-t', KNOWN_SHORT_FLAG_SECRET])},
  // spans
  {name: 'span meta db.password', secret: 'spanDbPass', run: span({name: 'query', meta: {'db.password': 'spanDbPass', 'db.system': 'postgres'}})},
  {name: 'span meta authorization header', secret: 'spanBearerTok99', run: span({meta: {'http.request.headers.authorization': 'Bearer spanBearerTok99'}})},
  {name: 'span meta URL with credentials', secret: 'urlPassInSpan', run: span({meta: {'http.url': 'https://bob:urlPassInSpan@api.example.com/v1'}})},
  {name: 'span resource query api_key', secret: 'resKeyValue123', run: span({resource: 'GET /v1/items?api_key=resKeyValue123'})},
  {name: 'span service with AKIA', secret: 'AKIAZZZZYYYYXXXXWWWW', run: span({service: 'uploader-AKIAZZZZYYYYXXXXWWWW'})},
  {name: 'span error message with JWT', secret: JWT.split('.')[2]!, run: span({meta: {'error.message': `invalid token ${JWT}`}})},
  {name: 'span meta key holding a secret', secret: 'xoxp-1111222233-abcdefghijk', run: span({meta: {'slack.xoxp-1111222233-abcdefghijk': 'x'}})},
]

function newRedactor(): Redactor {
  return new Redactor({extraSecrets: [ADMIN_TOKEN, 'p@ss w/ord+1', KNOWN_SHORT_FLAG_SECRET]})
}

describe('redaction corpus', () => {
  it('has at least 30 planted secrets of different shapes', () => {
    assert.ok(CORPUS.length >= 30, `only ${CORPUS.length}`)
    assert.equal(new Set(CORPUS.map((c) => c.secret)).size, CORPUS.length)
  })

  for (const c of CORPUS) {
    it(`removes: ${c.name}`, () => {
      const r = newRedactor()
      const out = c.run(r)
      assert.ok(!out.includes(c.secret), `secret survived in ${out}`)
      assert.match(out, /\[REDACTED:[a-z0-9-]+(?:#[0-9a-f]{6})?\]/)
      const audit = JSON.stringify(r.audit())
      assert.ok(!audit.includes(c.secret), 'secret appears in the audit')
      assert.ok(r.audit().total >= 1)
    })
  }

  it('no secret survives when every input goes through one redactor, and the audit holds none', () => {
    const r = newRedactor()
    const outputs = CORPUS.map((c) => c.run(r)).join('\n')
    const audit = JSON.stringify(r.audit())
    for (const c of CORPUS) {
      assert.ok(!outputs.includes(c.secret), c.name)
      assert.ok(!audit.includes(c.secret), c.name)
    }
  })
})

describe('redaction keeps ordinary data', () => {
  const benign = [
    'The author of the tokenizer passed the keyboard test at 12:30:45.',
    'trace 12345678901234567890 span 9876543210987654321 parent 0',
    '128-bit trace id 340282366920938463463374607431768211455 and 12345678901234567890123456789012',
    'span_id=1a2b3c4d5e6f7a8b parent_id=0f1e2d3c4b5a6978',
    'trace_id=4bf92f3577b34da6a3ce929d0e0e4736 ok',
    'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    'GET http://127.0.0.1:8686/health 200 in 3ms',
    'https://example.com/search?q=vector&page=2',
    'mail ops@example.com about component http_sink (kind sink, stage send)',
    'Basic setup complete; bearer of good news',
    'ERROR 0xDEADBEEF at 3F2504E0-4F89-11D3-9A0C-0305E82C3301',
  ]
  for (const s of benign) {
    it(`leaves unchanged: ${s.slice(0, 50)}`, () => {
      const r = new Redactor()
      assert.equal(r.redactText(s, 'vdiag.log'), s)
      assert.equal(r.audit().total, 0)
    })
  }

  it('keeps ids and digests in id fields, and decimal ids anywhere', () => {
    const r = new Redactor()
    const doc = {
      trace_id: '12345678901234567890',
      span_id: '9876543210987654321',
      trace_id_high: '4bf92f3577b34da6',
      meta: {'otel.trace_id': '4bf92f3577b34da6a3ce929d0e0e4736', 'git.commit.sha': 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', checksum: 'e3b0c44298fc1c149afbf4c8996fb924'},
      components: [{id: 'http_source', kind: 'source', type: 'http'}],
      counts: {received_events: 10, sent_events: 9},
    }
    assert.deepEqual(r.redactJson(doc, 'pipeline/pipeline.json'), doc)
    assert.equal(r.audit().total, 0)
  })

  it('leaves an ordinary span untouched and reports no change', () => {
    const r = new Redactor()
    const s = {
      service: 'vector',
      name: 'iteration',
      resource: 'transform parse_logs',
      type: 'worker',
      meta: {component_id: 'parse_logs', component_kind: 'transform', stage: 'process', '_dd.p.tid': '4bf92f3577b34da6', 'runtime-id': 'b1f6a0d2-2f3a-4b5c-9d8e-7f6a5b4c3d2e'},
    }
    const before = JSON.stringify(s)
    assert.equal(r.redactSpanFields(s, 'spans/spans.ndjson.gz'), false)
    assert.equal(JSON.stringify(s), before)
  })

  it('redactJson returns a copy and leaves its input alone', () => {
    const r = new Redactor()
    const input = {db: {password: 'x1y2z3'}, list: [1, 'two', {token: 'abcdef'}]}
    const snapshot = structuredClone(input)
    const out = r.redactJson(input, 'f.json')
    assert.deepEqual(input, snapshot)
    assert.notEqual(out, input)
    assert.equal(out.db.password, '[REDACTED:key-password]')
    assert.deepEqual(out.list.slice(0, 2), [1, 'two'])
  })
})

describe('redaction audit', () => {
  it('counts each replacement per rule, file and field, without values', () => {
    const r = new Redactor()
    r.redactText('a Bearer abcdefgh12345678 b Bearer ijklmnop87654321', 'vdiag.log', 'line')
    r.redactText('c Bearer qrstuvwx11223344', 'other.log')
    r.redactJson({db: {password: 'p1'}, x: [{password: 'p2'}, {password: 'p3'}]}, 'host/facts.json')
    const a = r.audit()
    assert.equal(a.enabled, true)
    assert.equal(a.rules_version, REDACTION_RULES_VERSION)
    assert.ok(a.rules.some((x) => x.kind === 'key') && a.rules.some((x) => x.kind === 'value'))
    const bearer = a.hits.find((h) => h.rule === 'bearer-token')!
    assert.equal(bearer.count, 3)
    assert.deepEqual(bearer.where, [
      {file: 'vdiag.log', field: 'line', count: 2},
      {file: 'other.log', field: '(text)', count: 1},
    ])
    const pw = a.hits.find((h) => h.rule === 'key-password')!
    assert.equal(pw.count, 3)
    assert.deepEqual(pw.where, [
      {file: 'host/facts.json', field: 'db.password', count: 1},
      {file: 'host/facts.json', field: 'x[].password', count: 2},
    ])
    assert.equal(a.total, 6)
    const s = JSON.stringify(a)
    for (const secret of ['abcdefgh12345678', 'ijklmnop87654321', 'qrstuvwx11223344', '"p1"', '"p2"', '"p3"']) assert.ok(!s.includes(secret))
  })

  it('uses the redacted key in field paths', () => {
    const r = new Redactor()
    r.redactSpanFields({meta: {'x.AKIAIOSFODNN7EXAMPLE': 'Bearer abcdefgh12345678'}}, 'spans/spans.ndjson.gz')
    const s = JSON.stringify(r.audit())
    assert.ok(!s.includes('AKIAIOSFODNN7EXAMPLE'))
    assert.ok(!s.includes('abcdefgh12345678'))
    assert.match(s, /meta\.x\.\[REDACTED:aws-access-key-id\]/)
  })

  it('caps the where list per rule and says how many more places there were', () => {
    const r = new Redactor()
    const extra = 7
    for (let i = 0; i < MAX_WHERE_PER_RULE + extra; i++) r.redactText('Bearer abcdefgh12345678', 'vdiag.log', `f${i}`)
    r.redactText('Bearer abcdefgh12345678', 'vdiag.log', 'f0')
    r.redactText('Bearer abcdefgh12345678', 'vdiag.log', `f${MAX_WHERE_PER_RULE + 1}`)
    const hit = r.audit().hits.find((h) => h.rule === 'bearer-token')!
    assert.equal(hit.count, MAX_WHERE_PER_RULE + extra + 2)
    assert.equal(hit.where.length, MAX_WHERE_PER_RULE)
    assert.equal(hit.where_more, extra)
    assert.equal(hit.where.find((w) => w.field === 'f0')!.count, 2)
  })

  it('with redaction off still removes known secrets, and only those', () => {
    const r = new Redactor({enabled: false, extraSecrets: [ADMIN_TOKEN]})
    const out = r.redactText(`token ${ADMIN_TOKEN} and password=visible123`, 'vdiag.log')
    assert.ok(!out.includes(ADMIN_TOKEN))
    assert.ok(out.includes('password=visible123'))
    assert.deepEqual(r.redactArgv(['--token', ADMIN_TOKEN, '--password=visible']), ['--token', '[REDACTED:known-secret]', '--password=visible'])
    const a = r.audit()
    assert.equal(a.enabled, false)
    assert.deepEqual(a.hits.map((h) => [h.rule, h.count]), [['known-secret', 2]])
  })

  it('ignores known secrets too short to remove safely', () => {
    const r = new Redactor({extraSecrets: ['ab', '']})
    assert.equal(r.redactText('about abba', 'f'), 'about abba')
  })

  it('argv: a sensitive flag followed by another flag redacts nothing', () => {
    const r = new Redactor()
    assert.deepEqual(r.redactArgv(['--token', '--json']), ['--token', '--json'])
    assert.equal(r.audit().total, 0)
  })

  it('argv audit names the argument index', () => {
    const r = new Redactor()
    r.redactArgv(['capture', '--token', 'argvTokenValue1'])
    const hit = r.audit().hits.find((h) => h.rule === 'key-token')!
    assert.deepEqual(hit.where, [{file: 'manifest.json', field: 'command_line[2]', count: 1}])
  })
})
