/**
 * `vdiag capture`, as named phases: prepare → attach → plan → window (with the
 * intake and host facts alongside) → write the bundle. Every phase records its
 * own status; only a dead admin API or a bad flag stops us before a bundle.
 */
import {mkdir, mkdtemp, rm, writeFile, appendFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type {ApiTarget} from '../attach/http.js'
import {ENTRY, FORMAT_NAME, FORMAT_VERSION, type CollectorReport, type Manifest, type TracingRecord} from '../bundle/format.js'
import type {Redactor} from '../bundle/redaction.js'
import {ExitCode, VdiagError, errorMessage} from '../errors.js'
import {attach, ms} from './attach-phase.js'
import type {CaptureEvent, CaptureListener} from './events.js'
import {defaultOutputName, type CaptureOptions} from './options.js'
import {installInterruptHandlers} from './signals.js'
import {SnapshotRecorder, systemClock} from './snapshots.js'
import {assertDurationAllowed, runWindow, tracingUnavailable} from './window.js'
import {VDIAG_VERSION} from '../util/version.js'

export interface CaptureResult {
  exitCode: number
  path: string | null
  size: number
  sha256: string | null
  complete: boolean
  reason: string | null
  manifest: Manifest | null
}

export async function runCapture(opts: CaptureOptions, emit: CaptureListener): Promise<CaptureResult> {
  const {Redactor} = await import('../bundle/redaction.js')
  const redactor = new Redactor({extraSecrets: opts.token ? [opts.token] : []})
  const staging = await mkdtemp(path.join(opts.tmpDir ?? os.tmpdir(), 'vdiag-capture-'))
  const events: CaptureEvent[] = []
  const log: CaptureListener = (e) => {
    events.push(e)
    emit(e)
  }
  let demo: Awaited<ReturnType<typeof import('../demo/spawn.js').spawnDemo>> | null = null
  let intake: {url: string; close(): Promise<void>} | null = null
  let store: {close(): Promise<void>} | null = null
  let keepStaging = false
  try {
    let api = opts.api
    if (opts.demo) {
      const {spawnDemo} = await import('../demo/spawn.js')
      demo = await spawnDemo({scenario: opts.demoScenario})
      api = demo.api
    }
    const target: ApiTarget = {url: api, token: opts.token}
    const collectors: Record<string, CollectorReport> = {}

    // attach: fatal only when the API is not there at all
    const attached = await attach(target)
    Object.assign(collectors, attached.collectors)
    for (const w of attached.warnings) log({event: 'warning', code: 'attach', message: w})
    const {facts} = attached

    const output = path.resolve(opts.output ?? defaultOutputName(facts.hostname ?? os.hostname(), new Date(), opts.format))
    await assertWritableDir(path.dirname(output))

    // plan: everything that can refuse must refuse before anything is switched on
    let tracing: TracingRecord
    if (attached.tracing.supported) {
      const st = attached.tracing.status
      assertDurationAllowed(opts.durationMs, st.max_duration_secs)
      tracing = {supported: true, reason: null, status_http: attached.tracing.http, max_duration_secs: st.max_duration_secs, requested: null, opened: null, final: null, ended_cleanly: false, close_error: null}
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
    } else {
      tracing = tracingUnavailable(attached.tracing.reason, attached.tracing.http)
      log({event: 'warning', code: 'tracing_unsupported', message: `this pipeline cannot turn on tracing (${attached.tracing.reason}); capturing metrics and host facts only`})
    }
    const wantSpans = tracing.supported && tracing.reason === null

    log({event: 'started', api, duration_ms: opts.durationMs, interval_ms: opts.intervalMs, level: opts.level, output, plan: describePlan(opts, wantSpans, output)})
    log({event: 'attached', generation: facts.api.generation, version: facts.version, hostname: facts.hostname, components: facts.components.length, tracing: wantSpans, tracing_reason: tracing.reason})

    // intake before the window, so the first span has somewhere to go
    let counts = () => ({spans: 0, payloads: 0, dropped: 0})
    let storeCounts: (() => import('../intake/store.js').StoreCounts) | null = null
    if (wantSpans) {
      const {createSpanStore} = await import('../intake/store.js')
      const {startIntake} = await import('../intake/server.js')
      await mkdir(path.join(staging, path.dirname(ENTRY.spans)), {recursive: true})
      const s = await createSpanStore({dir: staging, maxSpans: opts.maxSpans, redactSpan: (span) => redactor.redactSpanFields(span, ENTRY.spans)})
      store = s
      storeCounts = () => s.counts()
      const i = await startIntake({
        store: s,
        onReject: (r) => log({event: 'warning', code: 'bad_payload', message: `intake refused a payload on ${r.path}: ${r.status} ${r.reason}`}),
      })
      intake = i
      counts = () => {
        const c = s.counts()
        return {spans: c.spans_kept, payloads: c.payloads, dropped: c.spans_dropped_vdiag}
      }
      tracing.requested = {duration_secs: opts.durationMs / 1000, level: opts.level, endpoint: i.url}
      collectors.intake = {status: 'ok', duration_ms: 0, detail: i.url}
    }

    await mkdir(path.join(staging, path.dirname(ENTRY.metrics)), {recursive: true})
    const t0 = systemClock.now()
    const recorder = new SnapshotRecorder(path.join(staging, ENTRY.metrics), async () => redactor.redactJson(await attached.admin!.snapshot(), ENTRY.metrics), systemClock, t0)
    const hostFacts = (async () => {
      const h0 = performance.now()
      try {
        const {collectHostFacts} = await import('./host-facts.js')
        const facts = await collectHostFacts()
        await writeJson(staging, ENTRY.host, redactor.redactJson(facts, ENTRY.host))
        const missing = Object.entries(facts.status).filter(([, s]) => !s.ok).map(([k, s]) => `${k}: ${s.error}`)
        collectors.host = {status: missing.length ? 'partial' : 'ok', duration_ms: ms(h0), ...(missing.length ? {error: missing.join('; ')} : {})}
      } catch (e) {
        collectors.host = {status: 'failed', duration_ms: ms(h0), error: errorMessage(e)}
      }
    })()

    const interrupts = installInterruptHandlers({
      onFirst: (sig) => log({event: 'warning', code: 'interrupted', message: `${sig}: ending the window and writing what was collected (press Ctrl-C again to abort at once)`}),
      onForce: async () => {
        if (tracing.opened) {
          const {endWindow} = await import('../attach/tracing-client.js')
          await endWindow({...target, timeoutMs: 1_000}).catch(() => undefined)
        }
        await demo?.stop().catch(() => undefined)
      },
    })
    let outcome
    const w0 = performance.now()
    try {
      outcome = await runWindow(
        {target, durationMs: opts.durationMs, intervalMs: opts.intervalMs, level: opts.level, intakeUrl: wantSpans ? intake!.url : null, tracing},
        {recorder, spans: {received: counts}, signal: interrupts.signal, emit: log, healthy: () => isHealthy(target)},
      )
    } finally {
      interrupts.dispose()
      await recorder.close()
      await hostFacts
      await intake?.close()
      await store?.close()
    }
    const interrupted = outcome.interrupted ? (interrupts.reason ?? 'SIGINT') : null
    collectors.metrics = {status: recorder.failed === 0 ? 'ok' : recorder.failed < recorder.taken ? 'partial' : 'failed', duration_ms: ms(w0), detail: `${recorder.taken} snapshots, ${recorder.failed} failed`}
    if (wantSpans) {
      collectors.tracing = {status: tracing.ended_cleanly ? 'ok' : 'partial', duration_ms: ms(w0), ...(tracing.close_error ? {error: tracing.close_error} : {})}
    } else {
      collectors.tracing = {status: 'skipped', duration_ms: 0, detail: tracing.reason ?? 'unavailable'}
    }

    // write the bundle
    await writeJson(staging, ENTRY.pipeline, redactor.redactJson(facts, ENTRY.pipeline))
    await writeJson(staging, ENTRY.tracing, redactor.redactJson(tracing, ENTRY.tracing))
    await writeFile(path.join(staging, ENTRY.log), events.map((e) => JSON.stringify(redactor.redactJson(e, ENTRY.log))).join('\n') + '\n', {mode: 0o600})

    const sc = storeCounts?.() ?? {payloads: 0, bad_payloads: 0, oversized_payloads: 0, spans_kept: 0, spans_dropped_vdiag: 0, traces: 0}
    const started = tracing.final?.state === 'ended' ? tracing.final.spans_started : null
    const pdropped = tracing.final?.state === 'ended' ? tracing.final.spans_dropped : null
    const lost = started === null || pdropped === null ? null : started - pdropped - sc.spans_kept - sc.spans_dropped_vdiag
    if (lost !== null && lost !== 0) log({event: 'warning', code: 'spans_lost', message: `${lost} spans the pipeline started never reached vdiag`})

    const reasons: string[] = []
    if (interrupted) reasons.push(`interrupted by ${interrupted}`)
    if (outcome.pipelineLost) reasons.push(outcome.pipelineLost)
    if (wantSpans && !tracing.ended_cleanly && !outcome.pipelineLost) reasons.push(tracing.close_error ?? 'the tracing window did not end cleanly')
    const complete = reasons.length === 0
    const manifest: Omit<Manifest, 'files'> = {
      format: FORMAT_NAME,
      format_version: FORMAT_VERSION,
      vdiag_version: VDIAG_VERSION,
      created_at: new Date().toISOString(),
      complete,
      incomplete_reason: complete ? null : reasons.join('; '),
      command_line: ['vdiag', ...redactor.redactArgv(opts.argv)],
      capture: {api: redactor.redactText(api, ENTRY.manifest, 'capture.api'), duration_ms: opts.durationMs, interval_ms: opts.intervalMs, level: opts.level, max_spans: opts.maxSpans, via: 'local', intake: wantSpans ? intake!.url : null},
      pipeline: {api_generation: facts.api.generation, version: facts.version, hostname: facts.hostname},
      window: {start: tracing.opened?.started_at ?? outcome.startedAt.toISOString(), end: tracing.final?.ended_at ?? outcome.endedAt.toISOString()},
      collectors,
      counts: {
        payloads: sc.payloads,
        bad_payloads: sc.bad_payloads,
        oversized_payloads: sc.oversized_payloads,
        spans_kept: sc.spans_kept,
        spans_dropped_vdiag: sc.spans_dropped_vdiag,
        spans_started: started,
        spans_dropped_pipeline: pdropped,
        spans_lost: lost,
        traces: sc.traces,
      },
      redaction: redactor.audit(),
    }
    const {writeBundle} = await import('../bundle/writer.js')
    const topFolder = path.basename(output).replace(/\.(tar\.gz|zip)$/, '')
    let written
    try {
      written = await writeBundle({stagingDir: staging, topFolder, output, format: opts.format, manifest})
    } catch (e) {
      keepStaging = true
      throw e instanceof VdiagError
        ? new VdiagError(e.code, e.summary, {hint: `${e.hint ?? ''} The collected files are kept in ${staging}`.trim(), exitCode: e.exitCode})
        : e
    }
    log({event: 'bundle_written', path: written.path, size: written.size, sha256: written.sha256, spans: sc.spans_kept, complete})
    const exitCode = interrupted ? ExitCode.Interrupted : outcome.pipelineLost ? ExitCode.Failed : ExitCode.Ok
    log({event: 'done', exit_code: exitCode, path: written.path, complete, reason: manifest.incomplete_reason})
    return {exitCode, path: written.path, size: written.size, sha256: written.sha256, complete, reason: manifest.incomplete_reason, manifest: written.manifest}
  } finally {
    await intake?.close().catch(() => undefined)
    await store?.close().catch(() => undefined)
    await demo?.stop().catch(() => undefined)
    if (!keepStaging) await rm(staging, {recursive: true, force: true}).catch(() => undefined)
  }
}

function describePlan(opts: CaptureOptions, spans: boolean, output: string): string[] {
  return [
    spans ? `internal tracing at level ${opts.level} for ${opts.durationMs / 1000} s (the pipeline switches it off by itself at the end, even if vdiag is killed)` : 'no spans (tracing unavailable on this pipeline)',
    `component metrics every ${opts.intervalMs / 1000} s, plus host facts (OS, CPU, memory, load, disks)`,
    'secrets are redacted before anything is written (rules and counts in manifest.json)',
    `one file: ${output}`,
  ]
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

async function writeJson(root: string, entry: string, value: unknown): Promise<void> {
  const file = path.join(root, entry)
  await mkdir(path.dirname(file), {recursive: true})
  await writeFile(file, JSON.stringify(value, null, 2) + '\n', {mode: 0o600})
}

async function assertWritableDir(dir: string): Promise<void> {
  const probe = path.join(dir, `.vdiag-write-test-${process.pid}`)
  try {
    await appendFile(probe, '', {mode: 0o600})
    await rm(probe, {force: true})
  } catch (e) {
    throw new VdiagError('output_unwritable', `cannot write the bundle to ${dir}: ${errorMessage(e)}`, {hint: 'choose another place with --output PATH'})
  }
}
