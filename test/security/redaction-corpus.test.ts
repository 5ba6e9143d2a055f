/**
 * The redaction corpus, end to end: real captures (the real CLI against the
 * real demo, both API generations and both trace payload versions) with
 * secrets of many shapes planted where a customer's would be — component ids
 * (so metrics keys, span meta and resource names), the sink's URL and
 * Authorization header in span meta, vdiag's own argv and environment, and,
 * where the machine allows a private mount/UTS namespace, the host's name and
 * a mount point. Every file of every extracted bundle is searched byte by byte,
 * including the gunzipped span stream and every raw payload decoded with
 * msgpackr; none of the secrets may appear, in any of the forms a URL or a
 * JSON string would give them. Runs that fail (wrong token, dead API) must not
 * echo the token either.
 *
 * The secrets are random per run, so the test cannot pass by matching a
 * string some code happens to special-case.
 */
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {gunzipSync} from 'node:zlib'
import {after, before, describe, it} from 'node:test'
import {Unpackr} from 'msgpackr'
import type {Manifest} from '../../src/bundle/format.js'
import {spawnDemo, type SpawnedDemo} from '../../src/demo/spawn.js'
import {packageRoot} from '../../src/util/paths.js'
import {extractWithSystemTools, readManifest, checksumMismatches} from '../helpers/archive.js'
import {BIN, runCli, type CliResult} from '../helpers/cli.js'

/** One capture: demo start, a 2 s window, the wait for the window to end, the bundle; on two loaded cores. */
const RUN_TIMEOUT_MS = 150_000
const SUITE_TIMEOUT_MS = 900_000

// ---------- secrets ----------

const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
const HEX = '0123456789abcdef'

function rand(alphabet: string, n: number): string {
  const bytes = randomBytes(n)
  let s = ''
  for (let i = 0; i < n; i++) s += alphabet[bytes[i]! % alphabet.length]
  return s
}

/** Hex with at least one digit and one letter, as the Datadog key rules require (a real key has both). */
function hexKey(n: number): string {
  for (;;) {
    const s = rand(HEX, n)
    if (/[0-9]/.test(s) && /[a-f]/.test(s)) return s
  }
}

function b64url(s: string): string {
  return Buffer.from(s).toString('base64url')
}

interface Planted {
  /** Where it was planted and what shape it has. */
  name: string
  value: string
  /** The bundle it must be absent from ('A', 'B', 'C'), or the run outputs only ('errors'). */
  run: 'A' | 'B' | 'C' | 'errors'
}

const planted: Planted[] = []
function plant(run: Planted['run'], name: string, value: string): string {
  planted.push({name, value, run})
  return value
}

// Run A: gRPC admin API, v0.4 payloads, token as `--token X`.
const A = {
  awsKey: plant('A', 'AWS access key id in the source id', `AKIA${rand(UPPER_DIGITS, 16)}`),
  ddAppKey: plant('A', 'Datadog application key (40 hex) in the source id', hexKey(40)),
  ghp: plant('A', 'GitHub classic token in the transform id', `ghp_${rand(ALNUM, 36)}`),
  ddApiKey: plant('A', 'Datadog API key (32 hex) in the sink id', hexKey(32)),
  sinkUser: plant('A', 'user in the sink URL (span meta http.url userinfo)', `ingest${rand(ALNUM, 10)}`),
  sinkPass: plant('A', 'password in the sink URL (span meta http.url userinfo)', `SinkPw${rand(ALNUM, 14)}`),
  token: plant('A', 'admin token given as --token X', `adm-${rand(ALNUM, 24)}`),
  apiPass: plant('A', 'password in --api http://user:pass@', `ApiPw${rand(ALNUM, 14)}`),
  metricsPass: plant('A', 'password in --metrics-url http://user:pass@', `MetPw${rand(ALNUM, 14)}`),
  envAws: plant('A', 'AWS_SECRET_ACCESS_KEY in vdiag\'s environment', rand(ALNUM, 40)),
  envCanary: plant('A', 'a password in an environment variable of vdiag', `EnvPw${rand(ALNUM, 16)}`),
}
const configA = {
  rk: plant('A', 'Stripe restricted key in the transform id', `rk_live_${rand(ALNUM, 24)}`),
  authPass: plant('A', 'auth.password in a --config file', `CfgPw${rand(ALNUM, 14)}`),
  vrlPass: plant('A', 'a literal assigned to .password in VRL source (--config)', `VrlPw${rand(ALNUM, 14)}`),
  execToken: plant('A', 'the value after --token in an exec secret backend command (--config)', `ExecTok${rand(ALNUM, 16)}`),
}
const sinkBasicA = plant('A', 'Basic credentials (base64) in span meta authorization', Buffer.from(`${A.sinkUser}:${A.sinkPass}`).toString('base64'))
// `auth_logs…` also looks like an `auth` setting to a key rule: as a name it must keep its counters.
const idsA = {source: `auth_logs_${A.awsKey}_${A.ddAppKey}`, transform: `parse_${A.ghp}.r_${configA.rk}`, sink: `out_${A.ddApiKey}`}

