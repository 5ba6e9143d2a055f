import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../src/cli/base-command.js'
import {ExitCode, usageError} from '../src/errors.js'
import {parseAgentUrl} from '../src/intake/agent-url.js'
import type {ExportFormat} from '../src/export/index.js'

/** Kept literal so loading this command does not load the exporters. */
const FORMATS: readonly ExportFormat[] = ['chrome', 'otlp', 'jaeger', 'folded']

export default class Replay extends BaseCommand {
  static override summary = 'Verify a bundle and show where the pipeline spends its time.'
  static override description = `Opens a bundle written by vdiag capture (.tar.gz, .zip or an extracted folder), verifies every checksum, and analyses it offline: which component is the bottleneck and in which stage its wall-clock time goes (reading, processing, waiting on downstream, sleeping).

The answer comes first, then the per-component stage table. --json prints the analysis as one JSON document (docs/replay-json.md). --html writes a self-contained report. --export writes the spans for Perfetto (chrome), OpenTelemetry (otlp), Jaeger UI (jaeger) or flame-graph tools (folded).

--to-agent URL sends the bundle's raw trace payloads to a Datadog Agent instead, each to its original endpoint with its original headers (less Datadog-Client-Computed-Stats, so the Agent computes stats); --shift-to-now first moves the spans so the capture ends now, as Agents drop old spans.

Exit codes: 0 analysed (or every payload accepted); 1 the bundle is unreadable, unsafe or fails verification, or a payload was not accepted; 2 bad flags.`
  static override examples = [
    '<%= config.bin %> replay vdiag-host-20261125T101500Z.tar.gz',
    '<%= config.bin %> replay bundle.tar.gz --html report.html',
    '<%= config.bin %> replay bundle.tar.gz --export chrome --export otlp --out traces/',
    '<%= config.bin %> replay bundle.tar.gz --json | jq .findings[0]',
    '<%= config.bin %> replay bundle.tar.gz --to-agent http://127.0.0.1:8126 --shift-to-now',
  ]
  static override args = {
    bundle: Args.string({description: 'bundle file (.tar.gz or .zip) or extracted folder', required: true}),
  }
  static override flags = {
    json: Flags.boolean({description: 'print the analysis as one JSON document', default: false}),
    html: Flags.string({description: 'also write a self-contained HTML report to FILE', helpValue: '<file>'}),
    export: Flags.string({description: 'also export the spans in this format (repeatable)', options: [...FORMATS], multiple: true}),
    out: Flags.string({description: 'directory for --export files [default: .]', helpValue: '<dir>'}),
    verify: Flags.boolean({description: 'check every file against the manifest checksums', default: true, allowNo: true}),
    color: Flags.boolean({description: 'colour the terminal report [default: when stdout is a terminal]', allowNo: true}),
    'to-agent': Flags.string({description: 'send the raw trace payloads to this Datadog Agent instead of analysing', helpValue: '<url>'}),
    'shift-to-now': Flags.boolean({description: 'with --to-agent: move span start times so the capture ends now', default: false}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Replay)
    if (flags.out && !flags.export?.length) throw usageError('--out only applies to --export', 'e.g. --export chrome --out traces/')
    if (flags['to-agent'] !== undefined) return this.toAgent(args.bundle, flags['to-agent'], flags)
    if (flags['shift-to-now']) throw usageError('--shift-to-now only applies to --to-agent', 'e.g. --to-agent http://127.0.0.1:8126 --shift-to-now')
    const {runReplay} = await import('../src/replay/run.js')
    const result = await runReplay({bundle: args.bundle, verify: flags.verify, html: flags.html, exports: (flags.export ?? []) as ExportFormat[], outDir: flags.out})
    if (flags.json) {
      const {toJson} = await import('../src/report/json.js')
      process.stdout.write(toJson(result.analysis) + '\n')
      return
    }
    const {renderTerminal} = await import('../src/report/terminal.js')
    const color = flags.color ?? Boolean(process.stdout.isTTY)
    process.stdout.write(renderTerminal(result.analysis, {color, width: Math.min(process.stdout.columns || 100, 100)}) + '\n')
    if (result.html) process.stdout.write(`\nwrote HTML report ${result.html}\n`)
    for (const e of result.exported) process.stdout.write(`exported ${e.spans} spans as ${e.format}: ${e.files.join(', ')}\n`)
  }

  private async toAgent(bundle: string, to: string, flags: {json: boolean; verify: boolean; html?: string; export?: string[]; 'shift-to-now': boolean}): Promise<void> {
    if (flags.html !== undefined || flags.export?.length) throw usageError('--to-agent sends the spans instead of analysing them: --html and --export do not apply', 'run vdiag replay again without --to-agent for the report')
    const url = parseAgentUrl(to, '--to-agent')
    if (!url.loopback) process.stderr.write(`warning: ${url.origin} is not on this machine: the bundle's spans leave it\n`)
    const {sendBundleToAgent} = await import('../src/replay/to-agent.js')
    const {payloadLine, summaryLines} = await import('../src/replay/to-agent-text.js')
    const report = await sendBundleToAgent({bundle, verify: flags.verify, url, shiftToNow: flags['shift-to-now'], onResult: flags.json ? undefined : (r) => process.stdout.write(payloadLine(r) + '\n')})
    process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : summaryLines(report).join('\n') + '\n')
    if (report.not_accepted > 0) process.exitCode = ExitCode.Failed
  }
}
