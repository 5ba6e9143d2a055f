/**
 * One error type for every failure a user can meet and act on. Anything else
 * that escapes is a bug and is reported as such (see `describeUnexpected`).
 */

/** The documented exit-code table (README "Exit codes"). */
export const ExitCode = {
  Ok: 0,
  /** Could not capture / could not replay: the user can usually fix the cause. */
  Failed: 1,
  /** Bad flags or arguments. */
  Usage: 2,
  /** Interrupted by SIGINT/SIGTERM; a partial bundle was written when possible. */
  Interrupted: 130,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export type ErrorCode =
  | 'usage'
  | 'api_unreachable'
  | 'api_unhealthy'
  | 'api_bad_reply'
  | 'tracing_conflict'
  | 'tracing_rejected'
  | 'bundle_corrupt'
  | 'bundle_checksum'
  | 'bundle_unsafe'
  | 'bundle_version'
  | 'output_unwritable'
  | 'interrupted'
  | 'failed'

export interface VdiagErrorOptions {
  /** What the user can do about it; one or two sentences. */
  hint?: string
  exitCode?: ExitCode
  cause?: unknown
  /** Machine-readable extra facts, shown with --json. */
  details?: Record<string, unknown>
}

export class VdiagError extends Error {
  readonly code: ErrorCode
  readonly hint?: string
  readonly exitCode: ExitCode
  readonly details?: Record<string, unknown>
  /** The message as written, kept apart because oclif prefixes `message` when a flag parser throws. */
  readonly summary: string

  constructor(code: ErrorCode, message: string, options: VdiagErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'VdiagError'
    this.code = code
    this.hint = options.hint
    this.exitCode = options.exitCode ?? (code === 'usage' ? ExitCode.Usage : ExitCode.Failed)
    this.details = options.details
    this.summary = message
  }

  toJSON(): Record<string, unknown> {
    return {code: this.code, message: this.summary, hint: this.hint ?? null, exit_code: this.exitCode, ...(this.details ? {details: this.details} : {})}
  }
}

export function usageError(message: string, hint?: string): VdiagError {
  return new VdiagError('usage', message, {hint, exitCode: ExitCode.Usage})
}

export function isVdiagError(e: unknown): e is VdiagError {
  return e instanceof VdiagError
}

/** Text for the terminal: message, then the hint on its own line. No stack. */
export function formatError(e: VdiagError): string {
  return e.hint ? `${e.summary}\n  hint: ${e.hint}` : e.summary
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message
  return String(e)
}
