/**
 * The redaction rule set, as data. `Redactor` (redaction.ts) compiles these
 * once; the bundle's manifest records REDACTION_RULES_VERSION so a reader can
 * tell which rules a bundle was scrubbed with. Bump the version whenever a
 * rule is added, removed or made to match differently.
 */

export const REDACTION_RULES_VERSION = 2

/**
 * Hex digits of a marker's tag (see `redactedMarker`): 24 bits keep two
 * different secrets of one rule apart (a clash among 100 distinct values of
 * one rule has a 0.03 % chance) while saying nothing about either value.
 */
export const TAG_HEX_LENGTH = 6

/**
 * Replacement text for a value removed by `rule`. Token-shaped secrets (the
 * rules with `tagged`) carry a tag, `[REDACTED:aws-access-key-id#3f2a9c]`: a
 * keyed hash of the value, the same everywhere in one bundle, so a component
 * id holding a key still joins across files, and two different keys stay two.
 */
export function redactedMarker(rule: string, tag?: string): string {
  return tag === undefined ? `[REDACTED:${rule}]` : `[REDACTED:${rule}#${tag}]`
}

const MARKER = new RegExp(`^\\[REDACTED:[a-z0-9-]+(?:#[0-9a-f]{${TAG_HEX_LENGTH}})?\\]$`)
/** A marker's tag, for audit paths (which name places, not values). */
export const MARKER_TAG = new RegExp(`(\\[REDACTED:[a-z0-9-]+)#[0-9a-f]{${TAG_HEX_LENGTH}}\\]`, 'g')

/** True for a value that is already a marker, so it is never counted twice. */
export function isRedactedMarker(value: string): boolean {
  return value.startsWith('[REDACTED:') && MARKER.test(value)
}

// ---------- references ----------

// References say where a value comes from rather than what it is: `${VAR}`,
// `${VAR:-default}` (and `-`, `:?`, `?`), `$VAR` and `SECRET[backend.key]`, as
// Vector writes them (src/config/vars.rs, src/config/loading/secret.rs). A
// sensitive key holding only references keeps them visible: support needs to
// see that the password comes from `${DB_PASS}`, and the reference is not the
// password. A bare `$VAR` counts only with an upper-case name:
// `password=$ecretPa55` is far more likely a password starting with `$`.

/** References without a default (or with an empty one): nothing in them to judge. */
const BARE_REFERENCE = String.raw`\$\{[A-Za-z_][\w.]*(?::?[-?])?\}|\$[A-Z_][A-Z0-9_]*(?![\w.])|SECRET\[\w+\.[\w.]+\]`
const ONLY_REFERENCES = new RegExp(String.raw`^\s*(?:(?:${BARE_REFERENCE})\s*)+$`)
/** Exactly one `${VAR:-default}` (Vector allows any text but `}` in the default). */
const ONE_DEFAULTED = /^(\s*\$\{[A-Za-z_][\w.]*(?::?[-?]))([^}]+)(\}\s*)$/

/**
 * How a value under a sensitive key is made of references: `kept` (nothing
 * but references), a single `${VAR:-default}` whose default must be judged
 * (`head` + default + `tail`), or null (a literal: redact it whole).
 */
export function referenceForm(value: string): 'kept' | {head: string; fallback: string; tail: string} | null {
  if (!value.includes('$') && !value.includes('SECRET[')) return null
  if (ONLY_REFERENCES.test(value)) return 'kept'
  const one = ONE_DEFAULTED.exec(value)
  return one ? {head: one[1]!, fallback: one[2]!, tail: one[3]!} : null
}

// ---------- key rules ----------

/**
 * A key is sensitive when its token list (see `keyTokens`) contains one of
 * these token sequences, so `db.password`, `dbPassword`, `DB_PASSWORD` and
 * `http.request.headers.x-api-key` all match while `author` or `keyboard`
 * do not. The first matching rule names the redaction.
 */
export interface KeyRuleSpec {
  name: string
  description: string
  /** Keywords written snake_case; each is split into tokens on `_`. */
  keys: readonly string[]
}

