/**
 * Finds out which admin API generation the pipeline speaks and hands back one
 * client for either: gRPC ObservabilityService (Vector >= 0.55) first, then
 * GraphQL (<= 0.54). `detection` records what was tried and why the winner won,
 * for the bundle.
 */
import type {ApiGeneration, ComponentCounters, PipelineFacts} from '../bundle/format.js'
import {errorMessage, isVdiagError} from '../errors.js'
import {attachError, displayUrl, HINT_API} from './api-errors.js'
import {GrpcAdminClient} from './grpc-client.js'
import {GraphqlAdminClient} from './graphql-client.js'
import {endpointUrl, timeoutOf, type ApiTarget} from './http.js'
import {parseVersion} from './version.js'

/**
 * Deadline for the gRPC probe. A GraphQL-era (HTTP/1.1-only) server fails the
 * HTTP/2 handshake at once, so this only bounds a server that accepts and then
 * says nothing; 3 s still lets a real gRPC server answer on a loaded host.
 */
export const DETECT_GRPC_DEADLINE_MS = 3_000

export interface AdminClient {
  generation: ApiGeneration
  detection: string[]
  facts(): Promise<PipelineFacts>
  snapshot(): Promise<Record<string, ComponentCounters>>
  close(): Promise<void>
}

export async function connectAdmin(target: ApiTarget, signal?: AbortSignal): Promise<AdminClient> {
  endpointUrl(target, '/') // a malformed --api is a usage error before any probe
  const detection: string[] = []

  const grpc = await GrpcAdminClient.open(target)
  let grpcFailure: string
  try {
    const meta = await grpc.getMeta(Math.min(DETECT_GRPC_DEADLINE_MS, timeoutOf(target)), signal)
    detection.push(`gRPC GetMeta over h2c at ${grpc.address} answered version "${meta.versionString}": using the gRPC ObservabilityService (Vector >= 0.55)`)
    return grpcAdmin(target, grpc, meta, detection)
  } catch (e) {
    grpc.close()
    if (isVdiagError(e) && (e.code === 'interrupted' || e.code === 'usage')) throw e
    grpcFailure = reasonOf(e)
    detection.push(`gRPC GetMeta over h2c at ${grpc.address} failed: ${grpcFailure}`)
  }

  const gql = new GraphqlAdminClient(target)
  try {
    const meta = await gql.getMeta(signal)
    detection.push(`GraphQL meta query at ${displayUrl(endpointUrl(target, '/graphql').toString())} answered version "${meta.versionString}": using the GraphQL API (Vector <= 0.54)`)
    return graphqlAdmin(target, gql, meta, detection)
  } catch (e) {
    if (isVdiagError(e) && (e.code === 'interrupted' || e.code === 'usage')) throw e
    const gqlFailure = reasonOf(e)
    detection.push(`GraphQL meta query at ${displayUrl(endpointUrl(target, '/graphql').toString())} failed: ${gqlFailure}`)
    throw attachError(
      'api_bad_reply',
      `vdiag could not find a Vector admin API it understands at ${displayUrl(target.url)}. It tried gRPC GetMeta over HTTP/2 (Vector >= 0.55): ${stripDot(grpcFailure)}. It then tried POST /graphql (Vector <= 0.54): ${stripDot(gqlFailure)}.`,
      target.token,
      {hint: HINT_API, details: {detection}},
    )
  }
}

function grpcAdmin(target: ApiTarget, client: GrpcAdminClient, meta: {versionString: string; hostname: string | null}, detection: string[]): AdminClient {
  return {
    generation: 'grpc',
    detection,
    async facts() {
      const {components, skipped} = await client.getComponents()
      return {
        api: {url: displayUrl(target.url), generation: 'grpc', detection: [...detection, ...versionNotes(meta.versionString), ...skipped, 'the gRPC API gives no topology edges']},
        version: parseVersion(meta.versionString),
        version_string: meta.versionString,
        hostname: meta.hostname,
        components,
        edges: null,
        edges_source: 'none',
      }
    },
    snapshot: () => client.snapshot(),
    async close() {
      client.close()
    },
  }
}

function graphqlAdmin(target: ApiTarget, client: GraphqlAdminClient, meta: {versionString: string; hostname: string | null}, detection: string[]): AdminClient {
  return {
    generation: 'graphql',
    detection,
    async facts() {
      const {components, edges, skipped} = await client.getComponents()
      return {
        api: {url: displayUrl(target.url), generation: 'graphql', detection: [...detection, ...versionNotes(meta.versionString), ...skipped]},
        version: parseVersion(meta.versionString),
        version_string: meta.versionString,
        hostname: meta.hostname,
        components,
        edges,
        edges_source: 'graphql',
      }
    },
    snapshot: () => client.snapshot(),
    async close() {},
  }
}

function versionNotes(versionString: string): string[] {
  return parseVersion(versionString) ? [] : [`the version string "${versionString}" contains no semantic version`]
}

/** The short reason an attach error carries in details, else its message. */
function reasonOf(e: unknown): string {
  const reason = isVdiagError(e) ? e.details?.reason : undefined
  return typeof reason === 'string' && reason ? reason : errorMessage(e)
}

function stripDot(s: string): string {
  return s.replace(/\.\s*$/, '')
}
