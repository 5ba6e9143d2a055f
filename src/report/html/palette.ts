/**
 * Colours. Stages use the Okabe–Ito colour-blind-safe palette; idle stages
 * are light greys so busy time stands out, and every colour also comes with a
 * text label, so nothing is told by colour alone.
 */
import type {Severity} from '../../analysis/types.js'

const FIXED: Record<string, string> = {
  discover: '#E69F00',
  read: '#009E73',
  process: '#0072B2',
  encode: '#CC79A7',
  send: '#D55E00',
  backoff: '#F0E442',
  sleep: '#CFCFCF',
  wait: '#E3E3E3',
  untracked: '#8F8F8F',
}

/** For stage names outside the protocol's vocabulary (Paul Tol's muted set). */
const EXTRA = ['#56B4E9', '#882255', '#44AA99', '#999933', '#AA4499', '#117733', '#332288', '#DDCC77']

export function stageColor(name: string): string {
  const fixed = Object.hasOwn(FIXED, name) ? FIXED[name] : undefined
  if (fixed) return fixed
  let h = 0
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0
  return EXTRA[h % EXTRA.length]
}

export const SEVERITY_ORDER: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info']

/** Known severities only: the value ends up in a class name. */
export function severityClass(value: unknown): Severity {
  return SEVERITY_ORDER.includes(value as Severity) ? (value as Severity) : 'info'
}

export const KIND_FILL: Record<string, string> = {source: '#E7F0FA', transform: '#E8F5EC', sink: '#FBEEE4'}
export const SERIES = {received: '#0072B2', sent: '#D55E00'} as const
export const ERROR_COLOR = '#B3261E'

/** One colour per component in multi-line charts (Okabe–Ito, then Tol's muted set); each line also has a text label. */
const LINES = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#882255', '#44AA99', '#999933', '#AA4499', '#332288']

export function lineColor(index: number): string {
  return LINES[((index % LINES.length) + LINES.length) % LINES.length]
}
