/**
 * Redaction of everything textual that goes into a bundle: free text, JSON
 * documents, vdiag's own argv and span fields. Rules live in
 * redaction-rules.ts; this file compiles them once and applies them, and keeps
 * the audit (rule → count → where) that the manifest carries. The audit never
 * holds a redacted value, and field paths are built from already-redacted keys.
 */
import {createHmac, randomBytes} from 'node:crypto'
import type {RedactionAudit, RedactionHit} from './format.js'
import {
  CUE,
  FLAG_ARGUMENT,
  FLAG_PROSE_WORDS,
  FLAG_WITH_VALUE,
  isIdLikeTokens,
  isRedactedMarker,
  KEY_RULES,
  KEYED_ASSIGNMENT,
  KEYED_ASSIGNMENT_BEFORE,
  keyTokens,
  KNOWN_SECRET_RULE,
  MARKER_TAG,
  MIN_KNOWN_SECRET_LENGTH,
  REDACTION_RULES_VERSION,
  redactedMarker,
  referenceForm,
  TAG_HEX_LENGTH,
  VALUE_RULES,
  type MatchContext,
  type ValueRuleSpec,
} from './redaction-rules.js'

export {REDACTION_RULES_VERSION} from './redaction-rules.js'

export interface RedactorOptions {
  /** Default true. When false only known secrets (`extraSecrets`) are removed. */
  enabled?: boolean
  /** Exact values to remove wherever they appear (e.g. the admin token). */
  extraSecrets?: string[]
  /**
   * Key of the hash behind markers' tags. Default: random per Redactor, held
   * in memory only, so tags join within one bundle but cannot be checked
   * against guessed values or matched across bundles. Tests pin it.
   */
  tagKey?: string | Uint8Array
}

export interface RedactJsonOptions {
  /**
   * Where `value` sits in its file, for audit paths: `components` for a bare
   * map of component id → counters written under that field. A last segment
   * of `components` also makes the value's keys names (see NAME_MAP_FIELDS).
   */
  pathPrefix?: string
}

/**
 * Fields whose object value is a map keyed by names a person chose (component
 * ids): such keys get the value rules only. A key rule there would take a
 * component called `auth_logs` for an `auth` setting and redact its counters.
 */
export const NAME_MAP_FIELDS: ReadonlySet<string> = new Set(['components'])

/** The first line of a private key block, and a line that can be inside one: base64 (alone, or ending a prefixed log line), blank, or an RFC 1421 header (Proc-Type, DEK-Info). */
const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY( BLOCK)?-----/
const PEM_BODY_LINE = /^\s*[A-Za-z0-9+/=]*\s*$|^.*[\s:][A-Za-z0-9+/=]{16,}\s*$|^[A-Za-z][A-Za-z-]*: /

/** Per rule, the audit lists this many (file, field) places; the rest are counted in `where_more`. */
export const MAX_WHERE_PER_RULE = 50
/** Beyond this many distinct overflow places per rule they are no longer told apart (memory bound). */
const MAX_TRACKED_OVERFLOW = 10_000
/** Meta keys repeat across spans: their classification is cached, up to this many keys. */
const KEY_CACHE_LIMIT = 20_000
/** Short values found clean are remembered, up to this many (component ids and stage names repeat on every span). */
const CLEAN_CACHE_LIMIT = 20_000
const CLEAN_CACHE_MAX_LENGTH = 128
/** Short values that needed redaction are remembered with their result too (a secret in a component id is on every span). */
const DIRTY_CACHE_LIMIT = 5_000
/** Field paths in the audit are cut to this length. */
const MAX_FIELD_LENGTH = 200
/** JSON deeper than this is a bug in the caller (or a cycle), not data. */
const MAX_JSON_DEPTH = 256

interface KeyInfo {
  /** Name of the key rule the key matches, or null. */
  rule: string | null
  idLike: boolean
  /** The key itself passes the cue (it may hold a secret, e.g. a component id as a key). */
  cue: boolean
}

const SPAN_TEXT_FIELDS = ['service', 'name', 'resource', 'type'] as const

