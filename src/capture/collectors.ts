/**
 * What runs alongside the window: the admin API's counters and the Prometheus
 * scrape on one clock, the per-component error stream, and host facts. Each
 * reports its own status; none of them can fail the capture.
 */
import {createWriteStream} from 'node:fs'
import {mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import type {AdminClient} from '../attach/detect.js'
import type {ApiTarget} from '../attach/http.js'
import {ENTRY, type CollectorReport, type ComponentCounters, type ErrorsRecord, type PrometheusScrape} from '../bundle/format.js'
import type {Redactor} from '../bundle/redaction.js'
import {errorMessage} from '../errors.js'
import {ms} from './attach-phase.js'
import {PhaseRecorder, systemClock, type Phase} from './recorder.js'

export interface WindowCollectors {
  sample(phase: Phase): Promise<{error: string | null; taken: number}>
  stop(): Promise<Record<string, CollectorReport>>
}

export async function startWindowCollectors(ctx: {
  staging: string
  redactor: Redactor
  admin: AdminClient | null
  target: ApiTarget
  metricsUrl: string | null
  intervalMs: number
}): Promise<WindowCollectors> {
  const {staging, redactor, admin} = ctx
  await mkdir(path.join(staging, path.dirname(ENTRY.metrics)), {recursive: true})
  const t0 = systemClock.now()
  const started = performance.now()
  const counters = new PhaseRecorder({
    file: path.join(staging, ENTRY.metrics),
    field: 'components',
    source: async (): Promise<Record<string, ComponentCounters>> => {
      if (!admin) throw new Error('the admin API could not be read')
      return redactor.redactJson(await admin.snapshot(), ENTRY.metrics, {pathPrefix: 'components'})
    },
    failed: {} as Record<string, ComponentCounters>,
    clock: systemClock,
    t0,
  })
  let prometheus: PhaseRecorder<'scrape', PrometheusScrape | null> | null = null
  if (ctx.metricsUrl) {
    const {scrapeOnce} = await import('../attach/prometheus.js')
    const url = ctx.metricsUrl
    prometheus = new PhaseRecorder({
      file: path.join(staging, ENTRY.prometheus),
      field: 'scrape',
      source: async () => redactor.redactJson(await scrapeOnce(url), ENTRY.prometheus),
      failed: null,
      clock: systemClock,
      t0,
    })
  }

  // Errors only stream: one long call bounded by the window.
  const errorsAbort = new AbortController()
  const errors = (async (): Promise<CollectorReport> => {
    const e0 = performance.now()
    if (!admin) return {status: 'skipped', duration_ms: 0, detail: 'the admin API could not be read'}
    const out = createWriteStream(path.join(staging, ENTRY.errors), {mode: 0o600})
    let seq = 0
    try {
      const {streamErrors} = await import('../attach/errors-stream.js')
      const r = await streamErrors({target: ctx.target, generation: admin.generation}, {
        intervalMs: Math.min(ctx.intervalMs, 1_000),
        signal: errorsAbort.signal,
        onSample: (s) => {
          const rec: ErrorsRecord = {seq: seq++, at: s.at, t_ms: Math.round(systemClock.now() - t0), components: s.components}
          out.write(JSON.stringify(redactor.redactJson(rec, ENTRY.errors)) + '\n')
        },
      })
      return {status: r.status, duration_ms: ms(e0), detail: `${r.samples} samples via ${r.transport ?? 'nothing'}`, ...(r.error ? {error: r.error} : {})}
    } catch (e) {
      return {status: 'failed', duration_ms: ms(e0), error: errorMessage(e)}
    } finally {
      await new Promise<void>((resolve) => out.end(() => resolve()))
    }
  })()

  const host = (async (): Promise<CollectorReport> => {
    const h0 = performance.now()
    try {
      const {collectHostFacts} = await import('./host-facts.js')
      const facts = await collectHostFacts()
      const file = path.join(staging, ENTRY.host)
      await mkdir(path.dirname(file), {recursive: true})
      await writeFile(file, JSON.stringify(redactor.redactJson(facts, ENTRY.host), null, 2) + '\n', {mode: 0o600})
      const missing = Object.entries(facts.status).filter(([, s]) => !s.ok).map(([k, s]) => `${k}: ${s.error}`)
      return {status: missing.length ? 'partial' : 'ok', duration_ms: ms(h0), ...(missing.length ? {error: missing.join('; ')} : {})}
    } catch (e) {
      return {status: 'failed', duration_ms: ms(h0), error: errorMessage(e)}
    }
  })()

  return {
    async sample(phase) {
      const [snap] = await Promise.all([counters.take(phase), prometheus?.take(phase)])
      return {error: snap.error ?? null, taken: counters.taken}
    },
    async stop() {
      errorsAbort.abort()
      await counters.close()
      await prometheus?.close()
      const reports: Record<string, CollectorReport> = {
        metrics: {status: status(counters), duration_ms: ms(started), detail: `${counters.taken} snapshots, ${counters.failed} failed`},
        errors: await errors,
        host: await host,
      }
      if (prometheus) reports.internal_metrics = {status: status(prometheus), duration_ms: ms(started), detail: `${prometheus.taken} scrapes, ${prometheus.failed} failed`}
      return reports
    },
  }
}

function status(r: {taken: number; failed: number}): CollectorReport['status'] {
  return r.failed === 0 ? 'ok' : r.failed < r.taken ? 'partial' : 'failed'
}
