import {Flags} from '@oclif/core'
import {BaseCommand} from '../src/cli/base-command.js'
import {ExitCode, VdiagError} from '../src/errors.js'

// Literal copies of src/demo constants: importing those modules here would load them for `vdiag --help`.
const SCENARIOS = ['balanced', 'slow-sink', 'heavy-transform', 'slow-discovery']

export default class Demo extends BaseCommand {
  static override summary = 'Run the demo pipeline (file → remap → http) that vdiag can capture from.'
  static override description = `A real streaming pipeline on this machine: a file source tails log files the demo writes into a temporary directory, a remap-style transform parses and enriches them, and an http sink posts batches to a local receiver. Its admin API looks like Vector's (gRPC as in Vector >= 0.55, or GraphQL as in <= 0.54 with --api-protocol graphql) and serves /health and the /tracing extension; Prometheus metrics use Vector's names.

Scenarios plant a known bottleneck: slow-sink (receiver latency), heavy-transform (CPU per event), slow-discovery (thousands of files to fingerprint); balanced has none.

The first line on stdout is one JSON object with the chosen addresses ({"api":…,"metrics":…,"pid":…}); logs go to stderr. Runs until Ctrl-C (or SIGTERM), then ends an open tracing window, flushes its spans and removes its temporary files.`
  static override examples = [
    '<%= config.bin %> demo --scenario slow-sink',
    '<%= config.bin %> demo --api-address 127.0.0.1:0 --metrics-address 127.0.0.1:0',
    '<%= config.bin %> demo --api-protocol graphql --token s3cret',
    '<%= config.bin %> demo --scenario heavy-transform --rate 5000 --transform-cost-us 500',
    '<%= config.bin %> demo --source-id nginx_logs --sink-id es_out --sink-auth ingest:s3cret',
  ]
  static override flags = {
    scenario: Flags.string({description: 'which bottleneck to plant', options: SCENARIOS, default: 'balanced'}),
    'api-address': Flags.string({description: 'admin API address (loopback; port 0 picks a free port)', default: '127.0.0.1:8686', helpValue: '<host:port>'}),
    'metrics-address': Flags.string({description: 'Prometheus exposition address, served at /metrics (port 0 picks a free port)', default: '127.0.0.1:9598', helpValue: '<host:port>'}),
    'api-protocol': Flags.string({description: 'admin API shape: grpc (Vector >= 0.55) or graphql (Vector <= 0.54)', options: ['grpc', 'graphql'], default: 'grpc'}),
    tracing: Flags.boolean({description: 'serve the /tracing extension (--no-tracing: answer 404 like stock Vector)', default: true, allowNo: true}),
    token: Flags.string({description: 'require "Authorization: Bearer <token>" on every /tracing request', helpValue: '<token>'}),
    'max-window': Flags.integer({description: 'longest tracing window a client may open, in seconds (max_duration_secs)', default: 600, min: 1}),
    'trace-protocol': Flags.string({description: 'Datadog trace API version the spans are sent with', options: ['0.4', '0.5'], default: '0.4'}),
    rate: Flags.integer({description: 'log events written per second (0: as fast as the pipeline drains) [default: 2000; slow-discovery: 0]', min: 0}),
    'event-size': Flags.integer({description: 'approximate bytes per log line [default: 256]', min: 64}),
    files: Flags.integer({description: 'log files written to at the same time [default: 4]', min: 1}),
    'batch-size': Flags.integer({description: 'most events per batch and per sink request [default: 200]', min: 1}),
    'queue-capacity': Flags.integer({description: 'events each queue between components holds [default: 1000]', min: 1}),
    'sink-latency-ms': Flags.integer({description: 'receiver latency per request [default: 2; slow-sink: 300]', min: 0}),
    'transform-cost-us': Flags.integer({description: 'CPU time the transform spends per event [default: 0; heavy-transform: 1000]', min: 0}),
    'discovery-files': Flags.integer({description: 'old rotated log files the source fingerprints on every scan (and does not ship) [default: 0; slow-discovery: 3000]', min: 0}),
    'glob-cooldown-ms': Flags.integer({description: 'minimum time from one directory scan to the next [default: 1000; slow-discovery: 50]', min: 1}),
    'source-id': Flags.string({description: 'id of the file source', default: 'app_logs', helpValue: '<id>'}),
    'transform-id': Flags.string({description: 'id of the remap transform', default: 'parse_logs', helpValue: '<id>'}),
    'sink-id': Flags.string({description: 'id of the http sink', default: 'http_out', helpValue: '<id>'}),
    'sink-auth': Flags.string({
      description: 'HTTP basic auth the sink sends and its receiver requires; the sink\'s send spans record the URL with these credentials and the Authorization header, as an HTTP client instrumentation would',
      helpValue: '<user:pass>',
    }),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Demo)
    const {startDemo} = await import('../src/demo/run.js')
    let demo
    try {
      demo = await startDemo({
        componentIds: {source: flags['source-id'], transform: flags['transform-id'], sink: flags['sink-id']},
        sinkAuth: flags['sink-auth'],
        scenario: flags.scenario as 'balanced',
        apiAddress: flags['api-address'],
        metricsAddress: flags['metrics-address'],
        apiProtocol: flags['api-protocol'] as 'grpc' | 'graphql',
        tracing: flags.tracing,
        token: flags.token,
        maxWindowSecs: flags['max-window'],
        traceProtocol: flags['trace-protocol'] as '0.4' | '0.5',
        tuning: {
          rate: flags.rate,
          eventSize: flags['event-size'],
          files: flags.files,
          batchSize: flags['batch-size'],
          queueCapacity: flags['queue-capacity'],
          sinkLatencyMs: flags['sink-latency-ms'],
          transformCostUs: flags['transform-cost-us'],
          discoveryFiles: flags['discovery-files'],
          globCooldownMs: flags['glob-cooldown-ms'],
        },
      })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
      throw new VdiagError('failed', (err as Error).message, {hint: 'pick another port, or port 0 for a free one', cause: err})
    }
    process.stdout.write(
      JSON.stringify({
        api: demo.api,
        metrics: demo.metrics,
        pid: demo.pid,
        scenario: demo.scenario,
        api_protocol: demo.apiProtocol,
        tracing: demo.tracing,
        components: demo.componentIds,
        receiver: demo.receiver,
        sink_auth: flags['sink-auth'] !== undefined,
        log_dir: demo.logDir,
        tuning: demo.tuning,
      }) + '\n',
    )
    process.stderr.write(`[vdiag demo] ${demo.scenario} pipeline running; admin API ${demo.api}, metrics ${demo.metrics}. Ctrl-C to stop.\n`)

    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'))
      process.once('SIGTERM', () => resolve('SIGTERM'))
    })
    // A second signal while shutting down means "now".
    const force = () => process.exit(ExitCode.Interrupted)
    process.once('SIGINT', force)
    process.once('SIGTERM', force)
    process.stderr.write(`[vdiag demo] ${signal}: stopping\n`)
    await demo.stop()
    process.stderr.write('[vdiag demo] stopped\n')
  }
}