const NO_KEY_INFO: KeyInfo = {rule: null, idLike: false, cue: false}

interface CompiledKeyRule {
  name: string
  sequences: string[][]
}

interface Place {
  file: string
  field: string
  count: number
}

/** A remembered redaction: the result and the rules it hit, replayed into the audit on reuse. */
interface DirtyResult {
  out: string
  rules: string[]
}

interface RuleTally {
  count: number
  where: Map<string, Place>
  overflow: Set<string>
  overflowUntracked: number
}

export class Redactor {
  readonly enabled: boolean
  private readonly keyRules: CompiledKeyRule[]
  private readonly valueRules: readonly ValueRuleSpec[]
  private readonly secrets: string[]
  private readonly secretPattern: RegExp | null
  private readonly keyCache = new Map<string, KeyInfo>()
  private readonly cleanCache = new Set<string>()
  private readonly dirtyCache = new Map<string, DirtyResult>()
  private readonly tallies = new Map<string, RuleTally>()
  private readonly tagKey: string | Uint8Array
  /** Rules hit by the redactString call in progress (for dirtyCache), or null when not recording. */
  private recording: string[] | null = null

  constructor(opts: RedactorOptions = {}) {
    this.enabled = opts.enabled ?? true
    this.tagKey = opts.tagKey ?? randomBytes(32)
    this.keyRules = KEY_RULES.map((r) => ({name: r.name, sequences: r.keys.map((k) => k.split('_'))}))
    this.valueRules = VALUE_RULES
    const variants = new Set<string>()
    for (const s of opts.extraSecrets ?? []) {
      if (typeof s !== 'string' || s.length < MIN_KNOWN_SECRET_LENGTH) continue
      variants.add(s)
      // The same secret as it appears inside a URL or a form body.
      variants.add(encodeURIComponent(s))
    }
    this.secrets = [...variants].sort((a, b) => b.length - a.length)
    this.secretPattern =
      this.secrets.length > 0 ? new RegExp(this.secrets.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g') : null
  }

  // ---------- public API ----------

  /** Redact free text. `field` names where it came from (audit) and, when it is a sensitive key, redacts it whole. */
  redactText(text: string, file: string, field?: string): string {
    const where = field ?? '(text)'
    if (field !== undefined && this.enabled) {
      const info = this.keyInfo(field)
      if (info.rule !== null) return this.redactWhole(text, info.rule, file, where)
      return this.redactString(text, file, where, info.idLike)
    }
    return this.redactString(text, file, where, false)
  }

  /**
   * A redactor for the lines of one text file, given in order: each line as
   * `redactText`, and a private key block spread over lines (a PEM dump in a
   * log) goes from its BEGIN line through its END line, even though no
   * single body line looks like a key. Body lines come back empty, so line
   * numbers still match the original.
   */
  lineRedactor(file: string): (line: string) => string {
    let end: string | null = null
    return (line) => {
      if (end !== null) {
        const at = line.indexOf(end)
        if (at >= 0) {
          const rest = line.slice(at + end.length)
          end = null
          return rest === '' ? '' : this.redactText(rest, file)
        }
        if (PEM_BODY_LINE.test(line)) return ''
        // Not key material after all (a quoted BEGIN line, a cut-off dump): back to line by line.
        end = null
      }
      const out = this.redactText(line, file)
      const begin = this.enabled ? PEM_BEGIN.exec(line) : null
      if (begin) {
        const close = `-----END ${begin[1]}PRIVATE KEY${begin[2] ?? ''}-----`
        if (!line.includes(close, begin.index)) end = close
      }
      return out
    }
  }

  /**
   * A deep copy of a JSON value with sensitive keys and secret-looking values
   * replaced. Keys holding a secret are renamed (`s3_[REDACTED:aws-access-key-id#3f2a9c]`),
   * keys of name maps (NAME_MAP_FIELDS) get value rules only, arrays of
   * strings are also read as command lines (`["--password", "x"]`), and a
   * `__proto__` key stays an ordinary key.
   */
  redactJson<T>(value: T, file: string, options: RedactJsonOptions = {}): T {
    const prefix = options.pathPrefix ?? ''
    return this.walk(value, file, prefix, null, false, 0, NAME_MAP_FIELDS.has(lastSegment(prefix))) as T
  }

  /**
   * vdiag's own command line: `--token X`, `--token=X`, `KEY=VALUE`, and any
   * secret-looking value (URLs with credentials, bearer tokens, known secrets).
   * Audited as manifest.json command_line[i].
   */
  redactArgv(argv: string[]): string[] {
    const out: string[] = []
    let pendingRule: string | null = null
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!
      const field = `command_line[${i}]`
      if (pendingRule !== null) {
        const rule = pendingRule
        pendingRule = null
        if (!/^--?[A-Za-z]/.test(arg)) {
          out.push(this.redactWhole(arg, rule, 'manifest.json', field))
          continue
        }
      }
      const flag = FLAG_ARGUMENT.exec(arg)
      if (flag && this.enabled) {
        const rule = this.keyInfo(flag[2]!).rule
        if (rule !== null) {
          if (flag[3] === undefined) pendingRule = rule
          else {
            out.push(`${flag[1]}${flag[2]}=${this.redactWhole(flag[3], rule, 'manifest.json', field)}`)
            continue
          }
          out.push(this.redactString(arg, 'manifest.json', field, false))
          continue
        }
      }
      const env = /^([A-Za-z_][A-Za-z0-9_.-]*)=([\s\S]*)$/.exec(arg)
      if (env && this.enabled) {
        const rule = this.keyInfo(env[1]!).rule
        if (rule !== null) {
          out.push(`${env[1]}=${this.redactWhole(env[2]!, rule, 'manifest.json', field)}`)
          continue
        }
      }
      out.push(this.redactString(arg, 'manifest.json', field, false))
    }
    return out
  }

