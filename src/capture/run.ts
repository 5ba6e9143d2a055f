/**
 * `vdiag capture`, as named phases: prepare → attach → gather static facts →
 * plan (and consent) → window (intake, samplers, error stream and host facts
 * alongside) → logs → write the bundle. Every phase records its own status;
 * only a dead admin API, a refused window or a bad flag stops us before a
 * bundle is written.
 */
import {mkdir, mkdtemp, rm, writeFile, appendFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type {ApiTarget} from '../attach/http.js'
import {ENTRY, type CollectorReport, type Manifest, type PipelineFacts, type TracingRecord} from '../bundle/format.js'
import type {Redactor} from '../bundle/redaction.js'
import {ExitCode, VdiagError, errorMessage} from '../errors.js'
import {attach, ms} from './attach-phase.js'
import type {CaptureEvent, CaptureListener} from './events.js'
import {defaultOutputName, type CaptureHooks, type CaptureOptions} from './options.js'
import {buildPlan} from './plan.js'
import {installInterruptHandlers} from './signals.js'
import {startWindowCollectors} from './collectors.js'
import {assertDurationAllowed, runWindow, tracingUnavailable} from './window.js'
import {buildManifest} from './manifest.js'
import {isLoopback} from './listen.js'
import {DEFAULT_AGENT_URL, parseAgentUrl} from '../intake/agent-url.js'
import type {AgentCheck, CaptureAgent} from './agent-phase.js'

export interface CaptureResult {
  exitCode: number
  path: string | null
  size: number
  sha256: string | null
  complete: boolean
  reason: string | null
  manifest: Manifest | null
  dryRun: boolean
}

export async function runCapture(opts: CaptureOptions, emit: CaptureListener, hooks: CaptureHooks = {}): Promise<CaptureResult> {
  const {Redactor} = await import('../bundle/redaction.js')
  const redactor = new Redactor({extraSecrets: opts.token ? [opts.token] : []})
  const staging = await mkdtemp(path.join(opts.tmpDir ?? os.tmpdir(), 'vdiag-capture-'))
  const events: CaptureEvent[] = []
  // What is printed is redacted like vdiag.log: --json output ends up in CI logs and tickets.
  const log: CaptureListener = (e) => {
    const safe = redactor.redactJson(e, ENTRY.log)
    events.push(safe)
    emit(safe)
  }
  let demo: Awaited<ReturnType<typeof import('../demo/spawn.js').spawnDemo>> | null = null
  let intake: {url: string; close(): Promise<void>} | null = null
  let store: {close(): Promise<void>} | null = null
  let agentCheck: AgentCheck | null = null
  let captureAgent: CaptureAgent | null = null
  let keepStaging = false
  // Ctrl-C stays handled until the bundle is written: unhandled, it would kill us mid-write and leave the staging folder behind.
  let disposeInterrupts: (() => void) | null = null
  try {
    // prepare
    let api = opts.api
    if (opts.demo) {
      const {spawnDemo} = await import('../demo/spawn.js')
      demo = await spawnDemo({scenario: opts.demoScenario})
      api = demo.api
    }
    const target: ApiTarget = {url: api, token: opts.token}

    // attach: fatal only when the API is not there at all
    const attached = await attach(target)
    const collectors: Record<string, CollectorReport> = {...attached.collectors}
    for (const w of attached.warnings) log({event: 'warning', code: 'attach', message: w})
    const facts = attached.facts
    const output = path.resolve(opts.output ?? defaultOutputName(facts.hostname ?? os.hostname(), new Date(), opts.format))
    await assertWritableDir(path.dirname(output))

    // static facts: config files, where the internal metrics are
    const configs = await collectStatic(opts, redactor, staging, facts, collectors, log)
    const metrics = await probeMetrics(opts, demo?.metrics, collectors, log)
    // --via agent: is the Agent there? Never fatal: the spans are kept in the bundle either way
    if (opts.via === 'agent') {
      const {checkAgent, startCaptureAgent} = await import('./agent-phase.js')
      agentCheck = await checkAgent(parseAgentUrl(opts.agentUrl ?? DEFAULT_AGENT_URL, '--agent-url'), collectors, log)
      captureAgent = await startCaptureAgent(agentCheck, log)
    }

    // plan: everything that can refuse must refuse before anything is switched on
    const tracing = planTracing(opts, attached.tracing, log)
    const wantSpans = tracing.supported && tracing.reason === null
    const {displayUrl} = await import('../attach/api-errors.js')
    const plan = buildPlan({opts, api: displayUrl(api), output, spans: wantSpans, spansReason: tracing.reason, components: facts.components.length, metricsUrl: metrics === null ? null : displayUrl(metrics), configs})
    log({event: 'started', api: displayUrl(api), duration_ms: opts.durationMs, interval_ms: opts.intervalMs, level: opts.level, output, plan: plan.lines})
    log({event: 'attached', generation: facts.api.generation, version: facts.version, hostname: facts.hostname, components: facts.components.length, tracing: wantSpans, tracing_reason: tracing.reason})
    if (opts.dryRun) {
      log({event: 'done', exit_code: ExitCode.Ok, path: null, complete: true, reason: 'dry run: nothing was switched on'})
      return {exitCode: ExitCode.Ok, path: null, size: 0, sha256: null, complete: true, reason: 'dry run', manifest: null, dryRun: true}
    }
    if (hooks.confirm && !(await hooks.confirm(plan))) {
      throw new VdiagError('interrupted', 'capture cancelled; nothing was switched on', {exitCode: ExitCode.Interrupted})
    }

    // intake before the window, so the first span has somewhere to go
    let counts = () => ({spans: 0, payloads: 0, dropped: 0})
    let storeCounts: (() => import('../intake/store.js').StoreCounts) | null = null
    if (wantSpans) {
      const {createSpanStore} = await import('../intake/store.js')
      const {startIntake} = await import('../intake/server.js')
      const s = await createSpanStore({dir: staging, maxSpans: opts.maxSpans, redactSpan: (span) => redactor.redactSpanFields(span, ENTRY.spans)})
      store = s
      storeCounts = () => s.counts()
      if (opts.listen && !isLoopback(opts.listen.host)) {
        log({event: 'warning', code: 'listen', message: `the span intake listens on ${opts.listen.host}, not only on loopback: anything that can reach that address can send it spans while the window is open`})
      }
      const i = await startIntake({
        store: s,
        ...(opts.listen ? {host: opts.listen.host, port: opts.listen.port} : {}),
        onReject: (r) => log({event: 'warning', code: 'bad_payload', message: `intake refused a payload on ${r.path}: ${r.status} ${r.reason}`}),
        ...(captureAgent ? {forward: captureAgent.forwarder, onPayload: captureAgent.onPayload} : {}),
      })
      intake = i
      counts = () => {
        const c = s.counts()
        return {spans: c.spans_kept, payloads: c.payloads, dropped: c.spans_dropped_vdiag}
      }
      tracing.requested = {duration_secs: opts.durationMs / 1000, level: opts.level, endpoint: i.url}
      collectors.intake = {status: 'ok', duration_ms: 0, detail: i.url}
    }

    // the window, with everything that samples alongside it
    const windowCollectors = await startWindowCollectors({staging, redactor, admin: attached.admin, target, metricsUrl: metrics, intervalMs: opts.intervalMs})
    const interrupts = installInterruptHandlers({
      onFirst: (sig) => log({event: 'warning', code: 'interrupted', message: `${sig}: ending the window and writing what was collected (press Ctrl-C again to abort at once)`}),
      onForce: async () => {
        if (tracing.opened) {
          const {endWindow} = await import('../attach/tracing-client.js')
          await endWindow({...target, timeoutMs: 1_000}).catch(() => undefined)
        }
        await demo?.stop().catch(() => undefined)
        // The bundle writer may still be adding files; rm retries on ENOTEMPTY.
        if (!keepStaging) await rm(staging, {recursive: true, force: true, maxRetries: 5, retryDelay: 50}).catch(() => undefined)
      },
    })
    disposeInterrupts = () => interrupts.dispose()
    let outcome
    try {
      outcome = await runWindow(
        {target, durationMs: opts.durationMs, intervalMs: opts.intervalMs, level: opts.level, intakeUrl: wantSpans ? intake!.url : null, tracing},
        {sample: windowCollectors.sample, spans: {received: counts}, signal: interrupts.signal, emit: log, healthy: () => isHealthy(target)},
      )
    } finally {
      Object.assign(collectors, await windowCollectors.stop())
      await intake?.close()
      await store?.close()
    }
    const agentRecord = captureAgent ? await captureAgent.finish(collectors) : null
    if (wantSpans) {
      collectors.tracing = {status: tracing.ended_cleanly ? 'ok' : 'partial', duration_ms: collectors.metrics?.duration_ms ?? 0, ...(tracing.close_error ? {error: tracing.close_error} : {})}
    } else {
      collectors.tracing = {status: 'skipped', duration_ms: 0, detail: tracing.reason ?? 'unavailable'}
    }

    // logs: the window's tail, once the window is over
    if (opts.logs.length) await collectLogTails(opts, redactor, staging, outcome, collectors)

    // write the bundle
    await writeJson(staging, ENTRY.pipeline, redactor.redactJson(facts, ENTRY.pipeline))
    await writeJson(staging, ENTRY.tracing, redactor.redactJson(tracing, ENTRY.tracing))
    const interrupted = outcome.interrupted ? (interrupts.reason ?? 'SIGINT') : null
    const sc = storeCounts?.() ?? null
    const manifest = buildManifest({opts, api, facts, tracing, outcome, interrupted, collectors, counts: sc, intakeUrl: wantSpans ? intake!.url : null, agent: agentRecord, redactor, warn: (m) => log({event: 'warning', code: 'spans_lost', message: m})})
    await writeFile(path.join(staging, ENTRY.log), events.map((e) => JSON.stringify(e)).join('\n') + '\n', {mode: 0o600})
    const {writeBundle} = await import('../bundle/writer.js')
    const topFolder = path.basename(output).replace(/\.(tar\.gz|zip)$/, '')
    let written
    try {
      written = await writeBundle({stagingDir: staging, topFolder, output, format: opts.format, manifest: {...manifest, redaction: redactor.audit()}})
    } catch (e) {
      keepStaging = true
      throw e instanceof VdiagError ? new VdiagError(e.code, e.summary, {hint: e.hint?.includes(staging) ? e.hint : `${e.hint ?? ''} The collected files are kept in ${staging}`.trim(), exitCode: e.exitCode}) : e
    }
    log({event: 'bundle_written', path: written.path, size: written.size, sha256: written.sha256, spans: sc?.spans_kept ?? 0, complete: manifest.complete})
    const exitCode = interrupted ? ExitCode.Interrupted : outcome.pipelineLost ? ExitCode.Failed : ExitCode.Ok
    log({event: 'done', exit_code: exitCode, path: written.path, complete: manifest.complete, reason: manifest.incomplete_reason})
    return {exitCode, path: written.path, size: written.size, sha256: written.sha256, complete: manifest.complete, reason: manifest.incomplete_reason, manifest: written.manifest, dryRun: false}
  } finally {
    disposeInterrupts?.()
    await intake?.close().catch(() => undefined)
    await store?.close().catch(() => undefined)
    await captureAgent?.close().catch(() => undefined)
    agentCheck?.client.close()
    await demo?.stop().catch(() => undefined)
    if (!keepStaging) await rm(staging, {recursive: true, force: true}).catch(() => undefined)
  }
}

function planTracing(opts: CaptureOptions, probe: Awaited<ReturnType<typeof attach>>['tracing'], log: CaptureListener): TracingRecord {
  if (!probe.supported) {
    log({event: 'warning', code: 'tracing_unsupported', message: `this pipeline cannot turn on tracing (${probe.reason}); capturing metrics and host facts only`})
    return tracingUnavailable(probe.reason, probe.http)
  }
  const st = probe.status
  assertDurationAllowed(opts.durationMs, st.max_duration_secs)
  const tracing: TracingRecord = {supported: true, reason: null, status_http: probe.http, max_duration_secs: st.max_duration_secs, requested: null, opened: null, final: null, ended_cleanly: false, close_error: null}
  if (st.window && st.window.state !== 'ended') {
    tracing.reason = `another tracing window (${st.window.id}) is ${st.window.state} until ${st.window.expires_at}`
    if (!opts.yes) {
      throw new VdiagError('tracing_conflict', `${tracing.reason}; only one window can be open at a time`, {
        hint: 'wait for it to end, or pass --yes to capture metrics and host facts without spans',
        details: {window: st.window},
      })
    }
    log({event: 'warning', code: 'tracing_conflict', message: `${tracing.reason}; capturing without spans (--yes)`})
  }
  return tracing
}

/** Config files: redacted copies, and the topology the gRPC API does not give. Returns how many paths were given. */
async function collectStatic(opts: CaptureOptions, redactor: Redactor, staging: string, facts: PipelineFacts, collectors: Record<string, CollectorReport>, log: CaptureListener): Promise<number> {
  if (!opts.configs.length) return 0
  const t0 = performance.now()
  const {collectConfigs} = await import('./config-files.js')
  const {collection, documents} = await collectConfigs(opts.configs, redactor)
  for (const d of documents) await writeText(staging, d.entry, d.text)
  await writeJson(staging, ENTRY.configIndex, collection)
  const failed = collection.files.filter((f) => !f.ok)
  for (const f of failed) log({event: 'warning', code: 'config', message: `config ${f.source}: ${f.error}`})
  if (facts.edges === null && collection.edges.length) {
    facts.edges = collection.edges.map((e) => ({from: e.from, to: e.to}))
    facts.edges_source = 'config'
  }
  collectors.config = {status: failed.length === 0 ? 'ok' : failed.length < collection.files.length ? 'partial' : 'failed', duration_ms: ms(t0), detail: `${collection.files.length - failed.length} of ${collection.files.length} files, ${collection.edges.length} edges`}
  return opts.configs.length
}

/** Returns the metrics URL to scrape, or null. The default address is tried once, briefly. */
async function probeMetrics(opts: CaptureOptions, demoMetrics: string | undefined, collectors: Record<string, CollectorReport>, log: CaptureListener): Promise<string | null> {
  const t0 = performance.now()
  const {probeMetricsUrl, DEFAULT_METRICS_URL} = await import('../attach/prometheus.js')
  const explicit = opts.metricsUrl ?? demoMetrics
  const probe = await probeMetricsUrl(explicit ?? DEFAULT_METRICS_URL, {explicit: explicit !== undefined})
  collectors.internal_metrics_probe = {status: probe.found ? 'ok' : 'skipped', duration_ms: ms(t0), detail: `${probe.url}: ${probe.reason}`}
  if (!probe.found && opts.metricsUrl) log({event: 'warning', code: 'metrics_url', message: `--metrics-url ${probe.url}: ${probe.reason}`})
  return probe.found ? (explicit ?? DEFAULT_METRICS_URL) : null
}

async function collectLogTails(opts: CaptureOptions, redactor: Redactor, staging: string, outcome: {startedAt: Date; endedAt: Date}, collectors: Record<string, CollectorReport>): Promise<void> {
  const t0 = performance.now()
  const {collectLogs, DEFAULT_LOG_MAX_BYTES} = await import('./logs.js')
  const {collection, documents} = await collectLogs(opts.logs, {since: outcome.startedAt, until: outcome.endedAt, maxBytes: DEFAULT_LOG_MAX_BYTES, redactor})
  for (const d of documents) await writeText(staging, d.entry, d.text)
  await writeJson(staging, ENTRY.logsIndex, collection)
  const sources = collection.sources
  const bad = sources.filter((s) => s.status !== 'ok')
  collectors.logs = {status: bad.length === 0 ? 'ok' : bad.length < sources.length ? 'partial' : 'failed', duration_ms: ms(t0), ...(bad.length ? {error: bad.map((s) => `${s.spec}: ${s.error ?? s.status}`).join('; ')} : {})}
}

async function isHealthy(target: ApiTarget): Promise<boolean> {
  const {checkHealth} = await import('../attach/health.js')
  try {
    await checkHealth({...target, timeoutMs: 2_000})
    return true
  } catch {
    return false
  }
}

async function writeText(root: string, entry: string, text: string): Promise<void> {
  const file = path.join(root, entry)
  await mkdir(path.dirname(file), {recursive: true})
  await writeFile(file, text, {mode: 0o600})
}

function writeJson(root: string, entry: string, value: unknown): Promise<void> {
  return writeText(root, entry, JSON.stringify(value, null, 2) + '\n')
}

async function assertWritableDir(dir: string): Promise<void> {
  const probe = path.join(dir, `.vdiag-write-test-${process.pid}`)
  try {
    await appendFile(probe, '', {mode: 0o600})
    await rm(probe, {force: true})
  } catch (e) {
    throw new VdiagError('output_unwritable', `cannot write the bundle to ${dir}: ${WRITE_ERRORS[(e as NodeJS.ErrnoException).code ?? ''] ?? errorMessage(e)}`, {hint: 'choose another place with --output PATH'})
  }
}

/** The probe file's own name means nothing to the user; say what is wrong with the folder. */
const WRITE_ERRORS: Record<string, string> = {
  ENOENT: 'the folder does not exist',
  ENOTDIR: 'part of the path is a file, not a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
}