export const KEY_RULES: readonly KeyRuleSpec[] = [
  {
    name: 'key-api-key',
    description: 'values under API/application key names (api_key, apikey, x-api-key, dd-api-key, app_key)',
    keys: ['api_key', 'apikey', 'app_key', 'appkey', 'application_key', 'api_token'],
  },
  {
    name: 'key-private-key',
    description: 'values under private/signing key names (private_key, ssh_key, signing_key)',
    keys: ['private_key', 'privatekey', 'ssh_key', 'signing_key', 'encryption_key'],
  },
  {
    name: 'key-access-key',
    description: 'values under access key names (access_key, AWS_SECRET_ACCESS_KEY, access_key_id)',
    keys: ['access_key', 'accesskey'],
  },
  {
    name: 'key-secret',
    description: 'values under secret names (secret, client_secret, secret_key)',
    keys: ['secret', 'secrets', 'secretkey', 'clientsecret'],
  },
  {
    name: 'key-password',
    description: 'values under password names (password, passwd, pwd, passphrase)',
    keys: ['password', 'passwords', 'passwd', 'pwd', 'passphrase'],
  },
  {
    name: 'key-token',
    description: 'values under token names (token, access_token, x-amz-security-token)',
    keys: ['token', 'authtoken', 'accesstoken', 'refreshtoken', 'idtoken'],
  },
  {
    name: 'key-authorization',
    description: 'values under authorization names (authorization, proxy-authorization, auth)',
    keys: ['authorization', 'auth'],
  },
  {
    name: 'key-cookie',
    description: 'values under cookie names (cookie, set-cookie)',
    keys: ['cookie', 'cookies'],
  },
  {
    name: 'key-credentials',
    description: 'values under credential names (credentials, credential, creds)',
    keys: ['credentials', 'credential', 'creds'],
  },
  {
    name: 'key-session',
    description: 'values under session names (session, session_id, jsessionid)',
    keys: ['session', 'sessionid', 'jsessionid', 'phpsessid'],
  },
  {
    name: 'key-signature',
    description: 'values under request-signing names (signature, sig, x-amz-signature)',
    keys: ['signature', 'sig'],
  },
]

/**
 * Split a key into lower-case tokens: `http.request.headers.X-Api-Key` →
 * [http, request, headers, x, api, key]; `dbPassword` → [db, password];
 * `APIKey` → [api, key]; `password2` → [password, 2].
 */
