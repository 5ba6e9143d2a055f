/**
 * The intake under test, alone in its own process so that its peak RSS is
 * its own: vdiag's span store (with the capture's redaction) behind vdiag's
 * HTTP intake, exactly as `vdiag capture` wires them.
 *
 *   node dist/bench/intake-process.js --dir STAGING
 *
 * Prints {"url", "pid"} when listening, then answers stdin commands with one
 * JSON line each: `stats` (intake stats) and `stop` (closes intake and store,
 * reports final counts and peak RSS, exits).
 */
import {parseArgs} from 'node:util'
import {ENTRY} from '../src/bundle/format.js'
import {Redactor} from '../src/bundle/redaction.js'
import {startIntake} from '../src/intake/server.js'
import {createSpanStore} from '../src/intake/store.js'
import {serveCommands, vmHwmMb} from './child.js'

const {values} = parseArgs({options: {dir: {type: 'string'}}})
if (!values.dir) throw new Error('--dir is required')

const redactor = new Redactor()
const store = await createSpanStore({dir: values.dir, maxSpans: Number.MAX_SAFE_INTEGER, redactSpan: (span) => redactor.redactSpanFields(span, ENTRY.spans)})
const rejects: string[] = []
const intake = await startIntake({store, onReject: (r) => rejects.length < 10 && rejects.push(`${r.status} ${r.reason}`)})
process.stdout.write(JSON.stringify({url: intake.url, pid: process.pid}) + '\n')

await serveCommands(async (cmd) => {
  if (cmd === 'stats') return {stats: intake.stats(), peak_rss_mb: vmHwmMb(process.pid)}
  if (cmd === 'stop') {
    await intake.close()
    await store.close()
    return {stats: intake.stats(), rejects, peak_rss_mb: vmHwmMb(process.pid) ?? Math.round(process.resourceUsage().maxRSS / 1024)}
  }
  return {error: `unknown command ${cmd}`}
})
process.exit(0)
