/**
 * README.txt: the first thing the person who receives a bundle opens. Plain
 * text built from the manifest, so it never holds anything the manifest does
 * not (the manifest is redacted before it gets here).
 */
import {ENTRY, type Manifest} from './format.js'

/** One line per entry, in ENTRY order; keep in step with docs/bundle-format.md. */
const ENTRY_DESCRIPTIONS: [string, string][] = [
  [ENTRY.manifest, 'what was collected and how it went: versions, window, collector status, span counts, redaction audit, size and sha256 of every other file'],
  [ENTRY.readme, 'this file'],
  [ENTRY.pipeline, 'the pipeline: admin API generation and version, hostname, components, topology when known'],
  [ENTRY.tracing, 'the tracing window: what was asked, what the pipeline opened, how it ended'],
  [ENTRY.metrics, 'per-component counters at the start, every interval and the end (one JSON object per line)'],
  [ENTRY.host, 'host facts: OS, CPU, memory, filesystems, and the pipeline process over time'],
  [ENTRY.spans, 'every span received, normalised, one JSON object per line, gzip-compressed'],
  [ENTRY.payloadIndex, 'one line per trace payload received (headers, sizes, counts)'],
  [`${ENTRY.payloadDir}/NNNNNN.msgpack`, 'the payload bodies as received (re-encoded when redaction changed them)'],
  [ENTRY.log, "vdiag's own log of the capture"],
]

function orUnknown(v: string | number | null | undefined): string {
  return v === null || v === undefined || v === '' ? 'unknown' : String(v)
}

export function renderReadme(m: Omit<Manifest, 'files'>): string {
  const c = m.counts
  const lines: string[] = []
  const width = Math.max(...ENTRY_DESCRIPTIONS.map(([name]) => name.length)) + 2
  lines.push(
    'vdiag support bundle',
    '====================',
    '',
    `Written by vdiag ${m.vdiag_version} at ${m.created_at} (bundle format ${m.format} ${m.format_version}).`,
    `Pipeline: version ${orUnknown(m.pipeline.version)} on host ${orUnknown(m.pipeline.hostname)}, admin API ${m.pipeline.api_generation}.`,
    m.window.start
      ? `Tracing window: ${m.window.start} to ${orUnknown(m.window.end)}.`
      : 'Tracing window: none was opened (see pipeline/tracing.json for why).',
    `Spans: ${c.spans_kept} kept in ${c.payloads} payloads; dropped by vdiag ${c.spans_dropped_vdiag}, by the pipeline ${orUnknown(c.spans_dropped_pipeline)}; lost ${orUnknown(c.spans_lost)}.`,
    m.complete ? 'Complete: yes.' : `Complete: NO - ${orUnknown(m.incomplete_reason)}.`,
    '',
    'How to look at it',
    '-----------------',
    '  vdiag replay THIS-FILE           which component is the bottleneck, and in which stage',
    '  vdiag replay THIS-FILE --json    the same as one JSON document',
    'replay reads the .tar.gz or .zip as is, or the folder it was extracted to.',
    'It checks every file against manifest.json first and refuses a bundle that does not match.',
    '',
    'What is inside',
    '--------------',
    ...ENTRY_DESCRIPTIONS.map(([name, what]) => `  ${name.padEnd(width)}${what}`),
    'A file may be missing when its collector failed; manifest.json "collectors" says why.',
    '',
    'Checking it by hand',
    '-------------------',
    'manifest.json "files" lists every other file with its size and sha256. In the extracted folder:',
    `  jq -r '.files[] | "\\(.sha256)  \\(.path)"' manifest.json | sha256sum -c`,
    '',
    'Redaction',
    '---------',
    m.redaction.enabled
      ? `On (rules version ${m.redaction.rules_version}): ${m.redaction.total} values were replaced with [REDACTED:<rule>] (token-shaped ones as [REDACTED:<rule>#<tag>], the same tag for the same value throughout the bundle).`
      : `OFF: only values vdiag knew to be secret (such as its admin token) were removed; ${m.redaction.total} replaced.`,
    'manifest.json "redaction" lists each rule, how many values it replaced and in which file and field - never the values.',
    '',
  )
  return lines.join('\n')
}