export function keyTokens(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .replace(/([A-Za-z])([0-9])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((t) => t !== '')
}

/**
 * Keys whose values are identifiers or digests: the Datadog-key hex rules
 * skip them, because a 32-hex trace id or a 40-hex commit looks exactly like
 * an API or application key.
 */
const ID_LAST_TOKENS = new Set([
  'id', 'ids', 'tid', 'uuid', 'guid', 'traceparent', 'tracestate', 'hash', 'sha', 'sha1', 'sha256', 'digest',
  'checksum', 'md5', 'commit', 'etag', 'fingerprint', 'revision', 'rev',
])
const ID_ANY_TOKENS = new Set(['trace', 'span', 'traceparent', 'commit', 'checksum', 'digest'])

/**
 * `id` alone, `component_id`, `sink_id` and kin hold names a person chose
 * (component ids), not generated ids: a Datadog key inside one must be
 * redacted, and the same way as where the id is an object key.
 */
const NAME_OWNER_TOKENS = new Set(['component', 'components', 'source', 'sources', 'transform', 'transforms', 'sink', 'sinks', 'input', 'inputs', 'output', 'outputs', 'pipeline'])

export function isIdLikeTokens(tokens: readonly string[]): boolean {
  if (tokens.length === 0) return false
  if (tokens.some((t) => ID_ANY_TOKENS.has(t))) return true
  const last = tokens[tokens.length - 1]!
  if (!ID_LAST_TOKENS.has(last)) return false
  if ((last === 'id' || last === 'ids') && (tokens.length === 1 || NAME_OWNER_TOKENS.has(tokens[tokens.length - 2]!))) return false
  return true
}

// ---------- value rules ----------

/** Context a value rule's `apply` gets for one match. */
export interface MatchContext {
  /** The match and its capture groups, as `String.replace` passes them. */
  match: string
  groups: (string | undefined)[]
  offset: number
  input: string
  /** The field being redacted holds an identifier (see `isIdLikeTokens`). */
  idField: boolean
}

export interface ValueRuleSpec {
  name: string
  description: string
  /** Must be global. */
  pattern: RegExp
  /**
   * The replacement, or null to keep the match. The default replaces the
   * whole match with the marker.
   */
  apply?: (ctx: MatchContext, marker: string) => string | null
  /** Not applied to identifier fields (trace/span ids, digests). */
  skipIdFields?: boolean
  /** The match is a self-contained token that can sit inside a name: its marker carries a tag (see `redactedMarker`). */
  tagged?: boolean
}

const HEX_HAS_DIGIT_AND_LETTER = (s: string) => /[0-9]/.test(s) && /[a-f]/.test(s)

/** Is the hex string at `offset` an id by its surroundings: a traceparent, or the value of an id-like key? */
function hexInIdContext(ctx: MatchContext): boolean {
  const before = ctx.input.slice(Math.max(0, ctx.offset - 96), ctx.offset)
  const after = ctx.input.slice(ctx.offset + ctx.match.length, ctx.offset + ctx.match.length + 24)
  if (/(?:^|[^0-9a-f])[0-9a-f]{2}-$/i.test(before) && /^-[0-9a-f]{16}-[0-9a-f]{2}/i.test(after)) return true
  const keyed = /([A-Za-z_][\w.\-]*)\\?["']?\s*[:=]\s*\\?["']?$/.exec(before)
  return keyed !== null && isIdLikeTokens(keyTokens(keyed[1]!))
}

function ddHexKey(ctx: MatchContext, marker: string): string | null {
  if (!HEX_HAS_DIGIT_AND_LETTER(ctx.match) || hexInIdContext(ctx)) return null
  return marker
}

export const VALUE_RULES: readonly ValueRuleSpec[] = [
  {
    name: 'pem-private-key',
    description: 'PEM/PGP private key blocks (also a block cut off before its END line)',
    pattern: /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY( BLOCK)?-----[\s\S]*?(?:-----END \1PRIVATE KEY\2-----|$)/g,
  },
  {
    name: 'jwt',
    description: 'JSON Web Tokens (eyJ….eyJ….sig)',
    // Only a letter or digit before it rules a match out: `sink_eyJ…` is a JWT inside a component id.
    pattern: /(?<![A-Za-z0-9])eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g,
    tagged: true,
  },
  {
    name: 'url-credentials',
    description: 'user:password@ in URLs; scheme, host and path are kept',
    pattern: /([a-z][a-z0-9+.-]{1,31}:\/\/)([^\s/?#@"'<>[\]]+)@/gi,
    apply: (ctx, marker) => `${ctx.groups[0]}${marker}@`,
  },
  {
    name: 'bearer-token',
    description: 'Bearer tokens (Authorization: Bearer …)',
    pattern: /\b(Bearer)\s+([A-Za-z0-9\-._~+/]{8,}=*)/gi,
    apply: (ctx, marker) => `${ctx.groups[0]} ${marker}`,
  },
  {
    name: 'basic-auth',
    description: 'HTTP Basic credentials (base64 of user:password)',
    pattern: /\b(Basic)\s+([A-Za-z0-9+/]{6,}={0,2})(?![A-Za-z0-9+/=])/gi,
    apply: (ctx, marker) => (Buffer.from(ctx.groups[1]!, 'base64').toString('latin1').includes(':') ? `${ctx.groups[0]} ${marker}` : null),
  },
  {
    name: 'aws-access-key-id',
    description: 'AWS access key ids (AKIA…, ASIA…)',
    pattern: /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Z0-9])/g,
    tagged: true,
  },
  {
    name: 'github-token',
    description: 'GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_)',
    pattern: /(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9])/g,
    tagged: true,
  },
  {
    name: 'slack-token',
    description: 'Slack tokens (xoxb-, xoxp-, …) and incoming-webhook URLs',
    pattern: /(?<![A-Za-z0-9])xox[abprse]-[A-Za-z0-9-]{10,}|hooks\.slack\.com\/services\/[A-Za-z0-9/_-]+/g,
    tagged: true,
  },
  {
    name: 'vendor-token',
    description: 'other prefixed vendor keys (Stripe sk_live_/rk_live_, Google AIza…, npm_, GitLab glpat-)',
    pattern: /(?<![A-Za-z0-9])(?:[sr]k_live_[A-Za-z0-9]{16,}|AIza[0-9A-Za-z_-]{35}|npm_[A-Za-z0-9]{36}|glpat-[A-Za-z0-9_-]{20,})(?![A-Za-z0-9])/g,
    tagged: true,
  },
  // `keyed-assignment` (key=value, key: value, "key": "value" in free text)
  // is applied here by the Redactor, because its rule name comes from KEY_RULES.
  {
    name: 'datadog-app-key',
    description: 'Datadog application keys (40 lower-case hex); not in id/digest fields',
    pattern: /(?<![0-9A-Za-z])[0-9a-f]{40}(?![0-9A-Za-z])/g,
    apply: ddHexKey,
    skipIdFields: true,
    tagged: true,
  },
  {
    name: 'datadog-api-key',
    description: 'Datadog API keys (32 lower-case hex); not in id/digest fields, not inside a traceparent',
    pattern: /(?<![0-9A-Za-z])[0-9a-f]{32}(?![0-9A-Za-z])/g,
    apply: ddHexKey,
    skipIdFields: true,
    tagged: true,
  },
]

/** Index in VALUE_RULES before which keyed assignments in text are handled. */
export const KEYED_ASSIGNMENT_BEFORE = VALUE_RULES.findIndex((r) => r.name === 'datadog-app-key')

/** A bare (unquoted) value in text: a `${VAR...}` or `SECRET[...]` reference whole, else up to a delimiter. */
const BARE_VALUE = String.raw`(?:\$\{[A-Za-z_][\w.]*(?::?[-?][^}\n"'\\]*)?\}|SECRET\[\w+\.[\w.]+\]|[^\s"'&;,<>)}\]])+`

/**
 * `key=value`, `key: value`, `"key": "value"` (also JSON escaped inside a
 * string), `--key=value`, VRL's `.key = "value"`, query strings and connection strings. Groups: 1 key,
 * 2 separator, 3 \"escaped\" value, 4 "double" value, 5 'single' value,
 * 6 scheme word, 7 bare value. Whether the key is sensitive is decided with
 * KEY_RULES.
 */
export const KEYED_ASSIGNMENT = new RegExp(
  String.raw`(?<![\w.-])(?:--?|\.)?\\?["']?([A-Za-z_][\w.-]{0,127})(\\?["']?\s*[:=]\s*)(?:\\"((?:[^"\\\n]|\\[^"])*?)\\"|"((?:[^"\\\n]|\\.)*)"|'([^'\n]*)'|(?:((?:Bearer|Basic|Token|Digest)\s+)?(${BARE_VALUE})))`,
  'g',
)

/**
 * `--flag value` in text (a command line in a log line): groups 1 flag name,
 * 2 "double", 3 'single', 4 bare value. Only a sensitive flag name counts, and
 * only a value that is not itself a flag (checked by the Redactor).
 */
export const FLAG_WITH_VALUE = new RegExp(
  String.raw`(?<![\w.-])--?([A-Za-z][\w.-]{0,127})[ \t]+(?:"([^"\n]*)"|'([^'\n]*)'|(${BARE_VALUE}))`,
  'g',
)

/**
 * Words that follow a flag's name in prose ("pass it with --token or the
 * VDIAG_API_TOKEN variable") rather than being its value. Only these stay:
 * every other word after a sensitive flag is taken for its value.
 */
export const FLAG_PROSE_WORDS: ReadonlySet<string> = new Set([
  'a', 'an', 'and', 'as', 'at', 'by', 'can', 'flag', 'for', 'from', 'if', 'in', 'instead', 'is', 'must', 'not', 'of',
  'on', 'option', 'or', 'the', 'to', 'was', 'when', 'with',
])

/** `--name`, `-n` or `--name=value`: one argument of a command line (argv, or an array of strings in JSON). */
export const FLAG_ARGUMENT = /^(--?)([A-Za-z][\w.-]*)(?:=([\s\S]*))?$/

export const KNOWN_SECRET_RULE = {
  name: 'known-secret',
  description: 'exact values vdiag knows are secret (e.g. the admin API token given with --token); removed even with redaction off',
} as const

/** Shorter known secrets are ignored: removing every "ab" would wreck the bundle for no protection. */
export const MIN_KNOWN_SECRET_LENGTH = 4

/**
 * One cheap test that every value rule and every keyed assignment needs to
 * pass first (case-insensitive superset of their triggers), so the per-span
 * path costs one regex test per string when nothing is secret.
 */
export const CUE =
  /:\/\/[^/\s]*@|bearer|basic\s|eyJ|PRIVATE KEY|A(?:KIA|SIA|BIA|CCA|GPA|IDA|IPA|NPA|NVA|ROA|PKA|SCA|3T)|gh[pousr]_|github_pat_|xox[abprse]-|hooks\.slack|k_live_|AIza|npm_|glpat-|[0-9a-f]{32}|pass|pwd|secret|token|auth|cookie|cred|key|session|sid|sig/i
