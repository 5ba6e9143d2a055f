/**
 * Recognising a log line's own timestamp, for keeping the lines of the
 * capture window. Covers what Vector and its hosts write: Vector's text logs
 * (`2024-05-01T12:00:00.123456Z  INFO vector::...`, possibly coloured), its
 * JSON logs (`{"timestamp":"2024-...`), journalctl short-iso
 * (`2024-05-01T12:00:00+0000 host vector[1]: ...`) and bracketed or
 * space-separated ISO-8601 variants. Syslog's year-less `May  1 12:00:00` is
 * not recognised: its year would be a guess.
 */

/** A line's own timestamp sits near its start; further in, a date is part of the message. */
const STAMP_SEARCH_CHARS = 64
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g
const ISO = /(?<!\d)(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)?(?!\d)/

/** Epoch ms of the line's timestamp, or null. A time without a zone is taken as local time. */
export function lineTimestamp(line: string): number | null {
  // Room for colour codes before the stamp and for the stamp itself.
  let head = line.slice(0, STAMP_SEARCH_CHARS * 2)
  if (head.includes('\x1b')) head = head.replace(ANSI, '')
  const m = ISO.exec(head)
  if (!m || m.index > STAMP_SEARCH_CHARS) return null
  const [, y, mo, d, h, mi, s, frac, zone] = m
  const ms = (frac ?? '').padEnd(3, '0').slice(0, 3)
  let z = ''
  if (zone === 'Z') z = 'Z'
  else if (zone !== undefined) {
    const digits = zone.slice(1).replace(':', '').padEnd(4, '0')
    z = `${zone[0]}${digits.slice(0, 2)}:${digits.slice(2, 4)}`
  }
  const t = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}${z}`)
  return Number.isFinite(t) ? t : null
}