/** The pipeline's config as a customer would pass it with --config: the same ids, secrets in settings, references that must stay. */
function configFileA(): string {
  return [
    'sources:',
    `  ${JSON.stringify(idsA.source)}:`,
    '    type: file',
    '    include: ["/var/log/app/*.log"]',
    'transforms:',
    `  ${JSON.stringify(idsA.transform)}:`,
    '    type: remap',
    `    inputs: [${JSON.stringify(idsA.source)}]`,
    `    source: '.password = "${configA.vrlPass}"'`,
    'sinks:',
    `  ${JSON.stringify(idsA.sink)}:`,
    '    type: http',
    `    inputs: [${JSON.stringify(idsA.transform)}]`,
    `    uri: "http://${A.sinkUser}:${A.sinkPass}@127.0.0.1:9/ingest"`,
    '    encoding: {codec: json}',
    '    auth:',
    '      strategy: basic',
    '      user: ingest-bot',
    `      password: "${configA.authPass}"`,
    '    request:',
    '      headers:',
    '        DD-API-KEY: "${DD_API_KEY}"',
    'secret:',
    '  vault:',
    '    type: exec',
    `    command: ["/usr/local/bin/vault-helper", "--token", "${configA.execToken}"]`,
    '',
  ].join('\n')
}

// Run B: GraphQL admin API, v0.5 payloads, token as `--token=X`.
const B = {
  slack: plant('B', 'Slack bot token in the source id', `xoxb-${rand('0123456789', 11)}-${rand(ALNUM, 20)}`),
  stripe: plant('B', 'Stripe live key in the transform id', `sk_live_${rand(ALNUM, 24)}`),
  google: plant('B', 'Google API key in the transform id', `AIza${rand(ALNUM, 35)}`),
  jwtBody: '',
  ghPat: plant('B', 'GitHub fine-grained token in the sink id', `github_pat_${rand(ALNUM, 30)}`),
  sinkUser: plant('B', 'user in the sink URL (v0.5 payloads)', `ship${rand(ALNUM, 10)}`),
  sinkPass: plant('B', 'password with punctuation in the sink URL (v0.5 payloads)', `Pw.${rand(ALNUM, 8)}-${rand(ALNUM, 8)}_x`),
  token: plant('B', 'admin token given as --token=X', `tok=${rand(ALNUM, 24)}`),
  apiUserToken: plant('B', 'token as the user in --api http://token@host', `ApiTok${rand(ALNUM, 18)}`),
  asia: plant('B', 'AWS temporary key id in an environment variable', `ASIA${rand(UPPER_DIGITS, 16)}`),
}
const jwtB = `eyJ${b64url('hbGciOiJIUzI1NiJ9').slice(0, 12)}.eyJ${rand(ALNUM, 24)}.${rand(ALNUM, 22)}`
B.jwtBody = plant('B', 'JWT in the sink id', jwtB)
const logB = {
  pemBody: plant('B', 'PEM private key block in a --logs file', `MHcCAQEEI${rand(ALNUM, 40)}`),
  bearer: plant('B', 'Bearer token in a logged request line', `bt${rand(ALNUM, 30)}`),
  password: plant('B', 'password=… in a logged connection string', `LogPw${rand(ALNUM, 14)}`),
  cookie: plant('B', 'session cookie in a logged Set-Cookie header', `sess${rand(ALNUM, 20)}`),
  flag: plant('B', 'value after --api-key in a logged command line', `FlagKey${rand(ALNUM, 16)}`),
}
const sinkBasicB = plant('B', 'Basic credentials (base64) in span meta authorization (v0.5)', Buffer.from(`${B.sinkUser}:${B.sinkPass}`).toString('base64'))
// A `.` ends the JWT's signature (whose alphabet has `_`), so the token after it is a token of its own.
const idsB = {source: `in_${B.slack}`, transform: `tx_${B.stripe}.g_${B.google}`, sink: `secret_sink_${jwtB}.${B.ghPat}`}

