import type {Finding, StageStats} from '../types.js'
import type {AnalysisView} from '../view.js'
import {CRITICAL_BUSY, SUBSTAGE_MOSTLY} from './thresholds.js'
import {
  blockedShare,
  dominantOwnStage,
  fmtMs,
  kindLabel,
  ownWorkShare,
  pct,
  primaryBottleneck,
  saturatedByOwnWork,
  topologyNote,
} from './saturation.js'

/**
 * The primary bottleneck from the spans: the most downstream component that is
 * saturated by its own work. Upstream components blocked in `send` are its
 * victims and go into the evidence, not the verdict.
 */
export function detectBottleneck(view: AnalysisView): Finding[] {
  const c = primaryBottleneck(view)
  if (!c) return []
  const stage = dominantOwnStage(c)
  const sub = stage ? topSubstage(stage) : null
  const destination = c.kind === 'sink' && stage?.name === 'send'
  const victims = view.result.components
    .filter((o) => o.id !== c.id && (view.depth[o.id] ?? 0) < (view.depth[c.id] ?? 0) && blockedShare(o) >= 0.3)
    .map((o) => ({component: o.id, busy_share: o.busy_share, blocked_share_of_busy: round4(blockedShare(o))}))
  const others = saturatedByOwnWork(view)
    .filter((o) => o.id !== c.id)
    .map((o) => ({component: o.id, busy_share: o.busy_share}))

  const subShare = sub && stage && stage.total_ms > 0 ? round4(sub.total_ms / stage.total_ms) : null
  const where = stage ? `\`${stage.name}\`` : 'time no stage span covers'
  const stageShare = stage ? stage.total_share : c.untracked_share
  // On-CPU share over the spans that measured it (cpu_ns is absent on spans that only wait).
  const cpuWall = stage && stage.cpu_ms !== undefined ? stage.cpu_ms + (stage.off_cpu_ms ?? 0) : 0
  const stageNotes = [
    destination ? `p95 ${fmtMs(stage!.p95_ms)}` : null,
    stage && stage.cpu_ms !== undefined && cpuWall > 0 ? `${pct(stage.cpu_ms / cpuWall)} on CPU` : null,
  ].filter(Boolean)
  const cause = `${destination ? 'waiting on the destination' : 'in its own work'} in ${where}${stageNotes.length > 0 ? ` (${stageNotes.join(', ')})` : ''}`
  // The same wording for every kind: the dominant sub-stage and its share of the stage.
  const subNote =
    sub && subShare !== null
      ? subShare >= SUBSTAGE_MOSTLY
        ? `, mostly \`${sub.name}\` (${pct(subShare)} of the stage)`
        : `, the largest part in \`${sub.name}\` (${pct(subShare)} of the stage)`
      : ''
  const tail = victims.length > 0 ? `; ${victims.map((v) => `\`${v.component}\``).join(', ')} ${victims.length > 1 ? 'are' : 'is'} blocked behind it` : ''
  const summary = `${kindLabel(c)} \`${c.id}\` is the bottleneck: busy ${pct(c.busy_share)} of the window, ${pct(stageShare)} of its iteration time ${cause}${subNote}${tail}.`

  const evidence: Record<string, unknown> = {
    busy_share: c.busy_share,
    own_work_share_of_busy: round4(ownWorkShare(c)),
    iterations: c.iterations,
    window_s: view.result.window.duration_s,
    stage: stage?.name ?? null,
    stage_share_of_iteration_time: stageShare,
    stage_total_ms: stage?.total_ms ?? c.untracked_ms,
    stage_p50_ms: stage?.p50_ms ?? null,
    stage_p95_ms: stage?.p95_ms ?? null,
    stage_p99_ms: stage?.p99_ms ?? null,
    topology: topologyNote(view),
    depth: view.depth[c.id] ?? 0,
  }
  if (stage?.cpu_ms !== undefined) {
    evidence.stage_cpu_ms = stage.cpu_ms
    evidence.stage_off_cpu_ms = stage.off_cpu_ms
    evidence.stage_cpu_share = cpuWall > 0 ? round4(stage.cpu_ms / cpuWall) : null
    evidence.stage_cpu_coverage = stage.cpu_coverage ?? null
  }
  if (stage && stage.substages.length > 0) {
    evidence.substage = sub?.name ?? null
    evidence.substage_share = subShare
    evidence.dominant_substage = sub?.name ?? null
    evidence.substages = stage.substages.map((s) => ({
      name: s.name,
      total_ms: s.total_ms,
      share_of_stage: stage.total_ms > 0 ? round4(s.total_ms / stage.total_ms) : 0,
      p95_ms: s.p95_ms,
    }))
  }
  if (victims.length > 0) evidence.blocked_upstream = victims
  if (others.length > 0) evidence.also_saturated_upstream = others
  return [
    {
      id: destination ? 'bottleneck.sink_destination' : 'bottleneck.component',
      severity: c.busy_share >= CRITICAL_BUSY ? 'critical' : 'high',
      component: c.id,
      stage: stage?.name ?? null,
      summary,
      evidence,
    },
  ]
}

function topSubstage(stage: StageStats): StageStats | null {
  let best: StageStats | null = null
  for (const s of stage.substages) if (!best || s.total_ms > best.total_ms) best = s
  return best
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4
