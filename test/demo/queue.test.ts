import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {BoundedQueue, type Batch} from '../../src/demo/pipeline/queue.js'

const batch = (n: number, tag = 'x'): Batch => ({lines: Array.from({length: n}, (_, i) => `${tag}${i}`), bytes: n * 2, enqueuedAt: 0})

describe('BoundedQueue', {timeout: 10_000}, () => {
  it('makes a push wait while the queue is full (backpressure), and releases it on pop', async () => {
    const q = new BoundedQueue(10)
    await q.push(batch(6, 'a'))
    let pushed = false
    const pending = q.push(batch(6, 'b')).then(() => (pushed = true))
    await new Promise((r) => setImmediate(r))
    assert.equal(pushed, false, 'second push blocks: 6 + 6 > 10')
    assert.equal(q.length, 6)
    const first = await q.pop(100, 1000)
    assert.deepEqual(first?.lines, batch(6, 'a').lines)
    await pending
    assert.equal(pushed, true)
    assert.equal(q.length, 6)
  })

  it('merges queued batches up to maxEvents, never splitting one', async () => {
    const q = new BoundedQueue(100)
    await q.push(batch(3, 'a'))
    await q.push(batch(3, 'b'))
    await q.push(batch(3, 'c'))
    const got = await q.pop(7, 1000)
    assert.equal(got?.lines.length, 6)
    assert.equal(got?.bytes, 12)
    assert.equal(q.length, 3)
  })

  it('accepts an oversized batch into an empty queue rather than deadlocking', async () => {
    const q = new BoundedQueue(5)
    await q.push(batch(8))
    assert.equal(q.length, 8)
  })

  it('pop returns null after its timeout when nothing arrives, and wakes early when something does', async () => {
    const q = new BoundedQueue(5)
    assert.equal(await q.pop(5, 20), null)
    const waiting = q.pop(5, 10_000)
    await q.push(batch(2))
    assert.equal((await waiting)?.lines.length, 2)
  })

  it('close releases a blocked pusher and a waiting popper', async () => {
    const q = new BoundedQueue(1)
    await q.push(batch(1))
    const blocked = q.push(batch(1))
    q.close()
    await blocked
    const drained = await q.pop(5, 10_000)
    assert.equal(drained?.lines.length, 1)
    assert.equal(await q.pop(5, 10_000), null)
  })
})
