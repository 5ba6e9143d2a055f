/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): the functions with the
 * most self time, and the files (modules) they are in, as shares of the
 * sampled time. What bench/README.md means by "what dominates the cost".
 *
 *   node dist/bench/cpu-profile-summary.js FILE.cpuprofile [--top 20]
 */
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {packageRoot} from '../src/util/paths.js'

interface ProfileNode {
  id: number
  callFrame: {functionName: string; url: string; lineNumber: number}
  hitCount?: number
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileSummary {
  total_ms: number
  functions: {name: string; where: string; self_percent: number}[]
  files: {file: string; self_percent: number}[]
}

function shortUrl(url: string): string {
  if (!url) return '(native)'
  const p = url.startsWith('file://') ? new URL(url).pathname : url
  return p.startsWith(packageRoot) ? path.relative(packageRoot, p) : p
}

export function summarise(profile: Profile, top = 20): ProfileSummary {
  const self = new Map<number, number>()
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0))
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  const fn = new Map<string, number>()
  const file = new Map<string, number>()
  for (const [id, us] of self) {
    const n = byId.get(id)!
    const where = shortUrl(n.callFrame.url)
    const key = `${n.callFrame.functionName || '(anonymous)'}\t${where}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`
    fn.set(key, (fn.get(key) ?? 0) + us)
    file.set(where, (file.get(where) ?? 0) + us)
  }
  const pct = (us: number) => Math.round((1000 * us) / total) / 10
  return {
    total_ms: Math.round(total / 1000),
    functions: [...fn.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => {
      const [name, where] = k.split('\t')
      return {name, where, self_percent: pct(us)}
    }),
    files: [...file.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([f, us]) => ({file: f, self_percent: pct(us)})),
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2)
  const file = args.find((a) => !a.startsWith('--'))
  const topAt = args.indexOf('--top')
  if (!file) throw new Error('usage: cpu-profile-summary.js FILE.cpuprofile [--top N]')
  const s = summarise(JSON.parse(await readFile(file, 'utf8')) as Profile, topAt >= 0 ? Number(args[topAt + 1]) : 20)
  process.stdout.write(`${s.total_ms} ms sampled\n\nself %  function  (where)\n`)
  for (const f of s.functions) process.stdout.write(`${String(f.self_percent).padStart(6)}  ${f.name}  (${f.where})\n`)
  process.stdout.write('\nself %  file\n')
  for (const f of s.files) process.stdout.write(`${String(f.self_percent).padStart(6)}  ${f.file}\n`)
}
