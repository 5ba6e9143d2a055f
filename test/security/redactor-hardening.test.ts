/**
 * The Redactor's hardening, rule by rule: references stay visible, flags in
 * text and in JSON arrays, audit path prefixes, name maps, `__proto__` keys,
 * deterministic tags for secrets inside names, multi-line private keys in
 * line-by-line text, and the audit staying exact when results are cached.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import fc from 'fast-check'
import {Redactor} from '../../src/bundle/redaction.js'
import {isRedactedMarker, referenceForm} from '../../src/bundle/redaction-rules.js'

const TAG_KEY = 'test-tag-key'
const redactor = () => new Redactor({tagKey: TAG_KEY})
const text = (s: string, field?: string) => redactor().redactText(s, 'f.log', field)

describe('references stay visible, defaults are judged', () => {
  const kept = [
    'token=${TOKEN}',
    'password="${DB_PASS}"',
    "api_key='SECRET[vault.dd_api_key]'",
    'secret: $CLIENT_SECRET',
    'token=${TOKEN:-}',
    'auth=${A} ${B}',
  ]
  for (const s of kept) {
    it(`keeps ${s}`, () => {
      const r = redactor()
      assert.equal(r.redactText(s, 'f.log'), s)
      assert.equal(r.audit().total, 0)
    })
  }

  it('judges the default of ${VAR:-default} (and -, :?, ?) under the key, and leaves no stray brace', () => {
    assert.equal(text('token=${TOKEN:-abc123}'), 'token=${TOKEN:-[REDACTED:key-token]}')
    assert.equal(text('password: "${DB_PASS-hunter2}"'), 'password: "${DB_PASS-[REDACTED:key-password]}"')
    assert.equal(text('token=${TOKEN:?must be set} next'), 'token=${TOKEN:?[REDACTED:key-token]} next')
    assert.doesNotMatch(text('token=${TOKEN}'), /\}\}|\]\}/)
  })

  it('a $ that starts a lower-case word is a password, not a variable', () => {
    assert.equal(text('password=$ecretPa55'), 'password=[REDACTED:key-password]')
    assert.equal(text('password=${A:-x}${B}'), 'password=[REDACTED:key-password]')
  })

  it('under sensitive keys in JSON, span meta and argv alike', () => {
    const r = redactor()
    assert.deepEqual(r.redactJson({auth: {password: '${DB_PASS}', token: 'SECRET[aws.tok]', api_key: '${K:-deadbeef99}'}}, 'c.json'), {
      auth: {password: '${DB_PASS}', token: 'SECRET[aws.tok]', api_key: '${K:-[REDACTED:key-authorization]}'},
    })
    const span = {meta: {'http.request.headers.authorization': '${AUTH_HEADER}'}}
    assert.equal(r.redactSpanFields(span, 's'), false)
    assert.deepEqual(r.redactArgv(['--token', '${VDIAG_API_TOKEN}', '--password=$PW']), ['--token', '${VDIAG_API_TOKEN}', '--password=$PW'])
  })

  it('referenceForm tells references, one defaulted reference and literals apart', () => {
    assert.equal(referenceForm('${A}'), 'kept')
    assert.equal(referenceForm(' SECRET[b.k] $UPPER '), 'kept')
    assert.deepEqual(referenceForm('${A:-x y}'), {head: '${A:-', fallback: 'x y', tail: '}'})
    assert.equal(referenceForm('pre${A}'), null)
    assert.equal(referenceForm('$lower'), null)
    assert.equal(referenceForm('plain'), null)
  })
})

describe('flags: --password=x and --password x in text, command lines in JSON arrays', () => {
  it('catches --flag=value and --flag value in text', () => {
    assert.equal(text('vector --password=hunter2 --config /etc/v.yaml'), 'vector --password=[REDACTED:key-password] --config /etc/v.yaml')
    assert.equal(text('vector -token=abc123def'), 'vector -token=[REDACTED:key-token]')
    assert.equal(text('exec tool --api-key "k e y" --verbose'), 'exec tool --api-key "[REDACTED:key-api-key]" --verbose')
    assert.equal(text('exec tool --client-secret s3cr3t'), 'exec tool --client-secret [REDACTED:key-secret]')
  })

  it('keeps prose after a flag name, a following flag, and a reference', () => {
    const prose = 'Pass the admin token with --token or the VDIAG_API_TOKEN environment variable.'
    assert.equal(text(prose), prose)
    assert.equal(text('run --token --json'), 'run --token --json')
    assert.equal(text('run --token ${TOKEN} now'), 'run --token ${TOKEN} now')
  })

  it('reads arrays of strings as command lines, at any depth', () => {
    const r = redactor()
    const facts = {processes: [{name: 'vector', argv: ['vector', '--password', 'hunter2', '--api-key=k3y', '--pin-password', 1234, '--config', '/etc/v.yaml', '--token', '--verbose']}]}
    const out = r.redactJson(facts, 'host/facts.json')
    assert.deepEqual(out.processes[0]!.argv, ['vector', '--password', '[REDACTED:key-password]', '--api-key=[REDACTED:key-api-key]', '--pin-password', '[REDACTED:key-password]', '--config', '/etc/v.yaml', '--token', '--verbose'])
    const pw = r.audit().hits.find((h) => h.rule === 'key-password')!
    assert.deepEqual(pw.where, [{file: 'host/facts.json', field: 'processes[].argv[]', count: 2}])
  })

  it('an array under a sensitive key still goes whole', () => {
    assert.deepEqual(redactor().redactJson({secrets: ['--x', 'a', 'b']}, 'f'), {secrets: ['[REDACTED:key-secret]', '[REDACTED:key-secret]', '[REDACTED:key-secret]']})
  })
})

describe('audit path prefix and name maps', () => {
  it('pathPrefix starts every audit path', () => {
    const r = redactor()
    r.redactJson({db: {password: 'x1'}}, 'manifest.json', {pathPrefix: 'collectors.config'})
    assert.deepEqual(r.audit().hits[0]!.where, [{file: 'manifest.json', field: 'collectors.config.db.password', count: 1}])
  })

  it('keys of a components map are names: a component called auth_logs keeps its counters', () => {
    const r = redactor()
    const snapshot = {auth_logs: {received_events: 5, sent_events: 4}, db_password_sink: {sent_events: 3}}
    assert.deepEqual(r.redactJson(snapshot, 'metrics/snapshots.ndjson', {pathPrefix: 'components'}), snapshot)
    const record = {seq: 0, components: {auth_logs: 2, token_refresher: 0}}
    assert.deepEqual(r.redactJson(record, 'metrics/errors.ndjson'), record)
    assert.equal(r.audit().total, 0)
  })

  it('but the value rules still apply to those names, and key rules to what is under them', () => {
    const r = redactor()
    const out = r.redactJson({components: {'s3_AKIAIOSFODNN7EXAMPLE': {config: {password: 'p'}}}}, 'x.json')
    assert.deepEqual(Object.keys(out.components), [`s3_${markerOf('aws-access-key-id', 'AKIAIOSFODNN7EXAMPLE')}`])
    assert.deepEqual(Object.values(out.components)[0], {config: {password: '[REDACTED:key-password]'}})
  })

  it('component_id, source_id and a bare id are names: a Datadog key inside one is redacted; trace ids and digests stay', () => {
    const r = redactor()
    const key = '5f2b3c4d6e7f80912a3b4c5d6e7f8091'
    const out = r.redactJson({id: `out_${key}`, component_id: `out_${key}`, sink_id: key, trace_id: key, request_id: key, checksum: key}, 'f')
    const m = markerOf('datadog-api-key', key)
    assert.deepEqual(out, {id: `out_${m}`, component_id: `out_${m}`, sink_id: m, trace_id: key, request_id: key, checksum: key})
  })
})

/** The marker a fresh redactor with TAG_KEY gives `value` under `rule` (found by redacting it alone). */
function markerOf(rule: string, value: string): string {
  const out = redactor().redactText(value, 'probe')
  assert.match(out, new RegExp(`^\\[REDACTED:${rule}#[0-9a-f]{6}\\]$`))
  return out
}

