/**
 * One TCP port, two protocols: gRPC (HTTP/2 prior knowledge) and HTTP/1.1
 * interleaved on the demo's admin port, from separate connections.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {loadObservability} from '../../src/protocol/observability.js'
import {spawnDemo, type SpawnedDemo} from '../../src/demo/spawn.js'
import {call} from './helpers/demo-client.js'

describe('demo admin port serves gRPC and HTTP/1.1 side by side', {timeout: 90_000}, () => {
  let demo: SpawnedDemo

  before(async () => {
    demo = await spawnDemo()
  })
  after(async () => {
    assert.equal(await demo?.stop(), 0, demo?.stderr())
  })

  it('GetMeta over h2c and GET /health over HTTP/1.1, interleaved', async () => {
    const {grpc, Service} = await loadObservability()
    const client = new Service(demo.api.replace(/^http:\/\//, ''), grpc.credentials.createInsecure())
    try {
      const getMeta = () =>
        new Promise<{version: string; hostname: string}>((resolve, reject) => {
          client.GetMeta({}, {deadline: Date.now() + 15_000}, (err: Error | null, reply: {version: string; hostname: string}) => (err ? reject(err) : resolve(reply)))
        })
      const results = await Promise.all([getMeta(), call(`${demo.api}/health`), getMeta(), call(`${demo.api}/tracing`), getMeta()])
      for (const meta of [results[0], results[2], results[4]] as {version: string}[]) assert.match(meta.version, /^0\.55\.\d+ /)
      assert.deepEqual((results[1] as {json: unknown}).json, {ok: true})
      assert.equal((results[3] as {json: {supported: boolean}}).json.supported, true)
    } finally {
      client.close()
    }
  })
})
