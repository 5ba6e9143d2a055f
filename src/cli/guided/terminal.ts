/**
 * When vdiag may ask a question, and what an abandoned question means.
 */
import type {confirm} from '@inquirer/prompts'
import {ExitCode, VdiagError} from '../../errors.js'

/** What @inquirer/prompts accepts as its second argument (streams, abort signal). */
export type PromptContext = NonNullable<Parameters<typeof confirm>[1]>

interface MaybeTty {
  isTTY?: boolean
}

/**
 * Only when a person can both see the question and answer it. A prompt on a
 * pipe either fails at once (stdin at EOF) or, worse, waits forever for an
 * open pipe that never sends a line, so anything but two terminals means: no
 * questions, flags and defaults decide.
 */
export function canPrompt(stdin: MaybeTty = process.stdin, stdout: MaybeTty = process.stdout): boolean {
  return Boolean(stdin.isTTY) && Boolean(stdout.isTTY)
}

/** Ctrl-C (or a closed terminal) at a prompt: @inquirer/core's ExitPromptError, recognised by name so we need not import @inquirer/core. */
export function isPromptExit(e: unknown): boolean {
  return e instanceof Error && e.name === 'ExitPromptError'
}

export const CANCELLED_MESSAGE = 'capture cancelled; nothing was switched on'

export function cancelledError(): VdiagError {
  return new VdiagError('interrupted', CANCELLED_MESSAGE, {exitCode: ExitCode.Interrupted})
}
