/** How replay --to-agent reads on a terminal: one line per payload as it is done, then the totals and what was not accepted. */
import {formatBytes} from '../util/format.js'
import type {PayloadSend, ToAgentReport} from './to-agent.js'

const seqText = (seq: number): string => (seq < 0 ? '??????' : String(seq).padStart(6, '0'))

export function payloadLine(r: PayloadSend): string {
  const what = `payload ${seqText(r.seq)} ${r.path || '?'} ${r.spans} spans`
  if (r.accepted) return `${what}, ${formatBytes(r.bytes)} → ${r.status}${r.attempts > 1 ? ` after ${r.attempts} attempts` : ''}`
  const tries = r.attempts === 0 ? 'not sent' : `not accepted after ${r.attempts} attempt${r.attempts === 1 ? '' : 's'}`
  return `${what} → ${tries}: ${r.error ?? 'unknown reason'}`
}

export function summaryLines(report: ToAgentReport): string[] {
  const lines: string[] = []
  if (report.payloads === 0) return ['the bundle holds no trace payloads: nothing was sent']
  if (report.shift_ns !== null) lines.push(`span starts moved by ${(Number(BigInt(report.shift_ns) / 1_000_000n) / 1000).toFixed(3)} s so the last span ends now`)
  lines.push(`${report.accepted} of ${report.payloads} payloads accepted by ${report.url} (${report.spans_accepted} of ${report.spans} spans, ${formatBytes(report.bytes_sent)})`)
  if (report.failures.length) {
    lines.push(`not accepted (${report.failures.length}):`)
    for (const f of report.failures) lines.push(`  ${payloadLine(f)}`)
  }
  return lines
}