  /**
   * Redact a span in place. Hot path: one cue test per string when nothing
   * matches, and meta keys are classified once. Returns true if anything changed.
   */
  redactSpanFields(
    span: {service?: string; name?: string; resource?: string; type?: string; meta?: Record<string, string>},
    file: string,
  ): boolean {
    let changed = false
    for (const f of SPAN_TEXT_FIELDS) {
      const v = span[f]
      if (typeof v !== 'string' || !this.mayContainSecret(v)) continue
      const r = this.redactString(v, file, f, false)
      if (r !== v) {
        span[f] = r
        changed = true
      }
    }
    const meta = span.meta
    if (meta) {
      let renamed: [string, string, string][] | null = null
      for (const k in meta) {
        const v = meta[k]
        if (typeof v !== 'string') continue
        const info = this.enabled ? this.keyInfo(k) : NO_KEY_INFO
        // A secret can sit in the key itself; the audit path uses the redacted key.
        const key = info.cue || this.holdsKnownSecret(k) ? this.redactString(k, file, 'meta.<key>', false) : k
        let nv = v
        if (info.rule !== null) nv = this.redactWhole(v, info.rule, file, `meta.${key}`)
        else if (this.mayContainSecret(v)) nv = this.redactString(v, file, `meta.${key}`, info.idLike)
        if (key !== k) (renamed ??= []).push([k, key, nv])
        else if (nv !== v) meta[k] = nv
        if (key !== k || nv !== v) changed = true
      }
      if (renamed) {
        for (const [oldKey, newKey, value] of renamed) {
          delete meta[oldKey]
          meta[uniqueKey(meta, newKey)] = value
        }
      }
    }
    return changed
  }

  audit(): RedactionAudit {
    const rules: RedactionAudit['rules'] = [{name: KNOWN_SECRET_RULE.name, kind: 'value', description: KNOWN_SECRET_RULE.description}]
    if (this.enabled) {
      for (const r of KEY_RULES) rules.push({name: r.name, kind: 'key', description: r.description})
      for (const r of VALUE_RULES) rules.push({name: r.name, kind: 'value', description: r.description})
    }
    const hits: RedactionHit[] = []
    let total = 0
    for (const {name} of rules) {
      const t = this.tallies.get(name)
      if (!t) continue
      total += t.count
      const hit: RedactionHit = {rule: name, count: t.count, where: [...t.where.values()].map((p) => ({...p}))}
      const more = t.overflow.size + t.overflowUntracked
      if (more > 0) hit.where_more = more
      hits.push(hit)
    }
    return {enabled: this.enabled, rules_version: REDACTION_RULES_VERSION, rules, hits, total}
  }

