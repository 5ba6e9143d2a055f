/**
 * A stand-in Datadog Agent for the tee benchmark, in a process of its own:
 * reads each request body in full and answers as the trace-agent does
 * (200 with rate_by_service for traces, {} elsewhere), with no work in
 * between, so that what the benchmark measures is transport, not the Agent.
 *
 *   node dist/bench/stub-agent.js      → prints {"url", "pid"}; stdin `stop` ends it
 */
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {serveCommands} from './child.js'

const RATES_BODY = '{"rate_by_service":{"service:,env:":1}}'
let requests = 0
let bytes = 0
const server = http.createServer((req, res) => {
  req.on('data', (c: Buffer) => (bytes += c.length))
  req.on('end', () => {
    requests++
    const traces = (req.url ?? '').endsWith('/traces')
    const body = traces ? RATES_BODY : '{}'
    res.writeHead(200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(body)}).end(body)
  })
})
// dd-trace keeps its connection open between flushes; so does the tee's client
server.keepAliveTimeout = 60_000
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
process.stdout.write(JSON.stringify({url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, pid: process.pid}) + '\n')
await serveCommands(async (cmd) => (cmd === 'stop' ? {requests, bytes} : {requests, bytes}))
server.closeAllConnections()
server.close()
process.exit(0)
