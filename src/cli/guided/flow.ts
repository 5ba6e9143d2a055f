/**
 * The questions `vdiag capture` asks a person at a terminal, and what it does
 * instead when nobody can answer.
 *
 * - Which pipeline (only without --api and --demo): at a terminal, discovery
 *   offers what it found. Without one (or with --yes) nothing is asked: the
 *   default address is used as it always was, unless discovery finds several
 *   pipelines, which is a usage error naming --api: guessing between two
 *   pipelines is worse than asking for the flag.
 * - Consent: at a terminal, the plan and "Start the capture?". --yes skips it;
 *   --demo skips it (our own demo pipeline, nothing of the user's is touched);
 *   --dry-run never gets that far. Without a terminal there is nobody to ask:
 *   running vdiag from a script or a pipe is already the explicit decision,
 *   so the plan is printed (or emitted as the `started` event with --json)
 *   and the capture proceeds. Prompting there would fail at once on a closed
 *   stdin or hang on an open pipe.
 */
import type {CaptureHooks} from '../../capture/options.js'
import {VdiagError, usageError} from '../../errors.js'
import {consentHook} from './consent.js'
import {DEFAULT_API_URL, describeCandidate, discoverPipelines, type DiscoverOptions, type Discovery} from './discover.js'
import {pickPipeline} from './pick.js'
import {canPrompt, cancelledError, type PromptContext} from './terminal.js'

export interface GuidedOptions {
  /** --api as parsed (its default when not given). */
  api: string
  /** Whether --api was given on the command line. */
  apiGiven: boolean
  yes: boolean
  demo: boolean
  dryRun: boolean
  json: boolean
  stdin?: NodeJS.ReadableStream & {isTTY?: boolean}
  stdout?: NodeJS.WritableStream & {isTTY?: boolean}
  stderr?: NodeJS.WritableStream & {isTTY?: boolean}
  /** Passed through to discovery (tests: a fake /proc, the environment). */
  discover?: DiscoverOptions
}

export interface GuidedSetup {
  api: string
  hooks: CaptureHooks
  /** True when the consent prompt shows the plan, so the capture view need not print it as well. */
  planShownByConsent: boolean
}

export async function prepareGuidedCapture(o: GuidedOptions): Promise<GuidedSetup> {
  const stdin = o.stdin ?? process.stdin
  const stdout = o.stdout ?? process.stdout
  const stderr = o.stderr ?? process.stderr
  // With --json, stdout carries only JSON events, so questions go to stderr, which must then be a terminal too.
  const promptOut = o.json ? stderr : stdout
  const interactive = !o.yes && canPrompt(stdin, stdout) && Boolean(promptOut.isTTY)
  const context: PromptContext = {input: stdin, output: promptOut}

  let api = o.api
  if (!o.apiGiven && !o.demo) {
    if (interactive) {
      promptOut.write('looking for pipelines on this host…\n')
      const found = await discoverPipelines(o.discover)
      if (found.pipelines.length === 0) throw nothingFound(found)
      const chosen = await pickPipeline({pipelines: found.pipelines}, context)
      if (chosen === null) throw cancelledError()
      api = chosen
    } else {
      api = await unattendedApi(o, stderr)
    }
  }

  const ask = interactive && !o.demo && !o.dryRun
  return {api, hooks: ask ? {confirm: consentHook(context)} : {}, planShownByConsent: ask}
}

async function unattendedApi(o: GuidedOptions, stderr: NodeJS.WritableStream): Promise<string> {
  const found = await discoverPipelines(o.discover)
  const defaultUrl = o.discover?.defaultUrl ?? DEFAULT_API_URL
  if (found.pipelines.length > 1) {
    throw usageError(
      `${found.pipelines.length} pipelines answer on this host and there is no terminal to ask which one:\n${found.pipelines.map((p) => `  ${describeCandidate(p)}`).join('\n')}`,
      `choose one with --api, e.g. --api ${found.pipelines[0].url}`,
    )
  }
  const other = found.pipelines.find((p) => p.url !== defaultUrl)
  if (other) stderr.write(`note: no --api given, so vdiag uses the default address ${defaultUrl}; a pipeline answers at ${other.url} (${other.sources.join(', ')}): pass --api ${other.url} to use it\n`)
  return o.api
}

function nothingFound(d: Discovery): VdiagError {
  const tried = d.tried.map((c) => `  ${describeCandidate(c)}`).join('\n')
  const off = d.offHost.length ? `\n(not probed, not on this host: ${d.offHost.map((a) => `${a.variable}=${a.url}`).join(', ')})` : ''
  return new VdiagError('api_unreachable', `no running pipeline answered GET /health on this host. Tried:\n${tried}${off}`, {
    hint: "start the pipeline with its admin API enabled (`api.enabled: true`), or pass its address with --api URL; `vdiag capture --demo` shows how a capture works",
    details: {tried: d.tried.map((c) => c.url)},
  })
}
