/**
 * The intake under test, alone in its own process so that its peak RSS is
 * its own: vdiag's span store (with the capture's redaction) behind vdiag's
 * HTTP intake, exactly as `vdiag capture` wires them; with --agent, as a
 * tee in front of that Agent (`capture --via agent`).
 *
 *   node dist/bench/intake-process.js --dir STAGING [--agent URL]
 *
 * Prints {"url", "pid"} when listening, then answers stdin commands with one
 * JSON line each: `stats` (intake stats), `cpu` (the process's CPU time so
 * far, all threads, µs) and `stop` (closes intake and store, reports final
 * counts, CPU time and peak RSS, exits).
 */
import {parseArgs} from 'node:util'
import {ENTRY} from '../src/bundle/format.js'
import {Redactor} from '../src/bundle/redaction.js'
import {startIntake} from '../src/intake/server.js'
import {createSpanStore} from '../src/intake/store.js'
import {serveCommands, vmHwmMb} from './child.js'

const {values} = parseArgs({options: {dir: {type: 'string'}, agent: {type: 'string'}}})
if (!values.dir) throw new Error('--dir is required')

const redactor = new Redactor()
const store = await createSpanStore({dir: values.dir, maxSpans: Number.MAX_SAFE_INTEGER, redactSpan: (span) => redactor.redactSpanFields(span, ENTRY.spans)})
const rejects: string[] = []

/** The tee as capture builds it (src/capture/agent-phase.ts), loaded only when asked for. */
async function tee(url: string) {
  const {parseAgentUrl} = await import('../src/intake/agent-url.js')
  const {AgentClient} = await import('../src/intake/agent-client.js')
  const {createAgentTee} = await import('../src/intake/tee.js')
  return createAgentTee({client: new AgentClient(parseAgentUrl(url, 'agent'))})
}
const forward = values.agent ? await tee(values.agent) : undefined
const intake = await startIntake({store, forward, onReject: (r) => rejects.length < 10 && rejects.push(`${r.status} ${r.reason}`)})
process.stdout.write(JSON.stringify({url: intake.url, pid: process.pid}) + '\n')

await serveCommands(async (cmd) => {
  if (cmd === 'cpu') return process.cpuUsage()
  if (cmd === 'stats') return {stats: intake.stats(), peak_rss_mb: vmHwmMb(process.pid)}
  if (cmd === 'stop') {
    await intake.close()
    await forward?.close()
    await store.close()
    return {stats: intake.stats(), tee: forward?.counts() ?? null, rejects, cpu: process.cpuUsage(), peak_rss_mb: vmHwmMb(process.pid) ?? Math.round(process.resourceUsage().maxRSS / 1024)}
  }
  return {error: `unknown command ${cmd}`}
})
process.exit(0)
