/**
 * Chrome Trace Event JSON for Perfetto UI / chrome://tracing / speedscope.
 * Object form with `displayTimeUnit` first (Perfetto only looks for it in the
 * first chunk). pid = service, tid = component; a component gets extra lanes
 * (tids) where its slices would not strictly nest, since Perfetto drops or
 * misplaces overlapping slices on one track. Times are µs relative to t0:
 * epoch µs with a ns fraction do not fit a double.
 */
import path from 'node:path'
import type {SpanRecord} from '../bundle/format.js'
import {SPAN} from '../protocol/tracing-control.js'
import {type ExportContext, type Exporter, HighHalves, errorText} from './context.js'
import {decToHex16, traceId128} from './ids.js'
import {OutputFile} from './output.js'
import {TraceGrouper} from './trace-groups.js'
import {type SpanNode, buildForest, frameName, isIteration, layoutLanes} from './tree.js'

export const CHROME_FILE = 'trace.chrome.json'

/** Lane tids of one component; lane 0 is the component's main track. */
interface Track {
  pid: number
  component: string
  index: number
  tids: number[]
  busyUntil: number[]
}

const KIND_ORDER: Record<string, number> = {source: 0, transform: 1, sink: 2}

export class ChromeExporter implements Exporter {
  readonly files: string[]
  private readonly out: OutputFile
  private readonly grouper: TraceGrouper
  private readonly highs = new HighHalves()
  private readonly pids = new Map<string, number>()
  private readonly tracks = new Map<string, Track>()
  private nextTid = 1
  private first = true
  private wroteEvent = false
  private spans = 0

  constructor(
    outDir: string,
    private readonly ctx: ExportContext,
  ) {
    const file = path.join(outDir, CHROME_FILE)
    this.files = [file]
    this.out = new OutputFile(file)
    this.grouper = new TraceGrouper((spans) => this.writeGroup(spans))
  }

  async add(span: SpanRecord): Promise<void> {
    if (this.first) {
      this.first = false
      await this.out.write('{"displayTimeUnit":"ns","traceEvents":[\n')
    }
    await this.grouper.add(span)
  }

  async finish(): Promise<void> {
    if (this.first) await this.out.write('{"displayTimeUnit":"ns","traceEvents":[\n')
    await this.grouper.finish()
    const m = this.ctx.manifest
    const otherData = {
      exporter: 'vdiag',
      vdiag_version: m.vdiag_version,
      pipeline_version: m.pipeline?.version ?? null,
      hostname: m.pipeline?.hostname ?? null,
      window_start: m.window?.start ?? null,
      t0_unix_ns: this.ctx.t0.toString(),
      spans: this.spans,
    }
    await this.out.write(`\n],"otherData":${JSON.stringify(otherData)}}\n`)
    await this.out.close()
  }

  abort(): Promise<void> {
    return this.out.abort()
  }

  private async event(value: object): Promise<void> {
    const text = JSON.stringify(value)
    await this.out.write(this.wroteEvent ? `,\n${text}` : text)
    this.wroteEvent = true
  }

  private async writeGroup(spans: SpanRecord[]): Promise<void> {
    const high = this.highs.ofGroup(spans)
    const nodes = buildForest(spans, this.ctx.t0)
    const byTrack = new Map<string, SpanNode[]>()
    for (const node of nodes) {
      const key = `${node.span.service}\u0000${node.component}`
      let list = byTrack.get(key)
      if (list === undefined) byTrack.set(key, (list = []))
      list.push(node)
    }
    for (const [key, part] of byTrack) {
      const track = await this.track(key, part[0])
      const layout = layoutLanes(part)
      const laneStart = new Array<number>(layout.count).fill(Infinity)
      part.forEach((node, i) => {
        laneStart[layout.lanes[i]] = Math.min(laneStart[layout.lanes[i]], node.start)
      })
      const placed = placeOnTrack(track.busyUntil, laneStart)
      const laneMap: number[] = []
      for (const target of placed.lanes) {
        const lane = target < track.tids.length ? target : await this.addLane(track)
        laneMap.push(lane)
      }
      placed.lanes.forEach((lane, j) => {
        track.busyUntil[lane] = Math.max(track.busyUntil[lane], layout.ends[j] + placed.shift)
      })
      for (let i = 0; i < part.length; i++) {
        await this.slice(part[i], track.pid, track.tids[laneMap[layout.lanes[i]]], high, placed.shift)
      }
    }
  }

