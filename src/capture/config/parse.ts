/**
 * Reading Vector config text into a plain document and writing a redacted
 * document back, with the maintained parsers (yaml, smol-toml, JSON). Parser
 * errors quote the offending source line, which can be the very line holding
 * a secret, so only their first line and position are kept.
 */
import path from 'node:path'
import type {ConfigFormat} from '../../bundle/format.js'
import {isTable} from './redact-document.js'

const EXTENSIONS: Readonly<Record<string, ConfigFormat>> = {
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.toml': 'toml',
  '.json': 'json',
}

/** Caps a YAML alias bomb; the yaml package's own default. */
const YAML_MAX_ALIAS_COUNT = 100
/** Longest parser message kept (first line only). */
const MAX_ERROR_LENGTH = 300

/** The format Vector reads a file in, from its extension; null when Vector would skip it in a config folder. */
export function formatFromName(file: string): ConfigFormat | null {
  return EXTENSIONS[path.extname(file).toLowerCase()] ?? null
}

export class ConfigParseError extends Error {}

/** A config document: a table, possibly empty. Throws ConfigParseError with a message safe to store. */
export async function parseConfigText(text: string, format: ConfigFormat): Promise<Record<string, unknown>> {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  let doc: unknown
  try {
    if (format === 'yaml') {
      const YAML = await import('yaml')
      doc = YAML.parse(body, {prettyErrors: true, maxAliasCount: YAML_MAX_ALIAS_COUNT})
    } else if (format === 'toml') {
      const {parse} = await import('smol-toml')
      doc = parse(body)
    } else {
      doc = JSON.parse(body)
    }
  } catch (e) {
    throw new ConfigParseError(describeParseError(e, format))
  }
  // An empty YAML file is a valid, empty config for Vector.
  if (doc === null || doc === undefined) return {}
  if (!isTable(doc)) throw new ConfigParseError(`invalid ${format.toUpperCase()} config: the top level is ${Array.isArray(doc) ? 'a list' : `a ${typeof doc}`}, not a table`)
  return doc
}

function describeParseError(e: unknown, format: ConfigFormat): string {
  const raw = e instanceof Error ? e.message : String(e)
  let msg: string
  if (format === 'toml') {
    const t = e as {line?: number; column?: number}
    const first = firstLine(raw).replace(/^Invalid TOML document:\s*/, '')
    msg = typeof t.line === 'number' ? `${first} at line ${t.line}, column ${t.column ?? '?'}` : first
  } else if (format === 'json') {
    // V8 quotes a stretch of the input: `Unexpected token 'h', ..."password": hunter2}" is not valid JSON`.
    msg = firstLine(raw).replace(/, (?:\.\.\.)?".*" is not valid JSON$/s, '')
  } else {
    msg = firstLine(raw).replace(/:$/, '')
  }
  if (msg.length > MAX_ERROR_LENGTH) msg = `${msg.slice(0, MAX_ERROR_LENGTH)}…`
  return `invalid ${format.toUpperCase()}: ${msg}`
}

function firstLine(s: string): string {
  const i = s.indexOf('\n')
  return (i < 0 ? s : s.slice(0, i)).trim()
}

/**
 * The redacted document in `format`, with a header comment where the format
 * has comments. Throws when the document cannot be written in that format.
 */
export async function serialiseConfig(doc: Record<string, unknown>, format: ConfigFormat, header: string): Promise<string> {
  const comment = header
    .split('\n')
    .map((l) => `# ${l}`)
    .join('\n')
  if (format === 'yaml') {
    const YAML = await import('yaml')
    // lineWidth 0: no folding, so long values (VRL, regexes) stay on their lines.
    return `${comment}\n${YAML.stringify(doc, {lineWidth: 0})}`
  }
  if (format === 'toml') {
    const {stringify} = await import('smol-toml')
    return `${comment}\n${stringify(doc)}\n`
  }
  return `${JSON.stringify(doc, null, 2)}\n`
}