// Run C: `capture --demo`, token from VDIAG_API_TOKEN; host names planted when a private namespace is possible.
const C = {
  token: plant('C', 'admin token from VDIAG_API_TOKEN', `envtok-${rand(ALNUM, 24)}`),
  metricsPass: plant('C', 'password in an unreachable --metrics-url (warning path)', `DeadMetPw${rand(ALNUM, 12)}`),
  // A host name allows letters, digits and hyphens: a Slack user token fits.
  hostToken: `xoxp-${rand('0123456789', 11)}-${rand(ALNUM, 24)}`,
  mountNpm: `npm_${rand(ALNUM, 36)}`,
  mountGitlab: `glpat-${rand(ALNUM, 20)}`,
}

// Failing runs: only stdout and stderr exist.
const E = {
  wrongToken: plant('errors', 'a wrong admin token (401 from /tracing)', `wrong-${rand(ALNUM, 24)}`),
  deadApiPass: plant('errors', 'password in the URL of an admin API that is not there', `DeadApiPw${rand(ALNUM, 12)}`),
  deadApiToken: plant('errors', 'token sent to an admin API that is not there', `deadtok-${rand(ALNUM, 24)}`),
  rightToken: `right-${rand(ALNUM, 24)}`,
}

/** A pipeline log without timestamps (so its whole tail is kept), with secrets and references in it. */
function logFileB(): string {
  return [
    'starting vector',
    `exec /usr/bin/vector --api-key ${logB.flag} --config /etc/vector/vector.yaml`,
    'loaded key:',
    '-----BEGIN EC PRIVATE KEY-----',
    logB.pemBody,
    `${rand(ALNUM, 40)}==`,
    '-----END EC PRIVATE KEY-----',
    `> GET /v1/ingest HTTP/1.1 Authorization: Bearer ${logB.bearer}`,
    `< Set-Cookie: session=${logB.cookie}; Path=/; HttpOnly`,
    `connecting to postgres host=db user=ingest password=${logB.password} dbname=events`,
    'token=${VDIAG_TOKEN} api_key=SECRET[vault.dd_api_key]',
    '',
  ].join('\n')
}

// ---------- searching a bundle ----------

/** The forms a secret takes in a URL, a JSON string or a form body. */
function forms(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1), secret.replace(/[^A-Za-z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)])]
}

const unpackr = new Unpackr({useRecords: false, mapsAsObjects: true, int64AsType: 'string'})

function jsonText(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? Buffer.from(x).toString('latin1') : x))
}

/** Every file under root as searchable texts: its bytes, and what it decodes to (gunzip, msgpack). */
function searchableTexts(root: string): {file: string; text: string}[] {
  const out: {file: string; text: string}[] = []
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const abs = path.join(dir, name)
      const rel = path.relative(root, abs)
      // A secret in a file or folder name would be in the archive listing.
      out.push({file: `${rel} (name)`, text: rel})
      if (statSync(abs).isDirectory()) {
        walk(abs)
        continue
      }
      const bytes = readFileSync(abs)
      out.push({file: rel, text: bytes.toString('latin1')}, {file: `${rel} (utf8)`, text: bytes.toString('utf8')})
      if (name.endsWith('.gz')) out.push({file: `${rel} (gunzipped)`, text: gunzipSync(bytes).toString('utf8')})
      if (name.endsWith('.msgpack')) out.push({file: `${rel} (msgpack decoded)`, text: jsonText(unpackr.unpack(bytes))})
    }
  }
  walk(root)
  return out
}

function leaks(texts: {file: string; text: string}[], secrets: {name: string; value: string}[]): string[] {
  const found: string[] = []
  for (const s of secrets) {
    for (const f of forms(s.value)) {
      for (const t of texts) if (t.text.includes(f)) found.push(`${s.name} (${JSON.stringify(f)}) in ${t.file}`)
    }
  }
  return found
}

