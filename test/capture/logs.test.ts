import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {after, describe, test} from 'node:test'
import {collectLogs} from '../../src/capture/logs.js'
import {findJournalctl, journalArgs, newestFirstToTimeOrder} from '../../src/capture/logs/journal.js'
import {lineTimestamp} from '../../src/capture/logs/timestamps.js'
import {Redactor} from '../../src/bundle/redaction.js'

const work = mkdtempSync(path.join(os.tmpdir(), 'vdiag-logs-test-'))
after(() => rmSync(work, {recursive: true, force: true}))

const KiB = 1024
const WINDOW_START = Date.parse('2025-03-04T10:00:00Z')
const WINDOW_END = Date.parse('2025-03-04T10:01:00Z')
const since = new Date(WINDOW_START)
const until = new Date(WINDOW_END)

function vectorLine(t: number, msg: string): string {
  return `${new Date(t).toISOString().replace('Z', '123Z')}  INFO vector::topology::builder: ${msg}`
}

describe('collectLogs: files', {timeout: 60_000}, () => {
  test('a large file: only its end is read, cut at a line boundary', async () => {
    // ~6 MiB of stamped lines spread over the window, the last line marked.
    const file = path.join(work, 'big.log')
    const fd = openSync(file, 'w')
    const total = 60_000
    let last = ''
    try {
      for (let i = 0; i < total; i++) {
        last = vectorLine(WINDOW_START + Math.floor((i * 59_000) / total), `event ${String(i).padStart(6, '0')} ${'x'.repeat(60)}`)
        writeSync(fd, `${last}\n`)
      }
    } finally {
      closeSync(fd)
    }
    const maxBytes = 64 * KiB
    const redactor = new Redactor()
    const {collection, documents} = await collectLogs([file], {since, until, maxBytes, redactor})
    const rec = collection.sources[0]!
    assert.equal(rec.status, 'ok')
    assert.equal(rec.kind, 'file')
    assert.equal(rec.selection, 'window')
    assert.equal(rec.truncated, true)
    assert.equal(rec.bytes_read, maxBytes)
    assert.equal(rec.entry, 'logs/01-big.log')
    const text = documents[0]!.text
    assert.ok(Buffer.byteLength(text) <= maxBytes)
    const lines = text.split('\n').filter(Boolean)
    assert.equal(lines.length, rec.lines)
    // Whole lines only, the file's very last line last, and consecutive events (nothing skipped inside the tail).
    for (const l of lines) assert.match(l, /^2025-03-04T10:00:\d\d\.\d{6}Z {2}INFO vector::topology::builder: event \d{6} x{60}$/)
    assert.equal(lines.at(-1), last)
    const seq = lines.map((l) => Number(/event (\d{6})/.exec(l)![1]))
    assert.equal(seq.at(-1), total - 1)
    assert.deepEqual(seq, seq.map((_, i) => seq[0]! + i))
    assert.ok(seq[0]! > total - 1000, 'the tail starts near the end')
    assert.equal(rec.last_timestamp, new Date(lineTimestamp(last)!).toISOString())
  })

  test('timestamped lines: the window is kept, with the lines that continue it', async () => {
    const file = path.join(work, 'window.log')
    const before = WINDOW_START - 3_600_000
    writeFileSync(
      file,
      [
        vectorLine(before, 'starting vector'),
        vectorLine(before + 1, 'old multi-line error:'),
        '  at old frame 1',
        vectorLine(WINDOW_START + 5_000, 'sink http_out: request failed, retrying'),
        '  caused by: connection reset',
        '  at frame 2',
        `{"timestamp":"2025-03-04T10:00:30.5Z","level":"WARN","message":"buffer full"}`,
        '\x1b[2m2025-03-04T10:00:40.000001Z\x1b[0m \x1b[33m WARN\x1b[0m coloured line',
        vectorLine(WINDOW_END + 120_000, 'after the window'),
        '  continuation after the window',
      ].join('\n') + '\n',
    )
    const {collection, documents} = await collectLogs([file], {since, until, maxBytes: 1024 * KiB, redactor: new Redactor()})
    const rec = collection.sources[0]!
    assert.equal(rec.selection, 'window')
    assert.equal(rec.truncated, false)
    assert.equal(rec.first_timestamp, new Date(before).toISOString())
    const lines = documents[0]!.text.trimEnd().split('\n')
    assert.equal(lines.length, 5, lines.join('\n'))
    assert.match(lines[0]!, /request failed, retrying$/)
    assert.equal(lines[1], '  caused by: connection reset')
    assert.equal(lines[2], '  at frame 2')
    assert.match(lines[3]!, /"buffer full"/)
    assert.match(lines[4]!, /coloured line$/)
  })

  test('lines without timestamps: the tail is kept as it is', async () => {
    const file = path.join(work, 'plain.log')
    writeFileSync(file, 'first line\nsecond line\nthird line without newline')
    const {collection, documents} = await collectLogs([file], {since, until, maxBytes: 1024, redactor: new Redactor()})
    assert.equal(collection.sources[0]!.selection, 'tail')
    assert.equal(documents[0]!.text, 'first line\nsecond line\nthird line without newline\n')

    // Cut in the middle of a line: the fragment is dropped.
    const long = path.join(work, 'plain-long.log')
    writeFileSync(long, Array.from({length: 500}, (_, i) => `plain line ${String(i).padStart(4, '0')} ${'y'.repeat(30)}`).join('\n') + '\n')
    const cut = await collectLogs([long], {since, until, maxBytes: 1000, redactor: new Redactor()})
    assert.equal(cut.collection.sources[0]!.truncated, true)
    const lines = cut.documents[0]!.text.trimEnd().split('\n')
    for (const l of lines) assert.match(l, /^plain line \d{4} y{30}$/)
    assert.equal(lines.at(-1), `plain line 0499 ${'y'.repeat(30)}`)
  })

  test('secrets in log lines are redacted and audited; a missing file is recorded, the rest collected', async () => {
    const file = path.join(work, 'secrets.log')
    const secrets = ['Pg-Sup3r-S3cret', 'vF9dft4qmTc2Nvb3RlckBleGFtcGxlLmNvbQ', 'hunter2-in-log', 'AKIAIOSFODNN7EXAMPLE']
    writeFileSync(
      file,
      [
        vectorLine(WINDOW_START + 1_000, `connecting to postgres://app:${secrets[0]}@db.internal:5432/app`),
        vectorLine(WINDOW_START + 2_000, `> Authorization: Bearer ${secrets[1]}`),
        vectorLine(WINDOW_START + 3_000, `config reloaded password=${secrets[2]} user=vector`),
        vectorLine(WINDOW_START + 4_000, `using ${secrets[3]} for s3`),
      ].join('\n') + '\n',
    )
    const missing = path.join(work, 'nope', 'vector.log')
    const redactor = new Redactor()
    const {collection, documents} = await collectLogs([missing, file], {since, until, maxBytes: 1024 * KiB, redactor})
    const [miss, ok] = collection.sources
    assert.equal(miss!.status, 'failed')
    assert.match(miss!.error!, /no such file/)
    assert.equal(miss!.entry, null)
    assert.equal(ok!.status, 'ok')
    assert.equal(ok!.lines, 4)
    assert.equal(ok!.entry, 'logs/01-secrets.log')
    const all = JSON.stringify(collection) + documents.map((d) => d.text).join('')
    for (const s of secrets) assert.ok(!all.includes(s), `${s} leaked`)
    assert.ok(documents[0]!.text.includes('user=vector'))
    const hits = redactor.audit().hits
    for (const rule of ['url-credentials', 'bearer-token', 'key-password', 'aws-access-key-id']) {
      const h = hits.find((x) => x.rule === rule)
      assert.ok(h, `${rule} did not fire`)
      assert.equal(h.where[0]!.file, 'logs/01-secrets.log')
    }
  })

  test('an empty file, a folder, a binary file and a FIFO are recorded without an entry', async () => {
    const empty = path.join(work, 'empty.log')
    writeFileSync(empty, '')
    const binary = path.join(work, 'rotated.log.gz')
    writeFileSync(binary, Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0]))
    // A named pipe must be refused, not waited on.
    const fifo = path.join(work, 'pipe.log')
    execFileSync('mkfifo', [fifo])
    const {collection, documents} = await collectLogs([empty, work, binary, fifo], {since, until, maxBytes: 4096, redactor: new Redactor()})
    assert.deepEqual(
      collection.sources.map((s) => [s.status, s.entry]),
      [
        ['ok', null],
        ['failed', null],
        ['failed', null],
        ['failed', null],
      ],
    )
    assert.match(collection.sources[3]!.error!, /not a regular file/)
    assert.match(collection.sources[0]!.note!, /empty/)
    assert.match(collection.sources[1]!.error!, /not a regular file/)
    assert.match(collection.sources[2]!.error!, /binary/)
    assert.deepEqual(documents, [])
  })
})