describe('__proto__ and other special keys', () => {
  it('a __proto__ key in JSON input is kept as data and pollutes nothing', () => {
    const input = JSON.parse('{"__proto__": {"polluted": "yes", "password": "p"}, "constructor": {"prototype": {"x": 1}}, "b": 2}') as Record<string, unknown>
    const out = redactor().redactJson(input, 'f') as Record<string, unknown>
    assert.deepEqual(Object.keys(out), ['__proto__', 'constructor', 'b'])
    assert.equal(Object.getPrototypeOf(out), Object.prototype)
    assert.ok(Object.prototype.hasOwnProperty.call(out, '__proto__'))
    assert.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__')!.value, {polluted: 'yes', password: '[REDACTED:key-password]'})
    assert.equal((out as {polluted?: unknown}).polluted, undefined)
    assert.equal(({} as {polluted?: unknown}).polluted, undefined)
    assert.equal(JSON.stringify(out), '{"__proto__":{"polluted":"yes","password":"[REDACTED:key-password]"},"constructor":{"prototype":{"x":1}},"b":2}')
  })

  it('a key that redacts to the same text as another keeps both values', () => {
    const r = redactor()
    const out = r.redactJson({'a_AKIAIOSFODNN7EXAMPLE': 1, 'a_AKIAIOSFODNN7EXAMPLF': 2}, 'f') as Record<string, number>
    assert.deepEqual(Object.values(out).sort(), [1, 2])
    assert.equal(new Set(Object.keys(out)).size, 2)
  })
})