  // ---------- internals ----------

  /** Cheap pre-check: can any rule match this string? Short values that passed are remembered (span values repeat). */
  private mayContainSecret(s: string): boolean {
    if (s.length <= CLEAN_CACHE_MAX_LENGTH && this.cleanCache.has(s)) return false
    const may = (this.enabled && CUE.test(s)) || this.holdsKnownSecret(s)
    if (!may && s.length <= CLEAN_CACHE_MAX_LENGTH) {
      if (this.cleanCache.size >= CLEAN_CACHE_LIMIT) this.cleanCache.clear()
      this.cleanCache.add(s)
    }
    return may
  }

  private holdsKnownSecret(s: string): boolean {
    for (const secret of this.secrets) if (s.includes(secret)) return true
    return false
  }

  private keyInfo(key: string): KeyInfo {
    const cached = this.keyCache.get(key)
    if (cached) return cached
    const tokens = keyTokens(key)
    const info: KeyInfo = {rule: this.matchKeyRule(tokens), idLike: isIdLikeTokens(tokens), cue: CUE.test(key)}
    if (this.keyCache.size >= KEY_CACHE_LIMIT) this.keyCache.clear()
    this.keyCache.set(key, info)
    return info
  }

  private matchKeyRule(tokens: string[]): string | null {
    for (const rule of this.keyRules) {
      for (const seq of rule.sequences) {
        for (let i = 0; i + seq.length <= tokens.length; i++) {
          let ok = true
          for (let j = 0; j < seq.length; j++) {
            if (tokens[i + j] !== seq[j]) {
              ok = false
              break
            }
          }
          if (ok) return rule.name
        }
      }
    }
    return null
  }

  /**
   * The whole value goes (it sits under a sensitive key). Empty values,
   * markers and references (`${VAR}`, `SECRET[b.k]`) stay; in a single
   * `${VAR:-default}` only the default is judged.
   */
  private redactWhole(value: string, rule: string, file: string, field: string): string {
    if (value === '' || isRedactedMarker(value)) return value
    const ref = referenceForm(value)
    if (ref === 'kept') return value
    if (ref !== null) return `${ref.head}${this.redactWhole(ref.fallback, rule, file, field)}${ref.tail}`
    this.hit(rule, file, field)
    return redactedMarker(rule)
  }

  /** The tag of a token-shaped secret: a keyed hash, so equal values get equal markers and nothing else can be read from it. */
  private tagOf(rule: string, value: string): string {
    return createHmac('sha256', this.tagKey).update(rule).update('\u0000').update(value).digest('hex').slice(0, TAG_HEX_LENGTH)
  }

  private redactString(text: string, file: string, field: string, idField: boolean): string {
    if (!this.mayContainSecret(text)) return text
    const cacheable = text.length <= CLEAN_CACHE_MAX_LENGTH
    const cacheKey = idField ? `\u0001${text}` : text
    if (cacheable) {
      const known = this.dirtyCache.get(cacheKey)
      if (known) {
        for (const rule of known.rules) this.hit(rule, file, field)
        return known.out
      }
    }
    const rules: string[] = []
    this.recording = rules
    let out: string
    try {
      out = this.applyRules(text, file, field, idField)
    } finally {
      this.recording = null
    }
    if (cacheable) {
      if (this.dirtyCache.size >= DIRTY_CACHE_LIMIT) this.dirtyCache.clear()
      this.dirtyCache.set(cacheKey, {out, rules})
    }
    return out
  }

