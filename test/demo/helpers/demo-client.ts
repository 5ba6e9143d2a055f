/**
 * Small helpers the demo tests share: /tracing calls, bounded polling, and a
 * per-component self-time breakdown of captured spans.
 */
import assert from 'node:assert/strict'
import {IDLE_STAGES, SPAN, type TracingStatus, type TracingWindow} from '../../../src/protocol/tracing-control.js'
import type {IntakeSpan} from './trace-intake.js'

export interface JsonReply {
  status: number
  headers: Headers
  text: string
  /** Parsed body (null when not JSON); loosely typed for test convenience. */
  json: any
}

export async function call(url: string, init: {method?: string; body?: string; headers?: Record<string, string>} = {}): Promise<JsonReply> {
  const res = await fetch(url, {method: init.method ?? 'GET', body: init.body, headers: {'content-type': 'application/json', ...init.headers}})
  const text = await res.text()
  let json: unknown = null
  try {
    json = JSON.parse(text)
  } catch {
    json = null
  }
  return {status: res.status, headers: res.headers, text, json}
}

export function openWindow(api: string, body: Record<string, unknown>, headers?: Record<string, string>): Promise<JsonReply> {
  return call(`${api}/tracing`, {method: 'POST', body: JSON.stringify(body), headers})
}

export async function status(api: string): Promise<TracingStatus> {
  const reply = await call(`${api}/tracing`)
  if (reply.status !== 200) throw new Error(`GET /tracing: ${reply.status} ${reply.text}`)
  return reply.json as TracingStatus
}

/** Polls until `check` returns a value (not undefined), or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

/** Generous: the spec promises `ended` within 5 s of expiry; a loaded CI box gets slack on top. */
export const ENDED_WAIT_MS = 20_000

export async function waitEnded(api: string, id: string): Promise<TracingWindow> {
  return waitFor(
    `window ${id} to end`,
    async () => {
      const w = (await status(api)).window
      return w !== null && w.id === id && w.state === 'ended' ? w : undefined
    },
    ENDED_WAIT_MS,
  )
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/**
 * Self time (ns) per component and stage: a span's duration minus its
 * children's. Level-3 spans count toward their `stage`; the iteration span's
 * own self time (gaps between stages) is under `(iteration)`.
 */
export function selfTimes(spans: readonly IntakeSpan[]): Map<string, Map<string, number>> {
  const self = new Map<bigint, number>()
  for (const s of spans) self.set(s.span_id, Number(s.duration))
  for (const s of spans) {
    const parent = self.get(s.parent_id)
    if (s.parent_id !== 0n && parent !== undefined) self.set(s.parent_id, parent - Number(s.duration))
  }
  const out = new Map<string, Map<string, number>>()
  for (const s of spans) {
    const component = s.meta.component_id
    const stage = s.name === 'iteration' ? '(iteration)' : s.meta.stage
    const perStage = out.get(component) ?? new Map<string, number>()
    perStage.set(stage, (perStage.get(stage) ?? 0) + (self.get(s.span_id) ?? 0))
    out.set(component, perStage)
  }
  return out
}

/** The busy (non-idle) stage with the most self time, and the busy breakdown. */
export function dominantBusyStage(perStage: Map<string, number>): {stage: string; share: number; busy: Record<string, number>} {
  const busy: Record<string, number> = {}
  for (const [stage, ns] of perStage) if (!IDLE_STAGES.has(stage) && stage !== '(iteration)') busy[stage] = ns
  const total = Object.values(busy).reduce((a, b) => a + b, 0)
  const [stage, ns] = Object.entries(busy).sort((a, b) => b[1] - a[1])[0] ?? ['', 0]
  return {stage, share: total > 0 ? ns / total : 0, busy}
}

/** Stages that only wait (idle, or blocked on a queue or the network): the demo measures no CPU there. */
export const WAITING_STAGES: ReadonlySet<string> = new Set(['wait', 'sleep', 'send', 'backoff'])

/**
 * `cpu_ns` is the CPU of a span's own work: never above its duration, absent
 * on stages that only wait, present on the synchronous `encode` and on
 * `process`. Returns how many spans carried it.
 */
export function checkCpuNs(spans: readonly IntakeSpan[]): number {
  let measured = 0
  for (const s of spans) {
    const cpu = s.metrics[SPAN.metrics.cpuNs]
    const stage = s.parent_id !== 0n && s.meta[SPAN.meta.substage] === undefined ? s.name : null
    if (stage !== null && WAITING_STAGES.has(stage)) assert.equal(cpu, undefined, `${s.meta.component_id} ${stage} has no cpu_ns`)
    if (stage === 'encode' || stage === 'process') assert.equal(typeof cpu, 'number', `${s.meta.component_id} ${stage} has cpu_ns`)
    if (cpu === undefined) continue
    measured++
    assert.ok(Number.isFinite(cpu) && cpu >= 0, `${s.name}: cpu_ns ${cpu}`)
    assert.ok(cpu <= Number(s.duration), `${s.meta.component_id} ${s.name}: cpu_ns ${cpu} > duration ${s.duration}`)
  }
  return measured
}
