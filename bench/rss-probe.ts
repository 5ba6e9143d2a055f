/**
 * Preloaded into a process whose peak memory a benchmark reports
 * (`node --import dist/bench/rss-probe.js ...`): at exit, writes the
 * process's peak resident set size to the file named by BENCH_RSS_FILE.
 * The parent cannot read a child's VmHWM once it has exited, and polling
 * /proc can miss the last growth; the process itself can not.
 */
import {writeFileSync} from 'node:fs'

const file = process.env.BENCH_RSS_FILE
if (file) {
  process.on('exit', () => {
    try {
      // maxRSS is in kilobytes
      writeFileSync(file, JSON.stringify({max_rss_kb: process.resourceUsage().maxRSS}) + '\n')
    } catch {
      // the benchmark reports a missing figure; the measured process must not fail because of it
    }
  })
}