  private applyRules(text: string, file: string, field: string, idField: boolean): string {
    let s = text
    if (this.secretPattern) {
      s = s.replace(this.secretPattern, () => {
        this.hit(KNOWN_SECRET_RULE.name, file, field)
        return redactedMarker(KNOWN_SECRET_RULE.name)
      })
    }
    if (!this.enabled) return s
    for (let i = 0; i < this.valueRules.length; i++) {
      if (i === KEYED_ASSIGNMENT_BEFORE) s = this.redactFlagValues(this.redactKeyedAssignments(s, file, field), file, field)
      const rule = this.valueRules[i]!
      if (rule.skipIdFields && idField) continue
      rule.pattern.lastIndex = 0
      if (!rule.pattern.test(s)) continue
      rule.pattern.lastIndex = 0
      const plain = redactedMarker(rule.name)
      s = s.replace(rule.pattern, (...args: unknown[]) => {
        const ctx = matchContext(args, idField)
        const marker = rule.tagged ? redactedMarker(rule.name, this.tagOf(rule.name, ctx.match)) : plain
        const out = rule.apply ? rule.apply(ctx, marker) : marker
        if (out === null) return ctx.match
        this.hit(rule.name, file, field)
        return out
      })
    }
    return s
  }

  private redactKeyedAssignments(s: string, file: string, field: string): string {
    // A fresh RegExp per call: the replacer recurses into values.
    return s.replace(new RegExp(KEYED_ASSIGNMENT), (...args: unknown[]) => {
      const {match, groups} = matchContext(args, false)
      const key = groups[0]!
      // groups[5] (an auth scheme word) stays in the kept prefix.
      const [, , escaped, dquoted, squoted, , bare] = groups
      const value = escaped ?? dquoted ?? squoted ?? bare ?? ''
      if (value === '' || value.startsWith('[REDACTED')) return match
      // Everything around the value (key, quotes, separator, auth scheme) is kept.
      const valueStart = match.lastIndexOf(value)
      const rule = this.keyInfo(key).rule
      if (rule === null) {
        // msg="{\"token\":\"x\"}": the value of a harmless key can hold assignments of its own.
        if (!CUE.test(value)) return match
        return match.slice(0, valueStart) + this.redactKeyedAssignments(value, file, field) + match.slice(valueStart + value.length)
      }
      return match.slice(0, valueStart) + this.redactWhole(value, rule, file, field) + match.slice(valueStart + value.length)
    })
  }

  /** `--password hunter2` in text: the word after a sensitive flag, unless it is a flag, a marker or a word of prose. */
  private redactFlagValues(s: string, file: string, field: string): string {
    if (!s.includes('-')) return s
    FLAG_WITH_VALUE.lastIndex = 0
    return s.replace(FLAG_WITH_VALUE, (...args: unknown[]) => {
      const {match, groups} = matchContext(args, false)
      const [name, dquoted, squoted, bare] = groups
      const value = dquoted ?? squoted ?? bare ?? ''
      if (value === '' || value.startsWith('-') || value.startsWith('[REDACTED') || (bare !== undefined && FLAG_PROSE_WORDS.has(value.toLowerCase()))) return match
      const rule = this.keyInfo(name!).rule
      if (rule === null) return match
      const valueStart = match.lastIndexOf(value)
      return match.slice(0, valueStart) + this.redactWhole(value, rule, file, field) + match.slice(valueStart + value.length)
    })
  }

