/**
 * `--config`: the pipeline's config files, redacted structurally, plus the
 * components and topology edges they define (the gRPC admin API gives none).
 * Each file is parsed with a maintained parser, redacted key by key with the
 * bundle's Redactor (environment and secret-backend references stay
 * readable), and written back in its own format: support reads the same
 * syntax and key paths the user sees, and the copy still loads in Vector
 * once the references are set. Comments and layout are not kept — comments
 * are free text that redaction by key cannot vouch for. A file that cannot be
 * read, parsed or redacted is recorded with why and left out; nothing here
 * throws for a bad file.
 */
import {constants, open} from 'node:fs/promises'
import path from 'node:path'
import {ENTRY, configEntry, type ConfigCollection, type ConfigFileRecord, type ConfigFormat} from '../bundle/format.js'
import type {Redactor} from '../bundle/redaction.js'
import {discoverConfigFiles, type ConfigCandidate} from './config/discover.js'
import {ConfigParseError, parseConfigText, serialiseConfig} from './config/parse.js'
import {ConfigRedaction, ID_TABLES, isTable} from './config/redact-document.js'
import {buildTopology, type ComponentDefinition} from './config/topology.js'

/** Vector configs are kilobytes; megabytes means a wrong file (a log, a binary). */
export const MAX_CONFIG_FILE_BYTES = 8 * 1024 * 1024
/** All files together, held in memory until the bundle is written. */
export const MAX_CONFIG_TOTAL_BYTES = 64 * 1024 * 1024

export interface ConfigDocument {
  /** Bundle entry, e.g. `config/01-vector.yaml`. */
  entry: string
  /** The redacted file, ready to write (UTF-8). */
  text: string
}

export interface CollectedConfigs {
  /** What goes to config/index.json (already redacted). */
  collection: ConfigCollection
  /** The files themselves, one per `files[].entry` that is not null. */
  documents: ConfigDocument[]
}

class ReadError extends Error {}

async function readCapped(file: string, budget: number): Promise<string> {
  let fh
  try {
    // O_NONBLOCK: a FIFO given by mistake must not block the capture; it is refused below as not a regular file.
    fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new ReadError(code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (e as Error).message)
  }
  try {
    const st = await fh.stat()
    if (!st.isFile()) throw new ReadError('not a regular file')
    const cap = Math.min(MAX_CONFIG_FILE_BYTES, budget)
    if (st.size > cap) {
      throw new ReadError(
        st.size > MAX_CONFIG_FILE_BYTES
          ? `${st.size} bytes, more than the ${MAX_CONFIG_FILE_BYTES} a config file can reasonably be`
          : `not read: the config files together exceed ${MAX_CONFIG_TOTAL_BYTES} bytes`,
      )
    }
    return (await fh.readFile()).toString('utf8')
  } finally {
    await fh.close()
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

export async function collectConfigs(paths: string[], redactor: Redactor): Promise<CollectedConfigs> {
  const index = ENTRY.configIndex
  const files: ConfigFileRecord[] = []
  const errors: ConfigCollection['errors'] = []
  const documents: ConfigDocument[] = []
  const definitions: ComponentDefinition[] = []
  const redactPath = (p: string) => redactor.redactText(p, index, 'files[].source')
  const fail = (source: string, layout: ConfigFileRecord['layout'], format: ConfigFormat | null, error: string, entry: string | null = null) => {
    const src = redactPath(source)
    const err = redactor.redactText(error, index, 'files[].error')
    files.push({source: src, entry: null, format, stored_as: null, layout, ok: false, error: entry ? `${err} (entry ${entry} left out)` : err})
    errors.push({source: src, error: err})
  }

  const {candidates, failures} = await discoverConfigFiles(paths)
  for (const f of failures) fail(f.source, 'config', null, f.error)

  let n = 0
  let budget = MAX_CONFIG_TOTAL_BYTES
  for (const c of candidates) {
    let text: string
    try {
      text = await readCapped(c.source, budget)
      budget -= Buffer.byteLength(text)
    } catch (e) {
      fail(c.source, c.layout, null, message(e))
      continue
    }
    let doc: Record<string, unknown>
    try {
      doc = await parseConfigText(text, c.format)
    } catch (e) {
      const why = e instanceof ConfigParseError ? e.message : `could not parse: ${message(e)}`
      fail(c.source, c.layout, c.format, c.formatAssumed ? `${why} (no .yaml/.yml/.toml/.json extension: read as TOML, as Vector does)` : why)
      continue
    }

    // The number is taken before redaction: the audit names this entry.
    const entry = configEntry(++n, entryBaseName(c))
    try {
      const out = redactFile(c, doc, entry, redactor)
      const source = redactPath(c.source)
      let stored: ConfigFormat = c.format
      let storedEntry = entry
      let body: string
      const header = `Redacted copy of ${source} made by vdiag.\nSecrets are replaced by [REDACTED:<rule>]; \${VAR} and SECRET[...] references are kept; comments and layout are not.`
      try {
        body = await serialiseConfig(out.document, c.format, header)
      } catch {
        // The format could not hold the redacted document (should not happen); JSON always can.
        stored = 'json'
        storedEntry = `${entry}.json`
        body = await serialiseConfig(out.document, 'json', header)
      }
      documents.push({entry: storedEntry, text: body})
      definitions.push(...out.definitions.map((d) => ({...d, entry: storedEntry})))
      const rec: ConfigFileRecord = {source, entry: storedEntry, format: c.format, stored_as: stored, layout: c.layout, ok: true}
      rec.components = out.definitions.map((d) => d.id)
      files.push(rec)
    } catch (e) {
      // Never store what could not be redacted.
      fail(c.source, c.layout, c.format, `could not redact: ${message(e)}`, entry)
    }
  }

  const topology = buildTopology(definitions)
  return {
    collection: {
      files,
      components: topology.components,
      edges: topology.edges,
      unresolved_inputs: topology.unresolved_inputs,
      errors,
      warnings: topology.warnings,
    },
    documents,
  }
}

function entryBaseName(c: ConfigCandidate): string {
  const base = path.basename(c.source)
  return c.component ? `${c.component.folder}-${base}` : base
}

function redactFile(
  c: ConfigCandidate,
  doc: Record<string, unknown>,
  entry: string,
  redactor: Redactor,
): {document: Record<string, unknown>; definitions: Omit<ComponentDefinition, 'entry'>[]} {
  const r = new ConfigRedaction(redactor, entry)
  const definitions: Omit<ComponentDefinition, 'entry'>[] = []
  if (c.component) {
    const body = r.value(doc) as Record<string, unknown>
    definitions.push({id: r.id(c.component.folder, c.component.id), kind: c.component.kind, body})
    return {document: body, definitions}
  }
  const document = r.document(doc)
  for (const [table, kind] of Object.entries(ID_TABLES)) {
    const t = document[table]
    if (kind === null || !isTable(t)) continue
    for (const [id, body] of Object.entries(t)) if (isTable(body)) definitions.push({id, kind, body})
  }
  return {document, definitions}
}
