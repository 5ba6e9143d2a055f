/**
 * Structural redaction of one parsed Vector config document with the bundle's
 * Redactor: values under sensitive keys go whole, other values get the value
 * patterns, and environment / secret-backend references stay readable
 * (references.ts).
 *
 * Component ids are names the user picked, not keys with a meaning: a source
 * called `auth_logs` must not have its whole body redacted as if it were an
 * `auth` setting. So each component body is redacted on its own (audit paths
 * are then relative to the component, e.g. `auth.password`), and the id only
 * gets the value patterns. Everything else is redacted in one pass from the
 * top, so `secret.<backend>` (secret-backend settings) is redacted whole.
 */
import type {Redactor} from '../../bundle/redaction.js'
import type {ComponentKind} from '../../protocol/tracing-control.js'
import {protectReferences} from './references.js'

/** Top-level tables whose keys are component ids, and the kind each holds (null: not a topology component). */
export const ID_TABLES: Readonly<Record<string, ComponentKind | null>> = {
  sources: 'source',
  transforms: 'transform',
  sinks: 'sink',
  enrichment_tables: null,
}

/** `--name`, `-n` or `--name=value` in an argument list. */
const FLAG = /^--?([A-Za-z][\w.-]*)(?:=([\s\S]*))?$/

/** Same bound as the Redactor's: deeper than this is not a config. */
const MAX_DEPTH = 256

export function isTable(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

/** Assignment that also works for a key named `__proto__`. */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, {value, enumerable: true, writable: true, configurable: true})
}

function isIdTable(key: string, value: unknown): value is Record<string, unknown> {
  return Object.prototype.hasOwnProperty.call(ID_TABLES, key) && isTable(value)
}

/** Copy of `v` with every reference-holding string replaced by its stand-in. */
function mask(v: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new Error(`nested deeper than ${MAX_DEPTH} levels`)
  if (typeof v === 'string') return protectReferences(v)?.standIn ?? v
  if (Array.isArray(v)) return v.map((x) => mask(x, depth + 1))
  if (isTable(v)) {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) setOwn(out, k, mask(x, depth + 1))
    return out
  }
  return v
}

/** Walks the original and the redacted copy together and rebuilds the protected strings. */
function unmask(orig: unknown, red: unknown): unknown {
  if (typeof orig === 'string') {
    const p = protectReferences(orig)
    return p !== null && typeof red === 'string' ? p.restore(red) : red
  }
  if (Array.isArray(orig)) {
    if (!Array.isArray(red) || red.length !== orig.length) throw shapeError()
    return orig.map((o, i) => unmask(o, red[i]))
  }
  if (isTable(orig)) {
    if (!isTable(red)) throw shapeError()
    const o = Object.entries(orig)
    const r = Object.entries(red)
    if (o.length !== r.length) throw shapeError()
    const out: Record<string, unknown> = {}
    // The Redactor keeps key order; a key it rewrote (a secret inside a key) keeps its place.
    for (let i = 0; i < o.length; i++) setOwn(out, r[i]![0], unmask(o[i]![1], r[i]![1]))
    return out
  }
  return red
}

/** Two ids can redact to the same text; keep both components. */
function distinctKey(obj: Record<string, unknown>, key: string): string {
  if (!Object.prototype.hasOwnProperty.call(obj, key)) return key
  for (let n = 2; ; n++) if (!Object.prototype.hasOwnProperty.call(obj, `${key}#${n}`)) return `${key}#${n}`
}

function shapeError(): Error {
  return new Error('the redacted copy lost a key (such as `__proto__`); the file is left out rather than stored unredacted')
}

export class ConfigRedaction {
  /** Component ids already redacted, so each is audited once however often it is referred to. */
  private readonly ids = new Map<string, string>()

  constructor(
    private readonly redactor: Redactor,
    /** The bundle entry the document goes to (audit `file`). */
    private readonly entry: string,
  ) {}

  /** A value with references protected: the Redactor's own key and value rules, references kept. */
  value(v: unknown): unknown {
    return this.flagValues(unmask(v, this.redactor.redactJson(mask(v, 0), this.entry)), 0)
  }

  /**
   * Command lines in configs (`exec` sources: `command: ["tool", "--password", "x"]`):
   * the Redactor judges array items one by one, so the item after a flag, or
   * after `=` in `--flag=value`, is judged again here under the flag's name.
   */
  private flagValues(v: unknown, depth: number): unknown {
    if (depth > MAX_DEPTH) throw new Error(`nested deeper than ${MAX_DEPTH} levels`)
    if (isTable(v)) {
      for (const [k, x] of Object.entries(v)) setOwn(v, k, this.flagValues(x, depth + 1))
      return v
    }
    if (!Array.isArray(v)) return v
    const out = v.map((x) => this.flagValues(x, depth + 1))
    for (let i = 0; i < out.length; i++) {
      const item = out[i]
      if (typeof item !== 'string') continue
      const flag = FLAG.exec(item)
      if (!flag) continue
      const [, name, value] = flag
      if (value !== undefined) out[i] = `${item.slice(0, item.length - value.length)}${this.underFlag(value, name!)}`
      else if (typeof out[i + 1] === 'string' && !FLAG.test(out[i + 1] as string)) out[i + 1] = this.underFlag(out[i + 1] as string, name!)
    }
    return out
  }

  private underFlag(value: string, flag: string): string {
    // A reference stays a reference (references.ts).
    if (protectReferences(value)?.standIn === '') return value
    return this.redactor.redactText(value, this.entry, flag)
  }

  /** A component id: value patterns only, as for the ids the admin API reports. */
  id(kind: string, id: string): string {
    const key = `${kind}\u0000${id}`
    let out = this.ids.get(key)
    if (out === undefined) {
      out = this.redactor.redactText(id, this.entry, `${kind}.<id>`)
      this.ids.set(key, out)
    }
    return out
  }

  /** A whole config file (top-level tables). */
  document(doc: Record<string, unknown>): Record<string, unknown> {
    const rest: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(doc)) if (!isIdTable(k, v)) setOwn(rest, k, v)
    const redactedRest = Object.entries(this.value(rest) as Record<string, unknown>)
    let next = 0
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(doc)) {
      if (isIdTable(k, v)) {
        const table: Record<string, unknown> = {}
        for (const [id, body] of Object.entries(v)) setOwn(table, distinctKey(table, this.id(k, id)), this.value(body))
        setOwn(out, k, table)
      } else {
        const [rk, rv] = redactedRest[next++]!
        setOwn(out, rk, rv)
      }
    }
    return out
  }
}
