/** Shared pieces of the fault suites: the demo's /tracing as seen from outside, and what a clean failure looks like. */
import assert from 'node:assert/strict'
import {mkdtempSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type {TracingStatus, TracingWindow} from '../../src/protocol/tracing-control.js'
import type {CliResult} from '../helpers/cli.js'

export function workDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix))
}

export async function tracingStatus(api: string): Promise<TracingStatus> {
  const res = await fetch(`${api}/tracing`, {signal: AbortSignal.timeout(5_000)})
  return (await res.json()) as TracingStatus
}

/** Polls until the window is `ended` or `untilEpochMs` passes; returns the last window seen. */
export async function waitUntilEnded(api: string, untilEpochMs: number): Promise<TracingWindow | null> {
  let w = (await tracingStatus(api)).window
  while (w?.state !== 'ended' && Date.now() < untilEpochMs) {
    await new Promise((r) => setTimeout(r, 100))
    w = (await tracingStatus(api)).window
  }
  return w
}

/**
 * Whatever else happened, the process exited by itself and said nothing a
 * user should never see: no stack frames, no unhandled rejection, no
 * "internal error" (vdiag's wording for a bug).
 */
export function assertCleanExit(r: CliResult, what: string): void {
  assert.equal(r.signal, null, `${what}: did not exit by itself (killed by ${r.signal}); stderr:\n${r.stderr}`)
  assertNoCrashText(r.stderr, what)
}

export function assertNoCrashText(stderr: string, what: string): void {
  assert.doesNotMatch(stderr, /\n\s+at .+[(:]\d+/, `${what}: stack trace in stderr:\n${stderr}`)
  assert.doesNotMatch(stderr, /unhandled|UnhandledPromiseRejection|ERR_UNHANDLED/i, `${what}: unhandled rejection:\n${stderr}`)
  assert.doesNotMatch(stderr, /internal error/i, `${what}: vdiag reported a bug:\n${stderr}`)
}

/** `Error: <one line>` and at most a `  hint:` line after it. */
export function assertOneLineError(stderr: string, what: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '')
  assert.ok(lines.length >= 1 && lines.length <= 2, `${what}: expected one error line (plus a hint), got ${lines.length}:\n${stderr}`)
  assert.match(lines[0], /^Error: \S/, `${what}: ${stderr}`)
  if (lines.length === 2) assert.match(lines[1], /^\s+hint: \S/, `${what}: second line is not a hint:\n${stderr}`)
  return lines[0]
}
