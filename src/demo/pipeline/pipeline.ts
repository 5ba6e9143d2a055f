/**
 * Wires the demo pipeline: log generator → `app_logs` (file) → queue →
 * `parse_logs` (remap) → queue → `http_out` (http) → receiver (ids are the
 * defaults; `--source-id` and friends rename them). Owns the temp directory of
 * log files and removes it on stop (and, as a last resort, on process exit).
 */
import {rmSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type {DemoComponentView, DemoPipelineView} from '../types.js'
import type {ComponentIdentity, IterationTracer} from '../tracing/iteration-tracer.js'
import {FileSource} from './file-source.js'
import {basicAuthorization, HttpSink, type BasicAuth} from './http-sink.js'
import {LogGenerator} from './log-generator.js'
import {BoundedQueue} from './queue.js'
import {Receiver} from './receiver.js'
import {RemapTransform} from './remap-transform.js'
import {ComponentRuntime} from './runtime.js'
import type {PipelineTuning} from './scenarios.js'
import {UTILIZATION_PERIOD_MS} from './stats.js'

/** The ids of the demo's three components (Vector's config keys). */
export interface ComponentIds {
  source: string
  transform: string
  sink: string
}

export const DEFAULT_COMPONENT_IDS: Readonly<ComponentIds> = {source: 'app_logs', transform: 'parse_logs', sink: 'http_out'}

export interface Topology extends ComponentIdentity {
  inputs: string[]
}

/** The demo's topology, as Vector's config would declare it. */
export function demoTopology(ids: ComponentIds): Topology[] {
  return [
    {id: ids.source, kind: 'source', type: 'file', inputs: []},
    {id: ids.transform, kind: 'transform', type: 'remap', inputs: [ids.source]},
    {id: ids.sink, kind: 'sink', type: 'http', inputs: [ids.transform]},
  ]
}

const DEFAULT_OUTPUT = '_default'
/**
 * The source's ignore_older: files untouched this long are fingerprinted but
 * not shipped. Long enough for any active file, far shorter than the age of
 * slow-discovery's rotated files (a day).
 */
const IGNORE_OLDER_MS = 60 * 60 * 1000

export interface PipelineOptions {
  tuning: PipelineTuning
  /** Validated by the caller (run.ts): non-empty, distinct. */
  ids: ComponentIds
  /** The sink sends these as HTTP basic auth; the receiver requires them. */
  sinkAuth?: BasicAuth
  tracer: IterationTracer
  /** Vector-style version string reported by the admin API. */
  versionString: string
  log(message: string): void
}

export class DemoPipeline implements DemoPipelineView {
  readonly runtimes: Map<string, ComponentRuntime>
  readonly receiver: Receiver
  readonly topology: readonly Topology[]
  private dir = ''
  private generator: LogGenerator | null = null
  private source: FileSource | null = null
  private transform: RemapTransform | null = null
  private sink: HttpSink | null = null
  private utilizationTimer: NodeJS.Timeout | null = null
  private readonly removeDirOnExit = () => {
    if (this.dir) rmSync(this.dir, {recursive: true, force: true})
  }

  constructor(private readonly opts: PipelineOptions) {
    this.topology = demoTopology(opts.ids)
    this.runtimes = new Map(this.topology.map((c) => [c.id, new ComponentRuntime({id: c.id, kind: c.kind, type: c.type}, opts.tracer)]))
    this.receiver = new Receiver(opts.tuning.sinkLatencyMs, opts.sinkAuth && basicAuthorization(opts.sinkAuth))
  }

  /** The directory the generator writes and the source tails. */
  get logDir(): string {
    return this.dir
  }

  async start(): Promise<void> {
    const {tuning, log} = this.opts
    this.dir = await mkdtemp(path.join(os.tmpdir(), 'vdiag-demo-logs-'))
    process.once('exit', this.removeDirOnExit)
    await this.receiver.start()

    const toTransform = new BoundedQueue(tuning.queueCapacity)
    const toSink = new BoundedQueue(tuning.queueCapacity)
    const rt = (id: string) => this.runtimes.get(id) as ComponentRuntime
    const {ids} = this.opts
    const source = new FileSource(rt(ids.source), toTransform, {dir: this.dir, globCooldownMs: tuning.globCooldownMs, ignoreOlderMs: IGNORE_OLDER_MS, batchSize: tuning.batchSize, log})
    this.generator = new LogGenerator({
      dir: this.dir,
      rate: tuning.rate,
      eventSize: tuning.eventSize,
      files: tuning.files,
      discoveryFiles: tuning.discoveryFiles,
      consumedBytes: () => source.consumedBytes,
      log,
    })
    await this.generator.prepare()
    this.source = source
    this.transform = new RemapTransform(rt(ids.transform), toTransform, toSink, {
      batchSize: tuning.batchSize,
      transformCostUs: tuning.transformCostUs,
      hostname: os.hostname(),
      log,
    })
    this.sink = new HttpSink(rt(ids.sink), toSink, {url: this.receiver.baseUrl, batchSize: tuning.batchSize, auth: this.opts.sinkAuth, log})

    this.sink.start()
    this.transform.start()
    this.source.start()
    this.generator.start()
    this.utilizationTimer = setInterval(() => {
      for (const runtime of this.runtimes.values()) runtime.rollUtilization()
    }, UTILIZATION_PERIOD_MS)
    this.utilizationTimer.unref()
  }

  /** Stops in flow order so nothing is left blocked on a queue, then removes the log directory. */
  async stop(): Promise<void> {
    if (this.utilizationTimer !== null) clearInterval(this.utilizationTimer)
    await this.generator?.stop()
    await this.source?.stop()
    await this.transform?.stop()
    await this.sink?.stop()
    await this.receiver.stop()
    if (this.dir) await rm(this.dir, {recursive: true, force: true})
    process.removeListener('exit', this.removeDirOnExit)
  }

  /** Events the generator wrote and the receiver got (for the bench and logs). */
  throughput(): {generated: number; delivered: number} {
    return {generated: this.generator?.writtenEvents ?? 0, delivered: this.receiver.receivedEvents}
  }

  versionString(): string {
    return this.opts.versionString
  }

  hostname(): string {
    return os.hostname()
  }

  components(): DemoComponentView[] {
    return this.topology.map((c) => ({
      id: c.id,
      kind: c.kind,
      type: c.type,
      outputs: c.kind === 'sink' ? [] : [DEFAULT_OUTPUT],
      inputs: [...c.inputs],
      counters: {...(this.runtimes.get(c.id) as ComponentRuntime).stats.counters},
    })).sort((a, b) => a.id.localeCompare(b.id))
  }
}
