/**
 * `POST /graphql` for the demo's Vector <= 0.54 personality: graphql-js over
 * DEMO_GRAPHQL_SDL, answering like async-graphql does for Vector: HTTP 200 with
 * `{"data": ...}` plus `"errors"` when there are any, also for documents that
 * fail to parse or validate. graphql is imported on the first request, so
 * importing this module stays cheap.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import type * as GraphQL from 'graphql'
import type {DemoPipelineView} from '../types.js'
import {createRootValue} from './graphql-resolvers.js'
import {DEMO_GRAPHQL_SDL} from './graphql-sdl.js'

/** Real documents (vdiag, `vector top`) are a few KiB; the cap bounds memory per request. */
export const MAX_GRAPHQL_BODY_BYTES = 256 * 1024

interface GraphqlRequest {
  query: string
  variables?: Record<string, unknown> | null
  operationName?: string | null
}

interface GraphqlReply {
  data: unknown
  errors?: unknown[]
}

class BadRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

let loaded: Promise<{gql: typeof GraphQL; schema: GraphQL.GraphQLSchema}> | undefined

function loadSchema() {
  loaded ??= import('graphql').then((gql) => ({gql, schema: gql.buildSchema(DEMO_GRAPHQL_SDL)}))
  return loaded
}

export function createGraphqlHandler(pipeline: DemoPipelineView): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    serve(pipeline, req, res).catch((err: unknown) => {
      if (err instanceof BadRequest) {
        sendJson(res, err.status, {data: null, errors: [{message: err.message}]})
      } else {
        sendJson(res, 500, {data: null, errors: [{message: `internal error: ${(err as Error)?.message ?? err}`}]})
      }
    })
  }
}

async function serve(pipeline: DemoPipelineView, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const request = await readRequest(req)
  const {gql, schema} = await loadSchema()
  sendJson(res, 200, await execute(gql, schema, request, pipeline))
}

async function execute(
  gql: typeof GraphQL,
  schema: GraphQL.GraphQLSchema,
  request: GraphqlRequest,
  pipeline: DemoPipelineView,
): Promise<GraphqlReply> {
  let document: GraphQL.DocumentNode
  try {
    document = gql.parse(request.query)
  } catch (err) {
    return {data: null, errors: [err instanceof gql.GraphQLError ? err.toJSON() : {message: String(err)}]}
  }
  const invalid = gql.validate(schema, document)
  if (invalid.length > 0) return {data: null, errors: invalid.map((e) => e.toJSON())}
  const result = await gql.execute({
    schema,
    document,
    rootValue: createRootValue(pipeline),
    variableValues: request.variables ?? undefined,
    operationName: request.operationName ?? undefined,
  })
  const reply: GraphqlReply = {data: result.data ?? null}
  if (result.errors !== undefined && result.errors.length > 0) reply.errors = result.errors.map((e) => e.toJSON())
  return reply
}

/** Accepts async-graphql's two HTTP forms: a JSON body on POST, URL parameters on GET. */
async function readRequest(req: IncomingMessage): Promise<GraphqlRequest> {
  if (req.method === 'GET') {
    const params = new URL(req.url ?? '/', 'http://localhost').searchParams
    const variables = params.get('variables')
    return checkRequest({
      query: params.get('query'),
      operationName: params.get('operationName'),
      variables: variables === null ? null : parseJson(variables, 'variables'),
    })
  }
  if (req.method !== 'POST') throw new BadRequest(405, `method ${req.method} not allowed on /graphql`)
  return checkRequest(parseJson(await readBody(req), 'request body'))
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new BadRequest(400, `invalid JSON in ${what}: ${(err as Error).message}`)
  }
}

function checkRequest(body: unknown): GraphqlRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest(400, 'expected a JSON object {query, variables, operationName}')
  }
  const {query, variables, operationName} = body as Record<string, unknown>
  if (typeof query !== 'string') throw new BadRequest(400, 'missing "query" string')
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) {
    throw new BadRequest(400, '"variables" must be an object')
  }
  if (operationName != null && typeof operationName !== 'string') {
    throw new BadRequest(400, '"operationName" must be a string')
  }
  return {
    query,
    variables: (variables as Record<string, unknown> | null | undefined) ?? null,
    operationName: (operationName as string | null | undefined) ?? null,
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_GRAPHQL_BODY_BYTES) {
        req.removeAllListeners('data')
        req.resume() // drain the rest so the connection can answer
        reject(new BadRequest(413, `request body larger than ${MAX_GRAPHQL_BODY_BYTES} bytes`))
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end()
    return
  }
  const text = JSON.stringify(body)
  res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)})
  res.end(text)
}
