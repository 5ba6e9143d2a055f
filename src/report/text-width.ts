/**
 * Column arithmetic for terminal text: ANSI escapes take no columns, East
 * Asian wide characters and emoji take two. Strings from a bundle are
 * untrusted and are cleaned of control characters before they reach a
 * terminal (an escape sequence in a component id could rewrite the screen).
 */

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g
const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|[\u{1f300}-\u{1faff}\u{20000}-\u{3fffd}]/u

/** Replaces control characters (ESC, CR, BEL, …) with U+FFFD. */
export function clean(s: string): string {
  return s.replace(CONTROL, '\ufffd')
}

export function stripAnsi(s: string): string {
  return s.replace(ANSI, '')
}

export function charWidth(ch: string): number {
  return WIDE.test(ch) ? 2 : 1
}

/** Columns a string occupies on a terminal. */
export function visibleWidth(s: string): number {
  let w = 0
  for (const ch of stripAnsi(s)) w += charWidth(ch)
  return w
}

/** Cuts plain text to `width` columns, ending in `…` when cut. */
export function truncate(s: string, width: number): string {
  if (visibleWidth(s) <= width) return s
  let out = ''
  let w = 0
  for (const ch of s) {
    const cw = charWidth(ch)
    if (w + cw > width - 1) break
    out += ch
    w += cw
  }
  return out + '…'
}

/** Cuts plain text to `width` columns from the left, starting with `…` when cut (keeps a path's file name). */
export function truncateStart(s: string, width: number): string {
  if (visibleWidth(s) <= width) return s
  const chars = [...s]
  let out = ''
  let w = 0
  for (let i = chars.length - 1; i >= 0; i--) {
    const cw = charWidth(chars[i])
    if (w + cw > width - 1) break
    out = chars[i] + out
    w += cw
  }
  return '…' + out
}

/** Cuts a line that may contain ANSI colour to `width` columns, keeping escapes intact and resetting at the cut. */
export function truncateAnsi(line: string, width: number): string {
  if (visibleWidth(line) <= width) return line
  let out = ''
  let w = 0
  let i = 0
  let sawAnsi = false
  while (i < line.length) {
    if (line[i] === '\x1b') {
      const m = /^\x1b\[[0-9;]*m/.exec(line.slice(i))
      if (m) {
        out += m[0]
        i += m[0].length
        sawAnsi = true
        continue
      }
    }
    const ch = String.fromCodePoint(line.codePointAt(i)!)
    const cw = charWidth(ch)
    if (w + cw > width - 1) break
    out += ch
    w += cw
    i += ch.length
  }
  return out + '…' + (sawAnsi ? '\x1b[0m' : '')
}

export function padEnd(s: string, width: number): string {
  const w = visibleWidth(s)
  return w >= width ? s : s + ' '.repeat(width - w)
}

export function padStart(s: string, width: number): string {
  const w = visibleWidth(s)
  return w >= width ? s : ' '.repeat(width - w) + s
}

/** Word-wraps plain text to `width` columns; words longer than a line are split. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/).filter(Boolean)) {
    let w = word
    while (visibleWidth(w) > width) {
      if (line) {
        lines.push(line)
        line = ''
      }
      const head = truncate(w, width + 1).slice(0, -1)
      lines.push(head)
      w = w.slice(head.length)
    }
    if (!line) line = w
    else if (visibleWidth(line) + 1 + visibleWidth(w) <= width) line += ' ' + w
    else {
      lines.push(line)
      line = w
    }
  }
  if (line) lines.push(line)
  return lines
}