function ndjson<T>(file: string): T[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as T)
}

// ---------- processes ----------

const work = mkdtempSync(path.join(os.tmpdir(), 'vdiag-security-test-'))
after(() => rmSync(work, {recursive: true, force: true}))

async function closedPort(): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as net.AddressInfo).port
  await new Promise<void>((r) => srv.close(() => r()))
  return port
}

function withCredentials(url: string, user: string, pass?: string): string {
  const u = new URL(url)
  return `${u.protocol}//${encodeURIComponent(user)}${pass === undefined ? '' : `:${encodeURIComponent(pass)}`}@${u.host}${u.pathname}`
}

/** Runs a command to completion, SIGKILLed if it outlives the timeout. */
function runProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CliResult> {
  const child = spawn(cmd, args, {cwd: packageRoot, env, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({code, signal, stdout, stderr})
    })
  })
}

/**
 * A command that mounts an overlay at `target`. systeminformation lists
 * overlays (it leaves out tmpfs, and df folds bind mounts into their device),
 * and a user namespace may mount one.
 */
function overlayMount(target: string): string {
  const base = mkdtempSync(path.join(work, 'overlay-'))
  for (const d of ['lower', 'upper', 'work']) mkdirSync(path.join(base, d))
  mkdirSync(target, {recursive: true})
  return `mount -t overlay overlay -o "lowerdir=${base}/lower,upperdir=${base}/upper,workdir=${base}/work" "${target}"`
}

/**
 * Can this machine give a process its own mount and UTS namespace (as root,
 * or through an unprivileged user namespace)? Then run C plants a host name
 * and mount points; otherwise it runs without them.
 */
function namespacesAvailable(): boolean {
  try {
    const mount = overlayMount(path.join(work, 'ns-probe'))
    const r = spawnSync('unshare', ['--user', '--map-root-user', '--mount', '--uts', 'sh', '-c', `${mount} && hostname vdiag-probe`], {timeout: 10_000, stdio: 'ignore'})
    return r.status === 0
  } catch {
    return false
  }
}

/** Environment for vdiag runs: the caller's, plus canaries that must never reach a bundle. */
function vdiagEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...process.env, AWS_SECRET_ACCESS_KEY: A.envAws, VDIAG_CANARY_DB_PASSWORD: A.envCanary, VDIAG_CANARY_AWS_KEY_ID: B.asia, ...extra}
  delete env.VDIAG_API_TOKEN
  return env
}

interface CaptureRun {
  name: string
  result: CliResult
  bundle: string
  root: string
  manifest: Manifest
  secrets: Planted[]
}

function openBundle(name: string, result: CliResult, bundle: string, secrets: Planted[]): CaptureRun {
  assert.equal(result.code, 0, `capture ${name} failed (${result.code} ${result.signal}):\n${result.stderr}\n${result.stdout}`)
  const {root} = extractWithSystemTools(bundle)
  const manifest = readManifest(root)
  return {name, result, bundle, root, manifest, secrets}
}

// ---------- checks shared by every bundle ----------

function checkNoSecrets(run: CaptureRun): void {
  const found = leaks(searchableTexts(run.root), run.secrets)
  assert.deepEqual(found, [], `secrets found in bundle ${run.name}`)
  // The archive itself (names, any stored metadata) and what the run printed.
  const archive = readFileSync(run.bundle)
  const more = leaks([{file: 'archive bytes', text: archive.toString('latin1')}, {file: 'stdout', text: run.result.stdout}, {file: 'stderr', text: run.result.stderr}], run.secrets)
  assert.deepEqual(more, [], `secrets found around bundle ${run.name}`)
}

