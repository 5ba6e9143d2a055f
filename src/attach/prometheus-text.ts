/**
 * A strict parser for the Prometheus text exposition format 0.0.4, the format
 * Vector's `prometheus_exporter` sink serves. Strict per line, tolerant per
 * document: a line that breaks the format is skipped and counted (with the
 * first few reasons kept) instead of failing the whole scrape, because one odd
 * line from a plugin must not cost the user every other metric.
 *
 * Written here rather than taken from npm: the only exposition parser in the
 * registry (`parse-prometheus-text-format` 1.1.1) is unmaintained, throws on
 * the first malformed line, returns values as strings and drops timestamps.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'

const METRIC_TYPES = new Set<string>(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

export interface ExpositionSample {
  /** The sample's own name, e.g. `vector_x_bucket` for a bucket of family `vector_x`. */
  name: string
  labels: Record<string, string>
  /** NaN and ±Infinity are legal exposition values and kept as such. */
  value: number
  /** ms since the epoch, when the line carries one. */
  timestamp?: number
}

export interface ExpositionFamily {
  name: string
  type: MetricType
  help?: string
  samples: ExpositionSample[]
}

export interface ParseOptions {
  /**
   * Whether to keep the samples of a family (by family name). Families left out
   * are still checked line by line and their names reported, but their samples
   * are not stored, which bounds memory to what the caller wants.
   */
  keep?(family: string): boolean
}

export interface ParseResult {
  /** Kept families, in order of first appearance. */
  families: Map<string, ExpositionFamily>
  /** Every family name seen, kept or not (prefix detection needs them all). */
  names: Set<string>
  /** Non-empty lines read (comments included). */
  lines: number
  /** Sample lines accepted, kept or not. */
  samples: number
  skipped: number
  /** The first MAX_PROBLEMS reasons, `line N: why`. */
  problems: string[]
}

/** Enough reasons to see a pattern in a broken exposition, not a copy of it. */
export const MAX_PROBLEMS = 5
/** Longest piece of a bad line quoted in a problem. */
const MAX_QUOTE = 80

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/
/** Go's ParseFloat forms the exposition uses; hex and underscores are not exposition values. */
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
const INTEGER = /^-?\d+$/

class LineError extends Error {}

interface FamilyState {
  type: MetricType | undefined
  typed: boolean
  help: string | undefined
  hasSamples: boolean
  kept: ExpositionFamily | undefined
}

export function parseExposition(text: string, opts: ParseOptions = {}): ParseResult {
  const result: ParseResult = {families: new Map(), names: new Set(), lines: 0, samples: 0, skipped: 0, problems: []}
  const states = new Map<string, FamilyState>()
  const seenSeries = new Set<string>()
  const keep = opts.keep ?? (() => true)

  const state = (name: string): FamilyState => {
    let s = states.get(name)
    if (s === undefined) {
      s = {type: undefined, typed: false, help: undefined, hasSamples: false, kept: undefined}
      states.set(name, s)
      result.names.add(name)
    }
    return s
  }
  const skip = (lineNo: number, line: string, why: string) => {
    result.skipped++
    if (result.problems.length < MAX_PROBLEMS) {
      const shown = line.length > MAX_QUOTE ? `${line.slice(0, MAX_QUOTE)}…` : line
      result.problems.push(`line ${lineNo}: ${why}: ${JSON.stringify(shown)}`)
    }
  }

  let lineNo = 0
  let start = 0
  while (start <= text.length) {
    let end = text.indexOf('\n', start)
    if (end === -1) end = text.length
    let line = text.slice(start, end)
    start = end + 1
    lineNo++
    if (line.endsWith('\r')) line = line.slice(0, -1)
    if (line.trim() === '') continue
    result.lines++
    try {
      if (line.startsWith('#')) {
        metadata(line, state)
      } else {
        const sample = parseSampleLine(line)
        const {family, s} = resolveFamily(sample, states, state)
        checkSuffix(sample, family, s.type ?? 'untyped')
        const kept = s.kept ?? (s.hasSamples ? undefined : keep(family) ? {name: family, type: s.type ?? 'untyped', help: s.help, samples: []} : undefined)
        if (kept !== undefined) {
          // Only kept series are remembered, so memory follows what the caller asked for.
          const seriesKey = `${sample.name}\u0000${canonicalLabels(sample.labels)}`
          if (seenSeries.has(seriesKey)) throw new LineError('the same series appears twice')
          seenSeries.add(seriesKey)
          if (s.kept === undefined) {
            s.kept = kept
            result.families.set(family, kept)
          }
          kept.samples.push(sample)
        }
        s.hasSamples = true
        result.samples++
      }
    } catch (e) {
      if (!(e instanceof LineError)) throw e
      skip(lineNo, line, e.message)
    }
  }
  return result
}

/** `# HELP name text` and `# TYPE name type`; any other `#` line is a comment. */
function metadata(line: string, state: (name: string) => FamilyState): void {
  const m = /^#[ \t]+(HELP|TYPE)[ \t]+(.*)$/.exec(line)
  if (!m) return
  const rest = m[2]
  const name = METRIC_NAME.exec(rest)?.[0]
  if (name === undefined) throw new LineError(`# ${m[1]} without a valid metric name`)
  const after = rest.slice(name.length)
  if (after !== '' && !/^[ \t]/.test(after)) throw new LineError(`# ${m[1]} with an invalid metric name`)
  const s = state(name)
  if (m[1] === 'HELP') {
    if (s.help !== undefined) throw new LineError('a second # HELP for the same metric')
    s.help = unescapeHelp(after.replace(/^[ \t]/, ''))
    if (s.kept) s.kept.help = s.help
    return
  }
  const type = after.trim()
  if (!METRIC_TYPES.has(type)) throw new LineError(`unknown metric type "${type}"`)
  if (s.typed) throw new LineError('a second # TYPE for the same metric')
  if (s.hasSamples) throw new LineError('# TYPE after samples of the same metric')
  s.typed = true
  s.type = type as MetricType
}

