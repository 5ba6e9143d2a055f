import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {DEFAULT_PAGE_SIZE, decodeCursor, encodeCursor, paginate} from '../../src/demo/admin/graphql-relay.js'

const items = Array.from({length: 13}, (_, i) => `c${String(i).padStart(2, '0')}`)

describe('Vector relay paging', () => {
  it('cursors are unpadded base64url of Cursor:<index> and round-trip', () => {
    assert.equal(encodeCursor(0), 'Q3Vyc29yOjA') // base64url("Cursor:0"), no '='
    for (const i of [0, 9, 10, 12345]) assert.equal(decodeCursor(encodeCursor(i)), i)
    for (const bad of ['', 'not a cursor!', Buffer.from('Cursor:x').toString('base64url'), 'Q']) {
      assert.throws(() => decodeCursor(bad), /Invalid cursor/)
    }
  })

  it('without first/last only the first 10 nodes come back', () => {
    const page = paginate(items, {})
    assert.equal(DEFAULT_PAGE_SIZE, 10)
    assert.equal(page.nodes.length, 10)
    assert.equal(page.totalCount, 13)
    assert.deepEqual(page.pageInfo, {
      hasPreviousPage: false,
      hasNextPage: true,
      startCursor: encodeCursor(0),
      endCursor: encodeCursor(9),
    })
    assert.deepEqual(
      page.edges.map((e) => e.cursor),
      items.slice(0, 10).map((_, i) => encodeCursor(i)),
    )
  })

  it('first + after pages through everything; the default page ignores after, as in Vector', () => {
    const one = paginate(items, {first: 5})
    const two = paginate(items, {first: 5, after: one.pageInfo.endCursor})
    const three = paginate(items, {first: 5, after: two.pageInfo.endCursor})
    assert.deepEqual([...one.nodes, ...two.nodes, ...three.nodes], items)
    assert.equal(three.pageInfo.hasNextPage, false)
    assert.equal(two.pageInfo.hasPreviousPage, true)
    assert.equal(paginate(items, {after: encodeCursor(9)}).nodes.length, 0)
  })

  it('last and before slice from the end; first+last and negatives are errors', () => {
    assert.deepEqual(paginate(items, {last: 2}).nodes, ['c11', 'c12'])
    assert.deepEqual(paginate(items, {last: 2, before: encodeCursor(5)}).nodes, ['c03', 'c04'])
    assert.throws(() => paginate(items, {first: 1, last: 1}), /cannot exist at the same time/)
    assert.throws(() => paginate(items, {first: -1}), /non-negative/)
    assert.throws(() => paginate(items, {after: 'zz!'}), /Invalid cursor/)
    const empty = paginate([], {first: 5})
    assert.deepEqual(empty.pageInfo, {hasPreviousPage: false, hasNextPage: false, startCursor: null, endCursor: null})
  })
})
