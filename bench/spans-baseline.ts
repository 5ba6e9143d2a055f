/**
 * The replay benchmark's baseline: stream a bundle's span file through
 * gunzip, split it into lines and JSON.parse each one, nothing else.
 *
 *   node dist/bench/spans-baseline.js FILE.ndjson.gz
 */
import {createReadStream} from 'node:fs'
import readline from 'node:readline'
import {createGunzip} from 'node:zlib'

const file = process.argv[2]
if (!file) throw new Error('usage: spans-baseline.js FILE.ndjson.gz')
const rl = readline.createInterface({input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity})
let spans = 0
for await (const line of rl) {
  JSON.parse(line)
  spans++
}
process.stdout.write(JSON.stringify({spans}) + '\n')