  private async track(key: string, sample: SpanNode): Promise<Track> {
    const existing = this.tracks.get(key)
    if (existing !== undefined) return existing
    const service = sample.span.service || 'pipeline'
    let pid = this.pids.get(service)
    if (pid === undefined) {
      pid = this.pids.size + 1
      await this.event({ph: 'M', name: 'process_name', pid, args: {name: this.processName(service)}})
      this.pids.set(service, pid)
    }
    const kind = sample.span.meta[SPAN.meta.componentKind] ?? ''
    const track: Track = {pid, component: sample.component, index: (Object.hasOwn(KIND_ORDER, kind) ? KIND_ORDER[kind] : 3) * 1000 + this.tracks.size, tids: [], busyUntil: []}
    this.tracks.set(key, track)
    await this.addLane(track)
    return track
  }

  private processName(service: string): string {
    const host = this.ctx.manifest.pipeline?.hostname
    return host ? `${service} @ ${host}` : service
  }

  private async addLane(track: Track): Promise<number> {
    const lane = track.tids.length
    const tid = this.nextTid++
    track.tids.push(tid)
    track.busyUntil.push(-Infinity)
    const name = lane === 0 ? track.component : `${track.component} (lane ${lane + 1})`
    await this.event({ph: 'M', name: 'thread_name', pid: track.pid, tid, args: {name}})
    await this.event({ph: 'M', name: 'thread_sort_index', pid: track.pid, tid, args: {sort_index: track.index * 100 + lane}})
    return lane
  }

  private async slice(node: SpanNode, pid: number, tid: number, high: string | null, shiftNs: number): Promise<void> {
    const span = node.span
    const ts = (node.start + shiftNs) / 1000
    const args: Record<string, unknown> = {
      trace_id: traceId128(span, high),
      span_id: decToHex16(span.span_id),
      parent_id: span.parent_id === '0' ? null : decToHex16(span.parent_id),
      component: node.component,
      resource: span.resource,
    }
    if (span.error > 0) args.error = errorText(span)
    if (shiftNs > 0) args.clock_shift_us = shiftNs / 1000
    const cpuNs = span.metrics[SPAN.metrics.cpuNs]
    if (cpuNs !== undefined) args.cpu_ms = cpuNs / 1e6
    if (Object.keys(span.meta).length > 0) args.meta = span.meta
    if (Object.keys(span.metrics).length > 0) args.metrics = span.metrics
    const event: Record<string, unknown> = {
      name: isIteration(node) ? SPAN.iteration : frameName(node),
      cat: category(node),
      ph: 'X',
      ts,
      dur: (node.end - node.start) / 1000,
      pid,
      tid,
    }
    // The thread clock is unknown: anchor it at ts so only tdur (CPU time) carries meaning.
    if (cpuNs !== undefined && cpuNs >= 0) {
      event.tts = ts
      event.tdur = Math.round(cpuNs) / 1000
    }
    if (span.error > 0) event.cname = 'terrible'
    event.args = args
    this.spans++
    await this.event(event)
  }
}

/**
 * dd-trace anchors each trace at Date.now(), a whole millisecond, and times
 * its spans from there with a monotonic clock; so two back-to-back iterations
 * of one component can seem to overlap by up to about a millisecond. Shifting
 * the later tree (all of it, so it still nests, durations unchanged; the shift
 * is in args.clock_shift_us) by at most this much keeps sequential iterations
 * on the component's own track instead of spilling them onto a second lane.
 */
export const CLOCK_JITTER_NS = 1_000_000

/**
 * Places a tree's local lanes (given their earliest starts) onto the track's
 * lanes, each going to a lane whose slices all ended before it starts; lanes
 * numbered past `busyUntil.length` are new. Prefers no shift; else the
 * smallest shift within CLOCK_JITTER_NS that avoids opening a new lane.
 */
export function placeOnTrack(busyUntil: number[], starts: number[]): {lanes: number[]; shift: number} {
  const attempt = (shift: number): {lanes: number[]; added: number} => {
    const used = new Set<number>()
    const lanes: number[] = []
    let added = 0
    for (let j = 0; j < starts.length; j++) {
      let target = busyUntil.findIndex((until, l) => !used.has(l) && until <= starts[j] + shift)
      if (target === -1) target = busyUntil.length + added++
      used.add(target)
      lanes.push(target)
    }
    return {lanes, added}
  }
  const plain = attempt(0)
  if (plain.added === 0) return {lanes: plain.lanes, shift: 0}
  const candidates = new Set<number>()
  for (const until of busyUntil) {
    for (const start of starts) {
      const gap = until - start
      if (gap > 0 && gap <= CLOCK_JITTER_NS) candidates.add(gap)
    }
  }
  for (const shift of [...candidates].sort((a, b) => a - b)) {
    const shifted = attempt(shift)
    if (shifted.added === 0) return {lanes: shifted.lanes, shift}
  }
  return {lanes: plain.lanes, shift: 0}
}

function category(node: SpanNode): string {
  if (isIteration(node)) return 'iteration'
  if (node.span.meta[SPAN.meta.substage]) return 'substage'
  if (node.span.meta[SPAN.meta.stage]) return 'stage'
  return 'span'
}
