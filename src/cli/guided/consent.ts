/**
 * Consent before anything is switched on: the plan (what, how long, how big,
 * that secrets are redacted, where the file goes), then "Start the capture?".
 * `askConsent` is shaped as an inquirer prompt so @inquirer/testing's
 * render() can drive it; `consentHook` is what runCapture calls.
 */
import type {CaptureHooks, CapturePlanView} from '../../capture/options.js'
import {isPromptExit, type PromptContext} from './terminal.js'

export const CONSENT_QUESTION = 'Start the capture?'

export function formatPlan(plan: CapturePlanView): string {
  return [`vdiag will collect from ${plan.api}:`, ...plan.lines.map((l) => `  - ${l}`)].join('\n') + '\n'
}

/** Resolves true to go ahead; false when the person says no or presses Ctrl-C (nothing has been switched on either way). */
export async function askConsent(config: {plan: CapturePlanView}, context?: PromptContext): Promise<boolean> {
  const {confirm} = await import('@inquirer/prompts')
  // The plan is printed as plain lines above the question, so it stays on screen after the answer.
  ;(context?.output ?? process.stdout).write(formatPlan(config.plan))
  try {
    return await confirm({message: CONSENT_QUESTION, default: true}, context)
  } catch (e) {
    if (isPromptExit(e)) return false
    throw e
  }
}

/** runCapture's confirm hook; runCapture turns `false` into "capture cancelled; nothing was switched on", exit 130. */
export function consentHook(context?: PromptContext): NonNullable<CaptureHooks['confirm']> {
  return (plan) => askConsent({plan}, context)
}