function checkAudit(run: CaptureRun, expectRules: string[]): void {
  const audit = run.manifest.redaction
  assert.equal(audit.enabled, true)
  assert.ok(audit.rules_version >= 2)
  const byRule = new Map(audit.hits.map((h) => [h.rule, h]))
  for (const rule of expectRules) {
    const hit = byRule.get(rule)
    assert.ok(hit, `the audit lists no ${rule} hit; hits: ${audit.hits.map((h) => h.rule).join(', ')}`)
    assert.ok(hit.count > 0)
    assert.ok(hit.where.length > 0, `${rule} has no places`)
    for (const w of hit.where) {
      assert.ok(run.manifest.files.some((f) => f.path === w.file) || w.file === 'manifest.json', `${rule}: place ${w.file} is not a bundle file`)
      assert.ok(w.count > 0 && w.field.length > 0)
    }
  }
  assert.equal(audit.total, audit.hits.reduce((n, h) => n + h.count, 0))
  // Values never appear in the audit (the whole-file search covers it too; this names the culprit).
  assert.deepEqual(leaks([{file: 'manifest.redaction', text: JSON.stringify(audit)}], run.secrets), [])
}

/** The same component id is redacted to the same text in every file, so the analysis can join them. */
function checkJoin(run: CaptureRun, plantedIds: string[]): string[] {
  const pipeline = JSON.parse(readFileSync(path.join(run.root, 'pipeline/pipeline.json'), 'utf8')) as {components: {id: string}[]}
  const ids = pipeline.components.map((c) => c.id).sort()
  assert.equal(ids.length, 3)
  const snaps = ndjson<{components: Record<string, Record<string, unknown>>}>(path.join(run.root, 'metrics/snapshots.ndjson'))
  assert.ok(snaps.length >= 2)
  for (const s of snaps) {
    assert.deepEqual(Object.keys(s.components).sort(), ids, 'metrics keys differ from the pipeline ids')
    // A component id is a name: its counters stay numbers whatever words it holds.
    for (const [id, c] of Object.entries(s.components)) for (const [k, v] of Object.entries(c)) assert.equal(typeof v, 'number', `${id}.${k} = ${JSON.stringify(v)}`)
  }
  const spans = gunzipSync(readFileSync(path.join(run.root, 'spans/spans.ndjson.gz'))).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as {resource: string; meta: Record<string, string>})
  assert.ok(spans.length > 0, 'no spans captured')
  const spanIds = new Set(spans.map((s) => s.meta.component_id).filter((x): x is string => typeof x === 'string'))
  for (const id of spanIds) assert.ok(ids.includes(id), `span component_id ${id} is not a pipeline id`)
  assert.equal(spanIds.size, 3, `spans name ${[...spanIds].join(', ')}`)
  // Every planted id was redacted into something else, with a tag.
  for (const raw of plantedIds) assert.ok(!ids.includes(raw))
  for (const id of ids) assert.match(id, /\[REDACTED:[a-z0-9-]+#[0-9a-f]{6}\]/)
  return ids
}

async function checkReplay(run: CaptureRun, ids: string[]): Promise<void> {
  const r = await runCli(['replay', run.bundle, '--json'], {timeoutMs: RUN_TIMEOUT_MS})
  assert.equal(r.code, 0, r.stderr)
  const result = JSON.parse(r.stdout) as {components: {id: string}[]}
  const named = result.components.map((c) => c.id).sort()
  assert.deepEqual(named, ids)
  assert.deepEqual(leaks([{file: 'replay --json', text: r.stdout}, {file: 'replay stderr', text: r.stderr}], run.secrets), [])
}

function checkSinkMeta(run: CaptureRun): void {
  const spans = gunzipSync(readFileSync(path.join(run.root, 'spans/spans.ndjson.gz'))).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as {meta: Record<string, string>})
  const send = spans.find((s) => typeof s.meta['http.url'] === 'string')
  assert.ok(send, 'no span carries http.url: the sink-auth plant did not reach the spans')
  assert.match(send.meta['http.url']!, /^http:\/\/\[REDACTED:url-credentials\]@127\.0\.0\.1:\d+/)
  assert.match(send.meta['http.request.headers.authorization'] ?? '', /^\[REDACTED:key-authorization\]$/)
}

function checkModes(run: CaptureRun): void {
  assert.equal((statSync(run.bundle).mode & 0o777).toString(8), '600')
  assert.deepEqual(checksumMismatches(run.root, run.manifest), [])
}

// ---------- the runs ----------

