/**
 * The demo's `vector.observability.v1.ObservabilityService` (Vector >= 0.55),
 * answering from a DemoPipelineView with the semantics of Vector's
 * src/api/grpc/service.rs. The admin server owns the port and the grpc-js
 * Server; this module only adds the service to it.
 */
import type * as grpc from '@grpc/grpc-js'
import {loadObservability} from '../../protocol/observability.js'
import type {ComponentKind} from '../../protocol/tracing-control.js'
import type {DemoComponentView, DemoPipelineView} from '../types.js'
import {DEFAULT_OUTPUT, UNSPECIFIED_METRIC, createMetricSampler, toInt64} from './grpc-metric-sampler.js'

/**
 * Vector rejects faster polling (its MIN_INTERVAL_MS) so that one client cannot
 * make the server snapshot every counter at 1 kHz.
 */
export const MIN_STREAM_INTERVAL_MS = 100

const KIND_ENUM: Record<ComponentKind, string> = {
  source: 'COMPONENT_TYPE_SOURCE',
  transform: 'COMPONENT_TYPE_TRANSFORM',
  sink: 'COMPONENT_TYPE_SINK',
}

/** Streams the service has open; lets the owner end them before a graceful shutdown. */
export interface ObservabilityStreams {
  activeStreams(): number
  /** Ends every open stream with status OK and stops its timer. */
  endStreams(): void
}

type AnyWritable = grpc.ServerWritableStream<Record<string, unknown>, unknown>
type AnyUnary = grpc.ServerUnaryCall<Record<string, unknown>, unknown>
type Callback = grpc.sendUnaryData<unknown>

/**
 * Loads the project's .proto (hence async) and adds the service to `server`.
 * Call it before the server accepts connections.
 */
export async function addObservabilityService(
  server: grpc.Server,
  pipeline: DemoPipelineView,
): Promise<ObservabilityStreams> {
  const {grpc: grpcMod, Service} = await loadObservability()
  const {status} = grpcMod
  // Vector's uptime counts from start-up; the admin service is added as the pipeline starts.
  const startedAt = Date.now()
  const open = new Set<{end(): void}>()

  const statusError = (code: grpc.status, details: string): grpc.ServiceError =>
    Object.assign(new Error(details), {code, details, metadata: new grpcMod.Metadata()})

  /** Unary handler wrapper: a throwing pipeline view becomes INTERNAL, never a crashed server. */
  const unary = (answer: (request: Record<string, unknown>) => unknown) => (call: AnyUnary, callback: Callback) => {
    let reply: unknown
    try {
      reply = answer(call.request)
    } catch (err) {
      callback(statusError(status.INTERNAL, (err as Error).message))
      return
    }
    callback(null, reply)
  }

  const failStream = (call: AnyWritable, code: grpc.status, details: string): void => {
    // ServerWritableStream turns an 'error' event into the call's status and ends it.
    call.emit('error', statusError(code, details))
  }

  const checkInterval = (call: AnyWritable): number | undefined => {
    const interval = Number(call.request.interval_ms ?? 0)
    if (interval < MIN_STREAM_INTERVAL_MS) {
      failStream(call, status.INVALID_ARGUMENT, `interval_ms must be >= ${MIN_STREAM_INTERVAL_MS}`)
      return undefined
    }
    return interval
  }

  /**
   * Runs `tick` now and every `intervalMs` (tokio's interval fires immediately
   * too) until the call ends. While the client is not reading, ticks are
   * skipped rather than queued, so a stalled client cannot grow our memory.
   */
  const runStream = (call: AnyWritable, intervalMs: number | undefined, tick?: (write: (m: unknown) => void) => void) => {
    let blocked = false
    let timer: NodeJS.Timeout | undefined
    const entry = {
      end() {
        stop()
        call.end()
      },
    }
    const stop = () => {
      if (timer !== undefined) clearInterval(timer)
      timer = undefined
      open.delete(entry)
    }
    open.add(entry)
    for (const event of ['cancelled', 'close', 'finish', 'error']) call.once(event, stop)
    if (tick === undefined || intervalMs === undefined) return
    const write = (message: unknown) => {
      if (!call.write(message)) blocked = true
    }
    call.on('drain', () => {
      blocked = false
    })
    const fire = () => {
      if (blocked || call.cancelled || timer === undefined) return
      try {
        tick(write)
      } catch (err) {
        stop()
        failStream(call, status.INTERNAL, (err as Error).message)
      }
    }
    timer = setInterval(fire, intervalMs)
    fire()
  }

  const toComponent = (c: DemoComponentView) => {
    const sent = toInt64(c.counters.sent_events)
    return {
      component_id: c.id,
      component_type: KIND_ENUM[c.kind] ?? 'COMPONENT_TYPE_UNSPECIFIED',
      on_type: c.type,
      // Without an `output` tag on the counter, Vector credits everything to the default output.
      outputs: c.outputs.map((id) => ({output_id: id, sent_events_total: id === DEFAULT_OUTPUT ? sent : '0'})),
      metrics: {
        received_bytes_total: toInt64(c.counters.received_bytes),
        received_events_total: toInt64(c.counters.received_events),
        sent_bytes_total: toInt64(c.counters.sent_bytes),
        sent_events_total: sent,
      },
    }
  }

  const sortedComponents = () => [...pipeline.components()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))

  const implementation: grpc.UntypedServiceImplementation = {
    GetMeta: unary(() => ({version: pipeline.versionString(), hostname: pipeline.hostname() || 'unknown'})),

    GetComponents: unary((request) => {
      const limit = Number(request.limit ?? 0)
      const components = sortedComponents().map(toComponent)
      return {components: limit > 0 ? components.slice(0, limit) : components}
    }),

    GetAllocationTracingStatus: unary(() => ({enabled: false})),

    StreamHeartbeat(call: AnyWritable) {
      const interval = checkInterval(call)
      if (interval === undefined) return
      runStream(call, interval, (write) => {
        write({utc: {seconds: String(Math.floor(Date.now() / 1000)), nanos: 0}})
      })
    },

    StreamUptime(call: AnyWritable) {
      const interval = checkInterval(call)
      if (interval === undefined) return
      runStream(call, interval, (write) => {
        write({uptime_seconds: String(Math.floor((Date.now() - startedAt) / 1000))})
      })
    },

    StreamComponentAllocatedBytes(call: AnyWritable) {
      const interval = checkInterval(call)
      if (interval === undefined) return
      // Allocation tracing is off, so like Vector without --allocation-tracing there is
      // no component_allocated_bytes metric: the stream stays open and silent.
      runStream(call, interval)
    },

    StreamComponentMetrics(call: AnyWritable) {
      const interval = checkInterval(call)
      if (interval === undefined) return
      const metric = call.request.metric
      if (metric === UNSPECIFIED_METRIC) {
        failStream(call, status.INVALID_ARGUMENT, 'metric must be specified')
        return
      }
      const sampler = createMetricSampler(metric)
      if (sampler === undefined) {
        failStream(call, status.INVALID_ARGUMENT, 'Unknown metric value')
        return
      }
      runStream(call, interval, (write) => {
        for (const message of sampler.sample(sortedComponents(), performance.now())) write(message)
      })
    },

    StreamOutputEvents(call: AnyWritable) {
      failStream(call, status.UNIMPLEMENTED, 'tap (StreamOutputEvents) is not available in the vdiag demo')
    },
  }

  server.addService(Service.service, implementation)

  return {
    activeStreams: () => open.size,
    endStreams() {
      for (const entry of [...open]) entry.end()
    },
  }
}
