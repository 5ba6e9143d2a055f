/** Shared fixtures for the demo admin API tests: a fake pipeline view and Vector's real schema. */
import fs from 'node:fs'
import path from 'node:path'
import type {GraphQLSchema} from 'graphql'
import type {ComponentKind} from '../../src/protocol/tracing-control.js'
import type {DemoComponentView, DemoCounters, DemoPipelineView} from '../../src/demo/types.js'
import {packageRoot} from '../../src/util/paths.js'

/** CI clones the repo with `shared/` beside it, as on the development machine. */
export const REAL_SCHEMA_PATH = path.resolve(packageRoot, '../shared/vector/graphql-schema-v0.54.json')

let realSchema: Promise<GraphQLSchema | undefined> | undefined

/** Vector 0.54's schema, or undefined when the shared folder is truly absent. */
export function loadRealSchema(): Promise<GraphQLSchema | undefined> {
  realSchema ??= (async () => {
    if (!fs.existsSync(REAL_SCHEMA_PATH)) return undefined
    const {buildClientSchema} = await import('graphql')
    return buildClientSchema(JSON.parse(fs.readFileSync(REAL_SCHEMA_PATH, 'utf8')).data)
  })()
  return realSchema
}

export const MISSING_SCHEMA_MESSAGE = `Vector's schema is not at ${REAL_SCHEMA_PATH} (expected shared/ beside the repo)`

/** Asserts that `query` is valid against Vector's real schema (a no-op only when the file is absent). */
export async function assertValidForVector(query: string): Promise<void> {
  const schema = await loadRealSchema()
  if (schema === undefined) return
  const {parse, validate} = await import('graphql')
  const errors = validate(schema, parse(query))
  if (errors.length > 0) throw new Error(`document invalid against Vector 0.54: ${errors.map((e) => e.message).join('; ')}`)
}

export interface FakeComponent {
  id: string
  kind: ComponentKind
  type: string
  inputs?: string[]
  outputs?: string[]
  counters?: Partial<DemoCounters>
}

/** Per-component increments applied on every `components()` call when advancing. */
export interface FakePipeline extends DemoPipelineView {
  calls: number
  list: DemoComponentView[]
}

export function fakePipeline(
  components: FakeComponent[],
  opts: {advance?: (c: DemoComponentView, call: number) => Partial<DemoCounters>; version?: string; hostname?: string} = {},
): FakePipeline {
  const list: DemoComponentView[] = components
    .map((c) => ({
      id: c.id,
      kind: c.kind,
      type: c.type,
      inputs: c.inputs ?? [],
      outputs: c.outputs ?? (c.kind === 'sink' ? [] : ['_default']),
      counters: {received_events: 0, sent_events: 0, received_bytes: 0, sent_bytes: 0, errors: 0, ...c.counters},
    }))
    .sort((a, b) => (a.id < b.id ? -1 : 1))
  const fake: FakePipeline = {
    calls: 0,
    list,
    versionString: () => opts.version ?? '0.55.0 (vdiag-demo x86_64-unknown-linux-gnu)',
    hostname: () => opts.hostname ?? 'fake-host',
    components() {
      fake.calls++
      if (opts.advance !== undefined) {
        for (const c of list) {
          for (const [k, v] of Object.entries(opts.advance(c, fake.calls))) c.counters[k as keyof DemoCounters] += v
        }
      }
      return list.map((c) => ({...c, counters: {...c.counters}}))
    },
  }
  return fake
}

/** file → remap → http, the demo's own shape. */
export function demoShape(): FakeComponent[] {
  return [
    {id: 'in_files', kind: 'source', type: 'file', counters: {received_events: 10, sent_events: 9, received_bytes: 1000}},
    {
      id: 'parse',
      kind: 'transform',
      type: 'remap',
      inputs: ['in_files'],
      counters: {received_events: 9, sent_events: 8, errors: 1},
    },
    {id: 'out_http', kind: 'sink', type: 'http', inputs: ['parse'], counters: {received_events: 8, sent_events: 7, sent_bytes: 700}},
  ]
}

/** Two sources, a fan-in, a named output and a sink reading it: every relation in one graph. */
export function branchyShape(): FakeComponent[] {
  return [
    {id: 'gen', kind: 'source', type: 'demo_logs'},
    {id: 'in_files', kind: 'source', type: 'file'},
    {id: 'parse', kind: 'transform', type: 'remap', inputs: ['in_files', 'gen']},
    {id: 'route', kind: 'transform', type: 'route', inputs: ['parse'], outputs: ['_default', 'errors']},
    {id: 'out_http', kind: 'sink', type: 'http', inputs: ['route', 'gen']},
    {id: 'out_errors', kind: 'sink', type: 'blackhole', inputs: ['route.errors']},
  ]
}

/** Polls `check` until it is true; throws after `timeoutMs` so no test can hang. */
export async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

// ---- gRPC client helpers (a client built from the project's own .proto) ----

export type Msg = Record<string, any>
export type ObservabilityClient = import('@grpc/grpc-js').Client & Record<string, (...args: any[]) => any>

/** A unary call with a deadline, so a silent server fails the test instead of hanging it. */
export function unaryCall(client: ObservabilityClient, method: string, request: Msg, timeoutMs = 10_000): Promise<Msg> {
  return new Promise((resolve, reject) =>
    client[method]!(request, {deadline: Date.now() + timeoutMs}, (err: Error | null, reply: Msg) => (err ? reject(err) : resolve(reply))),
  )
}

/** Reads a server stream until `enough` says so, then cancels it; rejects on a server error, an early end or a timeout. */
export function collectStream(
  client: ObservabilityClient,
  method: string,
  request: Msg,
  enough: (msgs: Msg[]) => boolean,
  timeoutMs = 15_000,
): Promise<Msg[]> {
  return new Promise((resolve, reject) => {
    const msgs: Msg[] = []
    const call = client[method]!(request) as import('@grpc/grpc-js').ClientReadableStream<Msg>
    let done = false
    const timer = setTimeout(() => {
      done = true
      call.cancel()
      reject(new Error(`${method}: not enough messages after ${timeoutMs} ms (${msgs.length})`))
    }, timeoutMs)
    call.on('data', (m: Msg) => {
      if (done) return
      msgs.push(m)
      if (enough(msgs)) {
        done = true
        clearTimeout(timer)
        call.cancel()
        resolve(msgs)
      }
    })
    call.on('error', (err: Error) => {
      clearTimeout(timer)
      if (!done) reject(err)
      done = true
    })
    call.on('end', () => {
      clearTimeout(timer)
      if (!done) reject(new Error(`${method}: stream ended after ${msgs.length} messages`))
      done = true
    })
  })
}