describe('tags: the same secret gets the same marker everywhere, a different one a different marker', () => {
  const AWS = 'AKIAJ7Q3EXAMPLEKEY99'
  const id = `s3_${AWS}_out`

  it('in object keys, values, span fields, span meta keys and free text', () => {
    const r = redactor()
    const asKey = Object.keys(r.redactJson({components: {[id]: {sent_events: 1}}}, 'metrics.ndjson').components)[0]
    const asValue = r.redactJson({components: [{id}]}, 'pipeline.json').components[0]!.id
    const span = {resource: id, meta: {component_id: id, [`x.${id}`]: 'v'}}
    r.redactSpanFields(span, 'spans')
    const inText = r.redactText(`sink ${id} failed`, 'vdiag.log')
    assert.match(asKey!, /^s3_\[REDACTED:aws-access-key-id#[0-9a-f]{6}\]_out$/)
    assert.equal(asValue, asKey)
    assert.equal(span.resource, asKey)
    assert.equal(span.meta.component_id, asKey)
    assert.ok(Object.keys(span.meta).includes(`x.${asKey}`))
    assert.equal(inText, `sink ${asKey} failed`)
    for (const s of [asKey, asValue, span.resource, JSON.stringify(span), inText]) assert.ok(!s!.includes(AWS))
  })

  it('two keys of one rule stay two; one key is one tag in another Redactor with the same tag key', () => {
    const a = redactor().redactText('AKIAJ7Q3EXAMPLEKEY99', 'f')
    const b = redactor().redactText('AKIAJ7Q3EXAMPLEKEY98', 'f')
    assert.notEqual(a, b)
    assert.equal(redactor().redactText('AKIAJ7Q3EXAMPLEKEY99', 'g'), a)
    assert.ok(isRedactedMarker(a) && isRedactedMarker(b))
  })

  it('the default tag key is random per Redactor, so tags cannot be matched across bundles or checked against guesses', () => {
    const tags = new Set(Array.from({length: 5}, () => new Redactor().redactText('ghp_16C7e42F292c6912E7710c838347Ae178B4a', 'f')))
    assert.ok(tags.size >= 4, `tags repeat across Redactors: ${[...tags].join(' ')}`)
  })

  it('audit paths name places without tags', () => {
    const r = redactor()
    r.redactJson({components: {[id]: {config: {password: 'x'}}}}, 'f.json')
    r.redactJson({components: {[`s3_AKIAJ7Q3EXAMPLEKEY98_out`]: {config: {password: 'y'}}}}, 'f.json')
    const pw = r.audit().hits.find((h) => h.rule === 'key-password')!
    assert.deepEqual(pw.where, [{file: 'f.json', field: 'components.s3_[REDACTED:aws-access-key-id]_out.config.password', count: 2}])
    assert.ok(!JSON.stringify(r.audit()).includes('#'))
  })

  it('property: a secret of any tagged shape inside a component id is gone, and redacts the same in every position', () => {
    const shapes = [
      fc.stringMatching(/^AKIA[A-Z2-7]{16}$/),
      fc.stringMatching(/^ghp_[A-Za-z0-9]{36}$/),
      fc.stringMatching(/^xoxb-[0-9]{10}-[A-Za-z0-9]{12}$/),
      fc.stringMatching(/^sk_live_[A-Za-z0-9]{24}$/),
      fc.stringMatching(/^[0-9a-f]{32}$/).filter((s) => /[0-9]/.test(s) && /[a-f]/.test(s)),
      fc.stringMatching(/^[0-9a-f]{40}$/).filter((s) => /[0-9]/.test(s) && /[a-f]/.test(s)),
      fc.tuple(fc.stringMatching(/^[A-Za-z0-9]{6,20}$/), fc.stringMatching(/^[A-Za-z0-9]{6,20}$/)).map(([a, b]) => `eyJ${a}.eyJ${b}.sig`),
    ]
    const affix = fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/)
    fc.assert(
      fc.property(affix, fc.oneof(...shapes), affix, (pre, secret, post) => {
        const id = `${pre}_${secret}.${post}`
        const r = redactor()
        const asKey = Object.keys(r.redactJson({components: {[id]: {n: 1}}}, 'm').components)[0]!
        const asValue = r.redactJson({id}, 'p').id
        const span = {resource: id, meta: {component_id: id}}
        r.redactSpanFields(span, 's')
        assert.ok(!asKey.includes(secret), asKey)
        assert.match(asKey, /\[REDACTED:[a-z0-9-]+#[0-9a-f]{6}\]/)
        assert.equal(asValue, asKey)
        assert.equal(span.resource, asKey)
        assert.equal(span.meta.component_id, asKey)
      }),
      {numRuns: 300},
    )
  })
})

describe('cached results keep the audit exact', () => {
  it('the same span redacted three times counts three times, in the same places', () => {
    const r = redactor()
    for (let i = 0; i < 3; i++) r.redactSpanFields({resource: 'sink_AKIAIOSFODNN7EXAMPLE', meta: {component_id: 'sink_AKIAIOSFODNN7EXAMPLE'}}, 'spans')
    const hit = r.audit().hits.find((h) => h.rule === 'aws-access-key-id')!
    assert.equal(hit.count, 6)
    assert.deepEqual(hit.where, [
      {file: 'spans', field: 'resource', count: 3},
      {file: 'spans', field: 'meta.component_id', count: 3},
    ])
  })
})

describe('private keys spread over lines', () => {
  it('lineRedactor removes the block from BEGIN to END; plain redactText per line would not', () => {
    const body = ['MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB', 'Jan 1 host vector[1]: aG9wZWZ1bGx5IG5vdCBhIHJlYWwga2V5IGF0IGFsbA==', 'Zm9v']
    const lines = ['start', 'key: -----BEGIN RSA PRIVATE KEY-----', 'Proc-Type: 4,ENCRYPTED', ...body, '-----END RSA PRIVATE KEY----- then password=abc', 'next']
    const r = redactor()
    const redactLine = r.lineRedactor('logs/01-vector.log')
    const out = lines.map(redactLine)
    assert.equal(out.length, lines.length)
    assert.deepEqual(out, ['start', 'key: [REDACTED:pem-private-key]', '', '', '', '', ' then password=[REDACTED:key-password]', 'next'])
    const naive = lines.map((l) => redactor().redactText(l, 'x'))
    assert.ok(naive.includes(body[0]!), 'line-by-line redactText was expected to miss the body (else this test proves nothing)')
  })

  it('a BEGIN line followed by prose ends the block at the prose', () => {
    const redactLine = redactor().lineRedactor('f')
    const out = ['-----BEGIN PRIVATE KEY-----', 'MIIB', 'this is prose, not key material', 'after'].map(redactLine)
    assert.deepEqual(out, ['[REDACTED:pem-private-key]', '', 'this is prose, not key material', 'after'])
  })

  it('with redaction off only known secrets go, line by line', () => {
    const redactLine = new Redactor({enabled: false, extraSecrets: ['kn0wn-s3cret']}).lineRedactor('f')
    assert.deepEqual(['-----BEGIN PRIVATE KEY-----', 'MIIB kn0wn-s3cret'].map(redactLine), ['-----BEGIN PRIVATE KEY-----', 'MIIB [REDACTED:known-secret]'])
  })
})