/** The family a sample belongs to: its own name, or a histogram/summary it is a `_bucket`, `_sum` or `_count` of. */
function resolveFamily(
  sample: ExpositionSample,
  states: Map<string, FamilyState>,
  state: (name: string) => FamilyState,
): {family: string; s: FamilyState} {
  const exact = states.get(sample.name)
  if (exact?.typed) return {family: sample.name, s: exact}
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sample.name.endsWith(suffix)) continue
    const base = sample.name.slice(0, -suffix.length)
    const parent = states.get(base)
    if (parent?.typed && (parent.type === 'histogram' || (parent.type === 'summary' && suffix !== '_bucket'))) return {family: base, s: parent}
  }
  return {family: sample.name, s: exact ?? state(sample.name)}
}

/** What each line of a histogram or summary must look like. */
function checkSuffix(sample: ExpositionSample, family: string, type: MetricType): void {
  const suffix = sample.name.slice(family.length)
  if (type === 'histogram') {
    if (suffix === '') throw new LineError('a histogram sample without _bucket, _sum or _count')
    if (suffix === '_bucket') {
      const le = sample.labels.le
      if (le === undefined) throw new LineError('a histogram bucket without an "le" label')
      if (Number.isNaN(parseValue(le))) throw new LineError(`a histogram bucket with le="${le}", not a number`)
    } else if ('le' in sample.labels) {
      throw new LineError(`an "le" label on ${suffix}`)
    }
  } else if (type === 'summary') {
    if (suffix === '') {
      const q = sample.labels.quantile
      if (q === undefined) throw new LineError('a summary sample without a "quantile" label')
      if (Number.isNaN(parseValue(q))) throw new LineError(`a summary quantile="${q}", not a number`)
    } else if ('quantile' in sample.labels) {
      throw new LineError(`a "quantile" label on ${suffix}`)
    }
  }
}

/** `name{label="value",...} value [timestamp]`, with spaces or tabs between the parts. */
export function parseSampleLine(line: string): ExpositionSample {
  const name = METRIC_NAME.exec(line)?.[0]
  if (name === undefined) throw new LineError('not a sample line (no metric name)')
  let i = name.length
  const labels: Record<string, string> = Object.create(null) as Record<string, string>
  const skipBlank = () => {
    while (line[i] === ' ' || line[i] === '\t') i++
  }
  let peek = i
  while (line[peek] === ' ' || line[peek] === '\t') peek++
  if (line[peek] === '{') {
    i = peek + 1
    for (;;) {
      skipBlank()
      if (line[i] === '}') {
        i++
        break
      }
      const labelName = LABEL_NAME.exec(line.slice(i))?.[0]
      if (labelName === undefined) throw new LineError('a label without a valid name')
      i += labelName.length
      skipBlank()
      if (line[i] !== '=') throw new LineError(`label ${labelName} has no "="`)
      i++
      skipBlank()
      if (line[i] !== '"') throw new LineError(`label ${labelName} has no quoted value`)
      i++
      let value = ''
      for (;;) {
        const c = line[i]
        if (c === undefined) throw new LineError(`label ${labelName}'s value has no closing quote`)
        i++
        if (c === '"') break
        if (c !== '\\') {
          value += c
          continue
        }
        const next = line[i++]
        if (next === '\\') value += '\\'
        else if (next === '"') value += '"'
        else if (next === 'n') value += '\n'
        else throw new LineError(`label ${labelName}'s value has an invalid escape "\\${next ?? ''}"`)
      }
      if (Object.hasOwn(labels, labelName)) throw new LineError(`label ${labelName} appears twice`)
      labels[labelName] = value
      skipBlank()
      if (line[i] === ',') {
        i++
        continue
      }
      if (line[i] === '}') {
        i++
        break
      }
      throw new LineError('labels are not separated by ","')
    }
  }
  const rest = line.slice(i)
  if (rest !== '' && !/^[ \t]/.test(rest)) throw new LineError('no blank between the name or labels and the value')
  const parts = rest.trim().split(/[ \t]+/)
  if (parts.length === 0 || parts[0] === '') throw new LineError('no value')
  if (parts.length > 2) throw new LineError('text after the timestamp')
  const value = parseValue(parts[0])
  if (Number.isNaN(value) && !/^nan$/i.test(parts[0])) throw new LineError(`value "${parts[0]}" is not a number`)
  const sample: ExpositionSample = {name, labels: {...labels}, value}
  if (parts.length === 2) {
    if (!INTEGER.test(parts[1])) throw new LineError(`timestamp "${parts[1]}" is not an integer (ms)`)
    const ts = Number(parts[1])
    if (!Number.isSafeInteger(ts)) throw new LineError(`timestamp "${parts[1]}" is out of range`)
    sample.timestamp = ts
  }
  return sample
}

/** A float as the exposition writes it (`NaN`, `+Inf`, `-Inf`, decimals with exponents); NaN when it is none. */
export function parseValue(text: string): number {
  if (FLOAT.test(text)) return Number(text)
  if (/^[+]?inf$/i.test(text)) return Infinity
  if (/^-inf$/i.test(text)) return -Infinity
  return NaN
}

/** HELP text escapes only `\\` and `\n`; other backslashes stay as written. */
function unescapeHelp(text: string): string {
  return text.replace(/\\([\\n])/g, (_, c: string) => (c === 'n' ? '\n' : '\\'))
}

function canonicalLabels(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0001${labels[k]}`)
    .join('\u0002')
}