describe('collectLogs: journal', {timeout: 60_000}, () => {
  test('journal: is skipped with a reason when journalctl is absent', async () => {
    const {collection, documents} = await collectLogs(['journal:vector.service'], {since, until, maxBytes: 4096, redactor: new Redactor(), journalctl: null})
    const rec = collection.sources[0]!
    assert.equal(rec.kind, 'journal')
    assert.equal(rec.status, 'skipped')
    assert.match(rec.error!, /journalctl is not installed/)
    assert.deepEqual(documents, [])
  })

  test('an invalid unit never reaches journalctl', async () => {
    const {collection} = await collectLogs(['journal:--since=yesterday', 'journal:'], {since, until, maxBytes: 4096, redactor: new Redactor(), journalctl: '/nonexistent/journalctl'})
    assert.deepEqual(collection.sources.map((s) => s.status), ['failed', 'failed'])
    assert.match(collection.sources[0]!.error!, /not a systemd unit name/)
  })

  test('the real journalctl, when this host has one, answers within the timeout', async (t) => {
    const real = await findJournalctl()
    if (real === null) {
      t.skip('journalctl not installed')
      return
    }
    const {collection} = await collectLogs(['journal:vdiag-test-nonexistent.service'], {since, until, maxBytes: 64 * KiB, redactor: new Redactor(), journalTimeoutMs: 20_000})
    const rec = collection.sources[0]!
    assert.equal(rec.status, 'ok', JSON.stringify(rec))
    assert.equal(rec.selection, 'journal')
    assert.equal(rec.lines, 0)
    assert.equal(rec.entry, null)
    assert.match(rec.note!, /no journal entries/)
  })

  /** A stand-in for journalctl that prints what a real one prints with `-r` and records its argv. */
  function fakeJournalctl(name: string, body: string): {bin: string; argsFile: string} {
    const dir = path.join(work, name)
    mkdirSync(dir, {recursive: true})
    const argsFile = path.join(dir, 'args.txt')
    const bin = path.join(dir, 'journalctl')
    writeFileSync(bin, `#!/bin/sh\nprintf '%s\\n' "$@" > '${argsFile}'\n${body}\n`)
    chmodSync(bin, 0o755)
    return {bin, argsFile}
  }

  const NEWEST_FIRST = [
    '2025-03-04T10:00:50+0000 host vector[42]: 2025-03-04T10:00:50.000Z ERROR sink{component_id=es}: request failed password=journal-hunter2',
    '2025-03-04T10:00:30+0000 host vector[42]: multi-line panic:',
    '                                           at frame one',
    '                                           at frame two',
    '-- Boot 0123456789abcdef --',
    '2025-03-04T10:00:10+0000 host vector[42]: started',
  ]

  test('newest-first output is put back in time order, multi-line entries kept whole, lines redacted', async () => {
    const {bin, argsFile} = fakeJournalctl('fake-ok', `cat <<'EOF'\n${NEWEST_FIRST.join('\n')}\nEOF\necho 'Hint: you are not seeing all messages' >&2`)
    const redactor = new Redactor()
    const {collection, documents} = await collectLogs(['journal:vector.service'], {since, until, maxBytes: 64 * KiB, redactor, journalctl: bin})
    const rec = collection.sources[0]!
    assert.equal(rec.status, 'ok', JSON.stringify(rec))
    assert.equal(rec.entry, 'logs/01-journal-vector.service.log')
    assert.deepEqual(readFileSync(argsFile, 'utf8').trim().split('\n'), journalArgs('vector.service', since, until))
    assert.deepEqual(journalArgs('vector.service', since, until).slice(0, 6), ['-u', 'vector.service', '--since', `@${WINDOW_START / 1000}`, '--until', `@${WINDOW_END / 1000}`])
    const lines = documents[0]!.text.trimEnd().split('\n')
    assert.deepEqual(lines.map((l) => l.slice(0, 40)), [
      '2025-03-04T10:00:10+0000 host vector[42]',
      '-- Boot 0123456789abcdef --',
      '2025-03-04T10:00:30+0000 host vector[42]',
      '                                        ',
      '                                        ',
      '2025-03-04T10:00:50+0000 host vector[42]',
    ])
    assert.ok(lines[3]!.endsWith('at frame one') && lines[4]!.endsWith('at frame two'))
    assert.ok(!documents[0]!.text.includes('journal-hunter2'))
    assert.equal(rec.first_timestamp, '2025-03-04T10:00:10.000Z')
    assert.equal(rec.last_timestamp, '2025-03-04T10:00:50.000Z')
    assert.match(rec.note!, /Hint: you are not seeing all messages/)
  })

  test('output beyond maxBytes: the newest entries are kept and journalctl is stopped', async () => {
    // An endless newest-first stream: only the cap can end it.
    const {bin} = fakeJournalctl('fake-endless', `i=0\nwhile :; do i=$((i+1)); echo "2025-03-04T10:00:59+0000 host vector[42]: line $i"; done`)
    const {collection, documents} = await collectLogs(['journal:vector.service'], {since, until, maxBytes: 8 * KiB, redactor: new Redactor(), journalctl: bin, journalTimeoutMs: 30_000})
    const rec = collection.sources[0]!
    assert.equal(rec.status, 'ok', JSON.stringify(rec))
    assert.equal(rec.truncated, true)
    const lines = documents[0]!.text.trimEnd().split('\n')
    assert.ok(Buffer.byteLength(documents[0]!.text) <= 8 * KiB)
    // Time order: the first line printed (newest, "line 1") comes last.
    assert.match(lines.at(-1)!, / line 1$/)
    const nums = lines.map((l) => Number(/line (\d+)$/.exec(l)![1]))
    assert.deepEqual(nums, nums.map((_, i) => nums.length - i))
  })

  test('a journalctl that hangs is killed at the timeout and recorded', async () => {
    const {bin} = fakeJournalctl('fake-hang', `echo "2025-03-04T10:00:59+0000 host vector[42]: newest"\nexec sleep 30`)
    const {collection} = await collectLogs(['journal:vector.service'], {since, until, maxBytes: 8 * KiB, redactor: new Redactor(), journalctl: bin, journalTimeoutMs: 500})
    const rec = collection.sources[0]!
    assert.equal(rec.status, 'timeout')
    assert.match(rec.error!, /did not finish within 500 ms/)
  })

  test('a failing journalctl is recorded with its message', async () => {
    const {bin} = fakeJournalctl('fake-fail', `echo 'Failed to add filter for units: No data available' >&2\nexit 1`)
    const {collection} = await collectLogs(['journal:vector.service'], {since, until, maxBytes: 8 * KiB, redactor: new Redactor(), journalctl: bin})
    assert.equal(collection.sources[0]!.status, 'failed')
    assert.match(collection.sources[0]!.error!, /status 1: Failed to add filter/)
  })
})

