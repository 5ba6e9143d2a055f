/**
 * Attach: is the API there, which generation is it, what does the pipeline
 * look like, and can it trace? Health failure is fatal (nothing to capture);
 * everything after it degrades into a recorded collector failure.
 */
import type {ApiTarget} from '../attach/http.js'
import type {AdminClient} from '../attach/detect.js'
import type {CollectorReport, PipelineFacts} from '../bundle/format.js'
import {VdiagError, errorMessage} from '../errors.js'
import type {TracingStatus} from '../protocol/tracing-control.js'

export interface Attached {
  admin: AdminClient | null
  facts: PipelineFacts
  tracing: {supported: true; status: TracingStatus; http: number} | {supported: false; reason: string; http: number | null}
  collectors: Record<string, CollectorReport>
  warnings: string[]
}

export async function attach(target: ApiTarget): Promise<Attached> {
  const {checkHealth} = await import('../attach/health.js')
  const {connectAdmin} = await import('../attach/detect.js')
  const {getTracingStatus} = await import('../attach/tracing-client.js')
  const collectors: Record<string, CollectorReport> = {}
  const warnings: string[] = []

  let t0 = performance.now()
  await checkHealth(target) // throws a VdiagError with the full explanation
  collectors.health = {status: 'ok', duration_ms: ms(t0)}

  t0 = performance.now()
  let admin: AdminClient | null = null
  let facts: PipelineFacts = {
    api: {url: target.url, generation: 'unknown', detection: []},
    version: null,
    version_string: null,
    hostname: null,
    components: [],
    edges: null,
    edges_source: 'none',
  }
  try {
    admin = await connectAdmin(target)
    facts = await admin.facts()
    collectors.pipeline = {status: 'ok', duration_ms: ms(t0), detail: `${admin.generation} API, ${facts.components.length} components`}
  } catch (e) {
    collectors.pipeline = {status: 'failed', duration_ms: ms(t0), error: errorMessage(e)}
    warnings.push(`could not read the pipeline's components: ${errorMessage(e)}`)
  }

  t0 = performance.now()
  const tracing = await getTracingStatus(target)
  if (!tracing.supported && tracing.http === 401) {
    // The extension is there but refuses us: capturing without spans would hide a fixable mistake.
    throw new VdiagError('tracing_rejected', `the pipeline's /tracing endpoint requires a token (${tracing.reason})`, {
      hint: target.token ? 'the token given with --token or VDIAG_API_TOKEN was refused; check it' : 'pass it with --token or the VDIAG_API_TOKEN environment variable',
    })
  }
  collectors.tracing_probe = tracing.supported
    ? {status: 'ok', duration_ms: ms(t0), detail: `tracing protocol v${tracing.status.version}, max ${tracing.status.max_duration_secs}s`}
    : {status: 'skipped', duration_ms: ms(t0), detail: tracing.reason}
  return {admin, facts, tracing, collectors, warnings}
}

export function ms(t0: number): number {
  return Math.round(performance.now() - t0)
}
