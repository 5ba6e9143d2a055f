import {Flags} from '@oclif/core'
import {BaseCommand} from '../src/cli/base-command.js'
import {apiFlag, durationFlag, tokenFlag} from '../src/cli/flags.js'
import {usageError} from '../src/errors.js'
import {parseListen} from '../src/capture/listen.js'
import {DEFAULT_AGENT_URL, parseAgentUrl} from '../src/intake/agent-url.js'
import {DEFAULT_DURATION_MS, DEFAULT_INTERVAL_MS, DEFAULT_MAX_SPANS, MIN_INTERVAL_MS, type CaptureOptions} from '../src/capture/options.js'

export default class Capture extends BaseCommand {
  static override summary = 'Capture a bounded tracing window, metrics and host facts into one redacted bundle.'
  static override description = `Attaches to the pipeline's admin API, opens an internal-tracing window for --duration (the pipeline ends it by itself even if vdiag is killed), receives the spans in a local Datadog-compatible intake, snapshots component metrics every --interval and host facts, and writes one redacted, checksummed archive.

Against a pipeline without the /tracing extension (stock Vector), it captures metrics and host facts only and says so.

--via agent puts vdiag between the pipeline and your Datadog Agent: every request goes on to the Agent unchanged (original bytes, not redacted) and the Agent's answer comes back, while vdiag keeps its copy. If the Agent is down or slow, vdiag answers the pipeline itself at once, keeps the spans, and the bundle says what the Agent missed.

Exit codes: 0 bundle written; 1 could not capture (nothing written, or a partial bundle when the pipeline went away mid-window); 2 bad flags; 130 interrupted (a partial bundle was written).`
  static override examples = [
    '<%= config.bin %> capture --demo --duration 10s',
    '<%= config.bin %> capture --api http://127.0.0.1:8686 --duration 60s',
    '<%= config.bin %> capture --duration 2m --interval 15s --level debug --output /tmp/case-1234.tar.gz',
  ]
  static override flags = {
    api: apiFlag,
    duration: durationFlag({description: 'length of the tracing window, e.g. 500ms, 30s, 5m [default: 60s]', char: 'd'}),
    interval: durationFlag({description: 'time between metric snapshots [default: 10s]', char: 'i'}),
    level: Flags.string({description: 'span detail: info (iterations and stages) or debug (adds sub-stages)', options: ['info', 'debug'], default: 'info'}),
    output: Flags.string({char: 'o', description: 'bundle path [default: ./vdiag-<host>-<UTC time>.tar.gz]', helpValue: '<path>'}),
    format: Flags.string({description: 'archive format', options: ['tar.gz', 'zip'], default: 'tar.gz'}),
    'max-spans': Flags.integer({description: 'keep at most this many spans; the rest are counted as dropped', default: DEFAULT_MAX_SPANS, min: 1}),
    token: tokenFlag,
    yes: Flags.boolean({char: 'y', description: 'ask nothing (no pipeline choice, no consent prompt); if another tracing window is active, capture without spans', default: false}),
    json: Flags.boolean({description: 'one JSON event per line on stdout (started, window_opened, progress, warning, bundle_written, done)', default: false}),
    'metrics-url': Flags.string({description: "Prometheus exposition of Vector's internal metrics [default: try http://127.0.0.1:9598/metrics once]", helpValue: '<url>'}),
    config: Flags.string({description: "a Vector config file or folder to include, redacted; gives the topology (repeatable)", multiple: true, helpValue: '<path>'}),
    logs: Flags.string({description: "a log file, or journal:UNIT, whose tail from the window is included, redacted (repeatable)", multiple: true, helpValue: '<path>'}),
    via: Flags.string({description: "where the pipeline's spans go: local (vdiag only) or agent (vdiag forwards every request to the Datadog Agent and keeps a copy)", options: ['local', 'agent'], default: 'local'}),
    'agent-url': Flags.string({description: `the Datadog Agent for --via agent [default: ${DEFAULT_AGENT_URL}]`, helpValue: '<url>'}),
    listen: Flags.string({description: 'bind the span intake to this address instead of 127.0.0.1, for a pipeline in another network namespace (prints a warning)', helpValue: '<ip[:port]>'}),
    'dry-run': Flags.boolean({description: 'attach, check tracing and metrics, print the plan; switch nothing on', default: false}),
    demo: Flags.boolean({description: 'start the built-in demo pipeline, capture from it, and stop it', default: false}),
    'demo-scenario': Flags.string({description: 'scenario for --demo', options: ['balanced', 'slow-sink', 'heavy-transform', 'slow-discovery'], default: 'balanced'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Capture)
    const durationMs = flags.duration ?? DEFAULT_DURATION_MS
    const intervalMs = flags.interval ?? Math.min(DEFAULT_INTERVAL_MS, durationMs)
    if (intervalMs < MIN_INTERVAL_MS) throw usageError(`--interval ${intervalMs}ms is below the minimum of ${MIN_INTERVAL_MS / 1000}s`, 'e.g. --interval 5s')
    if (flags.demo && this.argv.some((a) => a === '--api' || a.startsWith('--api='))) throw usageError('--demo and --api cannot be used together', '--demo starts its own pipeline on free ports')
    if (flags['agent-url'] !== undefined && flags.via !== 'agent') throw usageError('--agent-url only applies with --via agent', `e.g. --via agent --agent-url ${flags['agent-url']}`)
    const opts: CaptureOptions = {
      api: flags.api,
      token: flags.token,
      durationMs,
      intervalMs,
      level: flags.level as CaptureOptions['level'],
      output: flags.output,
      format: flags.format as CaptureOptions['format'],
      maxSpans: flags['max-spans'],
      yes: flags.yes,
      demo: flags.demo,
      demoScenario: flags['demo-scenario'],
      argv: this.argv,
      metricsUrl: flags['metrics-url'],
      configs: flags.config ?? [],
      logs: flags.logs ?? [],
      dryRun: flags['dry-run'],
      listen: flags.listen === undefined ? undefined : parseListen(flags.listen),
      via: flags.via as 'local' | 'agent',
      agentUrl: flags.via === 'agent' ? parseAgentUrl(flags['agent-url'] ?? DEFAULT_AGENT_URL, '--agent-url').origin : undefined,
    }
    // At a terminal: which pipeline (without --api) and consent; elsewhere flags and defaults decide (src/cli/guided/flow.ts).
    const {prepareGuidedCapture} = await import('../src/cli/guided/flow.js')
    const apiGiven = this.argv.some((a) => a === '--api' || a.startsWith('--api='))
    const guided = await prepareGuidedCapture({api: flags.api, apiGiven, yes: flags.yes, demo: flags.demo, dryRun: flags['dry-run'], json: flags.json})
    opts.api = guided.api
    const {runCapture} = await import('../src/capture/run.js')
    const {createCaptureView} = await import('../src/cli/capture-view.js')
    const view = createCaptureView({json: flags.json, tty: Boolean(process.stderr.isTTY) && !flags.json, showPlan: !guided.planShownByConsent})
    try {
      const result = await runCapture(opts, view.listener, guided.hooks)
      process.exitCode = result.exitCode
    } finally {
      view.finish()
    }
  }
}