describe('redaction corpus: planted secrets never reach a bundle', {timeout: SUITE_TIMEOUT_MS}, () => {
  it('plants at least 30 distinct secrets of different shapes', () => {
    assert.ok(planted.length >= 30, `only ${planted.length}`)
    assert.equal(new Set(planted.map((p) => p.value)).size, planted.length)
  })

  describe('run A: gRPC API, v0.4 payloads, --token X, credentials in --api and --metrics-url', () => {
    let demo: SpawnedDemo | null = null
    let run: CaptureRun
    before(async () => {
      demo = await spawnDemo({
        token: A.token,
        extraArgs: ['--source-id', idsA.source, '--transform-id', idsA.transform, '--sink-id', idsA.sink, '--sink-auth', `${A.sinkUser}:${A.sinkPass}`, '--trace-protocol', '0.4', '--rate', '500'],
      })
      const bundle = path.join(work, 'a.tar.gz')
      const config = path.join(work, 'vector.yaml')
      writeFileSync(config, configFileA(), {mode: 0o600})
      const result = await runCli(
        ['capture', '--api', withCredentials(demo.api, 'admin', A.apiPass), '--token', A.token, '--config', config, '--metrics-url', withCredentials(`${demo.metrics}`, 'scraper', A.metricsPass), '--duration', '2s', '--interval', '1s', '--json', '--yes', '--output', bundle],
        {env: vdiagEnv(), timeoutMs: RUN_TIMEOUT_MS},
      )
      run = openBundle('A', result, bundle, planted.filter((p) => p.run === 'A'))
    })
    after(async () => {
      await demo?.stop()
    })

    it('no planted secret appears in any file, decoded payload, the archive or the output', () => checkNoSecrets(run))
    it('the audit names rules, counts and places, never values', () =>
      checkAudit(run, ['aws-access-key-id', 'datadog-app-key', 'github-token', 'datadog-api-key', 'url-credentials', 'key-authorization', 'key-token']))
    it('redacted component ids join across pipeline facts, metrics and spans', () => {
      checkJoin(run, Object.values(idsA))
    })
    it('the sink span keeps its URL and header names, without credentials', () => checkSinkMeta(run))
    it('the config copy keeps references and ids joined with the rest', () => {
      const copies = run.manifest.files.map((f) => f.path).filter((p) => p.startsWith('config/') && !p.endsWith('.json'))
      assert.equal(copies.length, 1, `config copies: ${copies.join(', ')}`)
      const text = readFileSync(path.join(run.root, copies[0]!), 'utf8')
      assert.ok(text.includes('${DD_API_KEY}'), 'the ${DD_API_KEY} reference was not kept')
      for (const id of checkJoin(run, Object.values(idsA))) assert.ok(text.includes(id), `config copy lacks component ${id}`)
    })
    it('the argv in the manifest keeps its shape, without the values', () => {
      const line = run.manifest.command_line.join(' ')
      assert.match(line, /--token \[REDACTED:(known-secret|key-token)\]/)
      assert.match(line, /--api http:\/\/\[REDACTED:url-credentials\]@127\.0\.0\.1:\d+/)
      assert.match(line, /--metrics-url http:\/\/\[REDACTED:url-credentials\]@127\.0\.0\.1:\d+\/metrics/)
    })
    it('bundle mode 0600 and checksums verify', () => checkModes(run))
    it('replay works on the redacted bundle and names the components', {timeout: RUN_TIMEOUT_MS}, async () => {
      await checkReplay(run, checkJoin(run, Object.values(idsA)))
    })
  })

  describe('run B: GraphQL API, v0.5 payloads (re-encoded), --token=X, a token as URL user', () => {
    let demo: SpawnedDemo | null = null
    let run: CaptureRun
    before(async () => {
      demo = await spawnDemo({
        apiProtocol: 'graphql',
        token: B.token,
        extraArgs: ['--source-id', idsB.source, '--transform-id', idsB.transform, '--sink-id', idsB.sink, '--sink-auth', `${B.sinkUser}:${B.sinkPass}`, '--trace-protocol', '0.5', '--rate', '500'],
      })
      const bundle = path.join(work, 'b.tar.gz')
      const log = path.join(work, 'vector.log')
      writeFileSync(log, logFileB(), {mode: 0o600})
      const result = await runCli(
        ['capture', '--api', withCredentials(demo.api, B.apiUserToken), `--token=${B.token}`, '--logs', log, '--duration', '2s', '--interval', '1s', '--json', '--yes', '--output', bundle],
        {env: vdiagEnv(), timeoutMs: RUN_TIMEOUT_MS},
      )
      run = openBundle('B', result, bundle, planted.filter((p) => p.run === 'B'))
    })
    after(async () => {
      await demo?.stop()
    })

    it('no planted secret appears in any file, decoded payload, the archive or the output', () => checkNoSecrets(run))
    it('v0.5 payloads were re-encoded after redaction', () => {
      const index = ndjson<{version: string; reencoded: boolean}>(path.join(run.root, 'spans/payloads.ndjson'))
      assert.ok(index.length > 0)
      assert.ok(index.every((p) => p.version === 'v0.5'))
      assert.ok(index.every((p) => p.reencoded), 'every payload names a planted id, so every one must be re-encoded')
    })
    it('the audit names rules, counts and places, never values', () => checkAudit(run, ['slack-token', 'vendor-token', 'jwt', 'github-token', 'url-credentials', 'key-authorization', 'key-token']))
    it('redacted component ids join across pipeline facts, metrics and spans', () => {
      checkJoin(run, Object.values(idsB))
    })
    it('the sink span keeps its URL and header names, without credentials', () => checkSinkMeta(run))
    it('the log copy keeps its lines, the references in them, and the shape of what was removed', () => {
      const copies = run.manifest.files.map((f) => f.path).filter((p) => p.startsWith('logs/') && p.endsWith('.log'))
      assert.equal(copies.length, 1, `log copies: ${copies.join(', ')}`)
      const text = readFileSync(path.join(run.root, copies[0]!), 'utf8')
      assert.ok(text.includes('token=${VDIAG_TOKEN} api_key=SECRET[vault.dd_api_key]\n'), `references were not kept verbatim:\n${text}`)
      assert.ok(text.includes('--api-key [REDACTED:key-api-key] --config /etc/vector/vector.yaml'), text)
      assert.ok(text.includes('Authorization: Bearer [REDACTED:bearer-token]'), text)
      assert.ok(text.includes('[REDACTED:pem-private-key]'), text)
      assert.ok(text.includes('starting vector\n'), text)
    })
    it('bundle mode 0600 and checksums verify', () => checkModes(run))
    it('replay works on the redacted bundle and names the components', {timeout: RUN_TIMEOUT_MS}, async () => {
      await checkReplay(run, checkJoin(run, Object.values(idsB)))
    })
  })

  describe('run C: capture --demo, token from the environment, host names planted in a private namespace', () => {
    let run: CaptureRun
    let namespaced = false
    let dead = 0
    before(async () => {
      namespaced = namespacesAvailable()
      const bundle = path.join(work, 'c.tar.gz')
      dead = await closedPort()
      const args = [BIN, 'capture', '--demo', '--metrics-url', `http://scraper:${C.metricsPass}@127.0.0.1:${dead}/metrics`, '--duration', '2s', '--interval', '1s', '--json', '--output', bundle]
      const env = vdiagEnv({VDIAG_API_TOKEN: C.token})
      let result: CliResult
      if (namespaced) {
        plant('C', 'Slack user token as the host name (UTS namespace)', C.hostToken)
        plant('C', 'npm token as a mount point name (host facts filesystems)', C.mountNpm)
        plant('C', 'GitLab token as a mount point name', C.mountGitlab)
        const mnt = path.join(work, 'mnt')
        const script = [
          overlayMount(path.join(mnt, C.mountNpm)),
          overlayMount(path.join(mnt, C.mountGitlab)),
          `hostname "${C.hostToken}"`,
          `exec "${process.execPath}" "$@"`,
        ].join(' && ')
        result = await runProcess('unshare', ['--user', '--map-root-user', '--mount', '--uts', 'sh', '-c', script, 'sh', ...args], env, RUN_TIMEOUT_MS)
      } else {
        result = await runProcess(process.execPath, args, env, RUN_TIMEOUT_MS)
      }
      run = openBundle('C', result, bundle, planted.filter((p) => p.run === 'C'))
    })

    it('no planted secret appears in any file, decoded payload, the archive or the output', () => checkNoSecrets(run))
    it('the planted host names reached the host facts, redacted', (t) => {
      if (!namespaced) {
        t.skip('no private mount/UTS namespace on this machine')
        return
      }
      const text = readFileSync(path.join(run.root, 'host/facts.json'), 'utf8')
      const facts = JSON.parse(text) as {os: {hostname?: string}; filesystems: {mount: string}[]; status: Record<string, {ok: boolean; error?: string}>}
      assert.match(facts.os.hostname ?? '', /^\[REDACTED:slack-token#[0-9a-f]{6}\]$/)
      if (facts.status.filesystems?.ok) {
        const mounts = facts.filesystems.map((f) => f.mount).filter((m) => m.includes('[REDACTED:vendor-token#'))
        assert.equal(mounts.length, 2, `mounts: ${facts.filesystems.map((f) => f.mount).join(', ')}`)
      } else {
        // A loaded machine can time the collector out; the mounts were then never read, so there is nothing to check.
        t.diagnostic(`filesystems not collected (${facts.status.filesystems?.error}); mount names not checked`)
      }
      assert.equal(run.manifest.pipeline.hostname?.includes('[REDACTED:slack-token#'), true, `manifest pipeline.hostname: ${run.manifest.pipeline.hostname}`)
    })
    it('the unreachable --metrics-url was reported, by its address', () => {
      const probe = run.manifest.collectors.internal_metrics_probe
      assert.ok(probe, 'no probe status in the manifest')
      assert.equal(probe.status, 'skipped')
      assert.ok(probe.detail?.includes(`127.0.0.1:${dead}/metrics`), probe.detail)
      const warning = readFileSync(path.join(run.root, 'vdiag.log'), 'utf8').split('\n').find((l) => l.includes('"metrics_url"'))
      assert.ok(warning?.includes(`127.0.0.1:${dead}/metrics`), warning)
    })
    it('bundle mode 0600 and checksums verify', () => checkModes(run))
  })

  describe('failing runs never print the token', () => {
    let demo: SpawnedDemo | null = null
    before(async () => {
      demo = await spawnDemo({token: E.rightToken})
    })
    after(async () => {
      await demo?.stop()
    })
    const errorSecrets = () => planted.filter((p) => p.run === 'errors')

    for (const json of [false, true]) {
      it(`a wrong token${json ? ' (--json)' : ''}: no bundle with the token, and no token in the output`, {timeout: RUN_TIMEOUT_MS}, async () => {
        const bundle = path.join(work, `wrong-${json}.tar.gz`)
        const r = await runCli(['capture', '--api', demo!.api, '--token', E.wrongToken, '--duration', '2s', '--interval', '1s', '--output', bundle, ...(json ? ['--json'] : [])], {env: vdiagEnv(), timeoutMs: RUN_TIMEOUT_MS})
        assert.notEqual(r.signal, 'SIGKILL', 'the run hung')
        assert.deepEqual(leaks([{file: 'stdout', text: r.stdout}, {file: 'stderr', text: r.stderr}], errorSecrets()), [])
        assert.ok(!r.stderr.includes(E.rightToken) && !r.stdout.includes(E.rightToken))
        let exists = true
        try {
          statSync(bundle)
        } catch {
          exists = false
        }
        if (exists) {
          const {root} = extractWithSystemTools(bundle)
          assert.deepEqual(leaks(searchableTexts(root), errorSecrets()), [])
        } else {
          assert.notEqual(r.code, 0, 'no bundle, yet success')
          assert.match(r.stderr + r.stdout, /token|401|unauthori[sz]ed|refused/i)
        }
      })
    }

    it('an admin API that is not there: the error names the address without credentials or token', {timeout: RUN_TIMEOUT_MS}, async () => {
      const port = await closedPort()
      const r = await runCli(['capture', '--api', `http://admin:${E.deadApiPass}@127.0.0.1:${port}`, '--token', E.deadApiToken, '--duration', '2s', '--output', path.join(work, 'dead.tar.gz')], {env: vdiagEnv(), timeoutMs: RUN_TIMEOUT_MS})
      assert.equal(r.code, 1, r.stderr)
      assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port}`))
      assert.deepEqual(leaks([{file: 'stdout', text: r.stdout}, {file: 'stderr', text: r.stderr}], errorSecrets()), [])
      assert.ok(!r.stderr.includes('admin:'), 'the URL user leaked into the message')
    })
  })
})