describe('log helpers', () => {
  test('timestamps Vector and journald write', () => {
    assert.equal(lineTimestamp('2025-03-04T10:00:00.123456Z  INFO vector: x'), Date.parse('2025-03-04T10:00:00.123Z'))
    assert.equal(lineTimestamp('2025-03-04T12:00:00+0200 host vector[1]: x'), Date.parse('2025-03-04T10:00:00Z'))
    assert.equal(lineTimestamp('{"timestamp":"2025-03-04T10:00:00Z","level":"INFO"}'), Date.parse('2025-03-04T10:00:00Z'))
    assert.equal(lineTimestamp('  at frame 2'), null)
    assert.equal(lineTimestamp(`${'m'.repeat(80)} 2025-03-04T10:00:00Z`), null)
  })

  test('a cut newest-first stream drops its incomplete last entry', () => {
    const text = 'c3 newest\nb2 middle\n  b2 continued\na1 oldest\n  a1 contin'
    assert.deepEqual(newestFirstToTimeOrder(text, true), ['b2 middle', '  b2 continued', 'c3 newest'])
    assert.deepEqual(newestFirstToTimeOrder(`${text}ued\n`, false), ['a1 oldest', '  a1 continued', 'b2 middle', '  b2 continued', 'c3 newest'])
  })
})
