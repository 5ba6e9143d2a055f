/**
 * Vector's placeholders inside config strings: environment references
 * (`$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`,
 * `${VAR?message}`; `$$` is an escaped dollar) and secret-backend references
 * (`SECRET[backend.key]`). They say where a value comes from, not what it is,
 * and support needs to see them, but the Redactor would replace them whole
 * under a key such as `api_key`. So each string that holds one is swapped for a
 * stand-in before redaction and rebuilt from the redacted stand-in after:
 *
 * - only references (and blanks): the stand-in is `''`, which no rule touches,
 *   and the original comes back verbatim;
 * - one reference with a default or message and nothing else: the stand-in is
 *   that default, judged exactly as a literal value in that place would be
 *   (`${DB_PASS:-[REDACTED:key-password]}`);
 * - anything else: references become private-use placeholders inside the
 *   text, the text is redacted as usual (a sensitive key still redacts it
 *   whole), and the placeholders that survive are turned back.
 */

/** Vector's grammar: src/config/vars.rs (names are ASCII word characters and `.`) and src/config/loading/secret.rs. */
const REFERENCE = /\$\$|\$\{([\w.]+)(?:(:?-|:?\?)([^}]*))?\}|\$([\w.]+)|SECRET\[\w+\.[\w.]+\]/g

/** Placeholder delimiters, from the Unicode private-use area: no rule matches them and configs do not hold them. */
const REF_OPEN = '\uE000'
const REF_CLOSE = '\uE001'
const PAYLOAD_OPEN = '\uE002'
const PAYLOAD_OPEN_END = '\uE003'
const PAYLOAD_CLOSE = '\uE004'
const PAYLOAD_CLOSE_END = '\uE005'
const PLACEHOLDER_CHARS = /[\uE000-\uE005]/
const PLACEHOLDER = /\uE000(\d+)\uE001|\uE002(\d+)\uE003|\uE004(\d+)\uE005/g
const LEFTOVER = /[\uE000-\uE005]/g

interface Reference {
  /** The whole reference as written. */
  text: string
  /** For `${VAR:-default}` and kin: everything up to the default, the default, and the closing brace. */
  head?: string
  payload?: string
}

type Segment = {literal: string} | {ref: Reference}

export interface ProtectedString {
  /** What the Redactor sees in place of the string. */
  standIn: string
  /** The final string, from what the Redactor made of the stand-in. */
  restore(redacted: string): string
}

function split(s: string): Segment[] | null {
  const out: Segment[] = []
  let last = 0
  let refs = 0
  REFERENCE.lastIndex = 0
  for (let m = REFERENCE.exec(s); m !== null; m = REFERENCE.exec(s)) {
    if (m[0] === '$$') continue
    if (m.index > last) out.push({literal: s.slice(last, m.index)})
    const ref: Reference = {text: m[0]}
    if (m[3] !== undefined && m[3] !== '') {
      ref.head = `\${${m[1]}${m[2]}`
      ref.payload = m[3]
    }
    out.push({ref})
    refs++
    last = m.index + m[0].length
  }
  if (refs === 0) return null
  if (last < s.length) out.push({literal: s.slice(last)})
  return out
}

/** null when the string holds no reference (redact it as it is). */
export function protectReferences(s: string): ProtectedString | null {
  if (!s.includes('$') && !s.includes('SECRET[')) return null
  // A string that already holds our placeholder characters is left to plain redaction (safe, if less readable).
  if (PLACEHOLDER_CHARS.test(s)) return null
  const segments = split(s)
  if (segments === null) return null

  const hasText = segments.some((g) => 'literal' in g && g.literal.trim() !== '')
  const withPayload = segments.filter((g): g is {ref: Reference} => 'ref' in g && g.ref.payload !== undefined)

  if (!hasText && withPayload.length === 0) return {standIn: '', restore: () => s}

  if (!hasText && withPayload.length === 1) {
    const only = withPayload[0]!.ref
    return {
      standIn: only.payload!,
      restore: (redacted) => segments.map((g) => ('literal' in g ? g.literal : g.ref === only ? `${only.head}${redacted}}` : g.ref.text)).join(''),
    }
  }

  const refs: Reference[] = []
  const standIn = segments
    .map((g) => {
      if ('literal' in g) return g.literal
      const i = refs.push(g.ref) - 1
      if (g.ref.payload === undefined) return `${REF_OPEN}${i}${REF_CLOSE}`
      return `${PAYLOAD_OPEN}${i}${PAYLOAD_OPEN_END}${g.ref.payload}${PAYLOAD_CLOSE}${i}${PAYLOAD_CLOSE_END}`
    })
    .join('')
  return {standIn, restore: (redacted) => restorePlaceholders(redacted, refs)}
}

function restorePlaceholders(redacted: string, refs: Reference[]): string {
  // A default's opening and closing marks only come back as a pair: when a
  // rule swallowed one of them the other is dropped rather than left unbalanced.
  const opens = new Set<number>()
  const closes = new Set<number>()
  PLACEHOLDER.lastIndex = 0
  for (let m = PLACEHOLDER.exec(redacted); m !== null; m = PLACEHOLDER.exec(redacted)) {
    if (m[2] !== undefined) opens.add(Number(m[2]))
    if (m[3] !== undefined) closes.add(Number(m[3]))
  }
  return redacted
    .replace(PLACEHOLDER, (_m, whole: string | undefined, open: string | undefined, close: string | undefined) => {
      if (whole !== undefined) return refs[Number(whole)]?.text ?? ''
      const i = Number(open ?? close)
      const ref = refs[i]
      if (!ref || !opens.has(i) || !closes.has(i)) return ''
      return open !== undefined ? ref.head! : '}'
    })
    .replace(LEFTOVER, '')
}
