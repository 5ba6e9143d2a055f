/**
 * The demo's Prometheus exposition, named as Vector's `prometheus_exporter`
 * sink shows its `internal_metrics` by default (namespace `vector_`, labels
 * component_id, component_kind, component_type), text format 0.0.4.
 */
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import type {ComponentRuntime} from './pipeline/runtime.js'
import {LATENCY_BUCKETS_SECONDS, type Histogram} from './pipeline/stats.js'

export const METRICS_PATH = '/metrics'
const NAMESPACE = 'vector_'

interface CounterDef {
  name: string
  help: string
  value(rt: ComponentRuntime): number
}

const COUNTERS: CounterDef[] = [
  {name: 'component_received_events_total', help: 'Events received by the component.', value: (rt) => rt.stats.counters.received_events},
  {name: 'component_sent_events_total', help: 'Events sent downstream (or, for sinks, to the destination).', value: (rt) => rt.stats.counters.sent_events},
  {name: 'component_received_bytes_total', help: 'Bytes received by the component.', value: (rt) => rt.stats.counters.received_bytes},
  {name: 'component_sent_bytes_total', help: 'Bytes sent by the component.', value: (rt) => rt.stats.counters.sent_bytes},
  {name: 'component_errors_total', help: 'Errors the component encountered.', value: (rt) => rt.stats.counters.errors},
]

function labels(rt: ComponentRuntime, extra = ''): string {
  const {id, kind, type} = rt.identity
  return `{component_id="${escapeLabel(id)}",component_kind="${kind}",component_type="${escapeLabel(type)}"${extra}}`
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

function histogramLines(name: string, rt: ComponentRuntime, h: Histogram): string[] {
  const lines: string[] = []
  let cumulative = 0
  LATENCY_BUCKETS_SECONDS.forEach((le, i) => {
    cumulative += h.counts[i]
    lines.push(`${name}_bucket${labels(rt, `,le="${le}"`)} ${cumulative}`)
  })
  lines.push(`${name}_bucket${labels(rt, ',le="+Inf"')} ${h.count}`)
  lines.push(`${name}_sum${labels(rt)} ${h.sum}`)
  lines.push(`${name}_count${labels(rt)} ${h.count}`)
  return lines
}

export function renderMetrics(runtimes: Iterable<ComponentRuntime>, uptimeSeconds: number): string {
  const all = [...runtimes]
  const out: string[] = []
  const family = (name: string, type: string, help: string) => out.push(`# HELP ${NAMESPACE}${name} ${help}`, `# TYPE ${NAMESPACE}${name} ${type}`)
  for (const c of COUNTERS) {
    family(c.name, 'counter', c.help)
    for (const rt of all) out.push(`${NAMESPACE}${c.name}${labels(rt)} ${c.value(rt)}`)
  }
  family('utilization', 'gauge', 'Share of time the component was busy (not waiting for input), 0..1, EWMA over 5 s periods.')
  for (const rt of all) out.push(`${NAMESPACE}utilization${labels(rt)} ${rt.stats.utilization}`)
  family('source_send_latency_seconds', 'histogram', 'Time a source was blocked sending a batch downstream.')
  for (const rt of all) if (rt.identity.kind === 'source') out.push(...histogramLines(`${NAMESPACE}source_send_latency_seconds`, rt, rt.stats.sendLatency))
  family('component_latency_seconds', 'histogram', 'Time events spent in a transform, including its input queue.')
  for (const rt of all) if (rt.identity.kind === 'transform') out.push(...histogramLines(`${NAMESPACE}component_latency_seconds`, rt, rt.stats.componentLatency))
  family('uptime_seconds', 'gauge', 'Seconds since the demo started.')
  out.push(`${NAMESPACE}uptime_seconds ${uptimeSeconds}`)
  return out.join('\n') + '\n'
}

export interface MetricsServer {
  url: string
  close(): Promise<void>
}

export async function startMetricsServer(host: string, port: number, render: () => string): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path !== METRICS_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, {'content-type': 'text/plain'}).end('not found\n')
      return
    }
    const body = render()
    res.writeHead(200, {'content-type': 'text/plain; version=0.0.4', 'content-length': Buffer.byteLength(body)})
    res.end(req.method === 'HEAD' ? undefined : body)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const address = server.address() as AddressInfo
  return {
    url: `http://${formatHost(address.address)}:${address.port}${METRICS_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export function formatHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address
}