  private walk(v: unknown, file: string, path: string, rule: string | null, idLike: boolean, depth: number, nameMap: boolean): unknown {
    if (depth > MAX_JSON_DEPTH) throw new Error(`redactJson: ${file} is nested deeper than ${MAX_JSON_DEPTH} levels`)
    if (typeof v === 'string') {
      if (rule !== null) return this.redactWhole(v, rule, file, path)
      return this.redactString(v, file, path || '(value)', idLike)
    }
    if (typeof v === 'number' || typeof v === 'bigint') {
      if (rule !== null) return this.redactWhole(String(v), rule, file, path)
      return v
    }
    if (v === null || typeof v !== 'object') return v
    if (Array.isArray(v)) return this.walkArray(v, file, path, rule, idLike, depth)
    const toJSON = (v as {toJSON?: () => unknown}).toJSON
    if (typeof toJSON === 'function') return this.walk(toJSON.call(v), file, path, rule, idLike, depth + 1, nameMap)
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x === undefined) continue
      const key = this.mayContainSecret(k) ? this.redactString(k, file, path ? `${path}.<key>` : '<key>', false) : k
      const info = nameMap || !this.enabled ? NO_KEY_INFO : this.keyInfo(k)
      const childNameMap = !nameMap && NAME_MAP_FIELDS.has(k) && x !== null && typeof x === 'object' && !Array.isArray(x)
      const child = this.walk(x, file, path ? `${path}.${key}` : key, rule ?? info.rule, info.idLike, depth + 1, childNameMap)
      // defineProperty: a `__proto__` key is data here, never the prototype.
      Object.defineProperty(out, uniqueKey(out, key), {value: child, enumerable: true, writable: true, configurable: true})
    }
    return out
  }

  /** Items one by one, and also as a command line: the item after a sensitive flag, or after `=` in `--flag=value`, goes whole. */
  private walkArray(v: unknown[], file: string, path: string, rule: string | null, idLike: boolean, depth: number): unknown[] {
    const itemPath = `${path}[]`
    const out: unknown[] = new Array<unknown>(v.length)
    let pending: string | null = null
    for (let i = 0; i < v.length; i++) {
      const x = v[i]
      const flagRule = pending
      pending = null
      if (flagRule !== null && (typeof x === 'number' || (typeof x === 'string' && !FLAG_ARGUMENT.test(x)))) {
        out[i] = this.redactWhole(String(x), flagRule, file, itemPath)
        continue
      }
      if (rule === null && this.enabled && typeof x === 'string' && x.charCodeAt(0) === 45 /* - */) {
        const flag = FLAG_ARGUMENT.exec(x)
        const r = flag ? this.keyInfo(flag[2]!).rule : null
        if (r !== null) {
          if (flag![3] === undefined) {
            pending = r
            out[i] = x
          } else {
            out[i] = `${flag![1]}${flag![2]}=${this.redactWhole(flag![3], r, file, itemPath)}`
          }
          continue
        }
      }
      out[i] = this.walk(x, file, itemPath, rule, idLike, depth + 1, false)
    }
    return out
  }

  private hit(rule: string, file: string, field: string): void {
    this.recording?.push(rule)
    // Audit paths name places: a tag (from a redacted key in the path) would make each value a place of its own.
    if (field.includes('#')) field = field.replace(MARKER_TAG, '$1]')
    let t = this.tallies.get(rule)
    if (!t) {
      t = {count: 0, where: new Map(), overflow: new Set(), overflowUntracked: 0}
      this.tallies.set(rule, t)
    }
    t.count++
    const f = field.length > MAX_FIELD_LENGTH ? `${field.slice(0, MAX_FIELD_LENGTH)}…` : field
    const id = `${file}\u0000${f}`
    const place = t.where.get(id)
    if (place) place.count++
    else if (t.where.size < MAX_WHERE_PER_RULE) t.where.set(id, {file, field: f, count: 1})
    else if (t.overflow.has(id)) return
    else if (t.overflow.size < MAX_TRACKED_OVERFLOW) t.overflow.add(id)
    else t.overflowUntracked++
  }
}

function matchContext(args: unknown[], idField: boolean): MatchContext {
  // String.replace passes (match, ...groups, offset, input) and no named groups here.
  const input = args[args.length - 1] as string
  const offset = args[args.length - 2] as number
  return {match: args[0] as string, groups: args.slice(1, -2) as (string | undefined)[], offset, input, idField}
}

function lastSegment(path: string): string {
  const dot = path.lastIndexOf('.')
  return dot < 0 ? path : path.slice(dot + 1)
}

/** Two keys can redact to the same text; keep both values. */
function uniqueKey(obj: Record<string, unknown>, key: string): string {
  if (!Object.prototype.hasOwnProperty.call(obj, key)) return key
  for (let n = 2; ; n++) {
    const k = `${key}#${n}`
    if (!Object.prototype.hasOwnProperty.call(obj, k)) return k
  }
}
