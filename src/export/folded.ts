/**
 * Folded stacks of self time (Brendan Gregg's collapsed format) for
 * flamegraph.pl, inferno and speedscope: `component;stage;substage <ns>`, one
 * line per distinct stack, weights aggregated. An iteration's own self time
 * (time no stage covers) sits on the bare `component` frame, the way a flame
 * graph shows a frame's self time. Weights are wall-clock ns, idle stages
 * included: that is the point of an off-CPU view.
 */
import path from 'node:path'
import type {SpanRecord} from '../bundle/format.js'
import type {ExportContext, Exporter} from './context.js'
import {OutputFile} from './output.js'
import {TraceGrouper} from './trace-groups.js'
import {type SpanNode, buildForest, frameName, isIteration, selfTimeNs} from './tree.js'

export const FOLDED_FILE = 'self-time.folded'
/** Distinct stacks kept; hostile span names must not grow the map without bound. */
export const MAX_FOLDED_STACKS = 50_000
const OTHER_FRAME = '(other)'

export class FoldedExporter implements Exporter {
  readonly files: string[]
  private readonly grouper: TraceGrouper
  private readonly weights = new Map<string, bigint>()
  private readonly outDir: string
  private out: OutputFile | null = null

  constructor(
    outDir: string,
    private readonly ctx: ExportContext,
  ) {
    this.outDir = outDir
    this.files = [path.join(outDir, FOLDED_FILE)]
    this.grouper = new TraceGrouper(async (spans) => this.addGroup(spans))
  }

  add(span: SpanRecord): Promise<void> {
    return this.grouper.add(span)
  }

  async finish(): Promise<void> {
    await this.grouper.finish()
    this.out = new OutputFile(path.join(this.outDir, FOLDED_FILE))
    const stacks = [...this.weights.keys()].sort()
    for (const stack of stacks) {
      const weight = this.weights.get(stack)!
      if (weight > 0n) await this.out.write(`${stack} ${weight}\n`)
    }
    await this.out.close()
  }

  async abort(): Promise<void> {
    await this.out?.abort()
  }

  private addGroup(spans: SpanRecord[]): void {
    const nodes = buildForest(spans, this.ctx.t0)
    const stacks = new Map<SpanNode, string>()
    for (const node of nodes) {
      const base = node.parent === null ? frame(node.component) : stacks.get(node.parent)!
      // The iteration is the component frame itself; every other span adds its own frame.
      const stack = isIteration(node) ? base : `${base};${frame(frameName(node))}`
      stacks.set(node, stack)
      const self = selfTimeNs(node)
      if (self > 0) this.addWeight(stack, node.component, self)
    }
  }

  private addWeight(stack: string, component: string, ns: number): void {
    let key = stack
    if (!this.weights.has(key) && this.weights.size >= MAX_FOLDED_STACKS) key = `${frame(component)};${OTHER_FRAME}`
    this.weights.set(key, (this.weights.get(key) ?? 0n) + BigInt(ns))
  }
}

/** `;` separates frames and a newline ends the line: neither may appear inside one. */
function frame(name: string): string {
  const clean = name.replace(/[;\r\n\t\u0000-\u001f\u007f]/g, '_')
  return clean === '' ? '_' : clean
}
