/**
 * Loads vdiag's .proto for Vector's gRPC ObservabilityService. Used by the
 * demo (server) and by attach (client). Imported lazily: grpc-js and
 * proto-loader cost tens of milliseconds that `vdiag --help` should not pay.
 */
import type * as grpc from '@grpc/grpc-js'
import {assetPath} from '../util/paths.js'

export const OBSERVABILITY_SERVICE = 'vector.observability.v1.ObservabilityService'

export const ComponentTypeEnum = {
  COMPONENT_TYPE_UNSPECIFIED: 0,
  COMPONENT_TYPE_SOURCE: 1,
  COMPONENT_TYPE_TRANSFORM: 2,
  COMPONENT_TYPE_SINK: 3,
} as const

export const MetricNameEnum = {
  METRIC_NAME_UNSPECIFIED: 0,
  METRIC_NAME_RECEIVED_EVENTS_THROUGHPUT: 1,
  METRIC_NAME_SENT_EVENTS_THROUGHPUT: 2,
  METRIC_NAME_RECEIVED_BYTES_THROUGHPUT: 3,
  METRIC_NAME_SENT_BYTES_THROUGHPUT: 4,
  METRIC_NAME_RECEIVED_EVENTS_TOTAL: 5,
  METRIC_NAME_SENT_EVENTS_TOTAL: 6,
  METRIC_NAME_RECEIVED_BYTES_TOTAL: 7,
  METRIC_NAME_SENT_BYTES_TOTAL: 8,
  METRIC_NAME_ERRORS_TOTAL: 9,
} as const

export interface LoadedObservability {
  grpc: typeof grpc
  /** The service constructor (client) and its `.service` definition (server). */
  Service: grpc.ServiceClientConstructor
}

let cached: Promise<LoadedObservability> | undefined

/**
 * keepCase keeps Vector's snake_case field names; longs and enums as strings
 * keep int64 counters exact and enum names readable on both sides.
 */
export function loadObservability(): Promise<LoadedObservability> {
  cached ??= (async () => {
    const grpcMod = await import('@grpc/grpc-js')
    const loader = await import('@grpc/proto-loader')
    const def = await loader.load('vector/observability.proto', {
      includeDirs: [assetPath('protocol', 'proto')],
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    })
    const pkg = grpcMod.loadPackageDefinition(def) as unknown as {
      vector: {observability: {v1: {ObservabilityService: grpc.ServiceClientConstructor}}}
    }
    return {grpc: grpcMod, Service: pkg.vector.observability.v1.ObservabilityService}
  })()
  return cached
}
