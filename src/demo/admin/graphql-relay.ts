/**
 * Relay connections exactly as Vector <= 0.54 pages them (src/api/schema/relay.rs
 * on top of async-graphql's `connection::query`): index cursors encoded as
 * unpadded base64url of `Cursor:<index>`, and a default page of 10 nodes when
 * `first`/`last` are absent. Clients that forget `first` see only 10
 * components, which is the trap vdiag's client must avoid; the demo keeps it.
 */

/** Vector's page size when neither `first` nor `last` is given. */
export const DEFAULT_PAGE_SIZE = 10

export interface PageArgs {
  after?: string | null
  before?: string | null
  first?: number | null
  last?: number | null
}

export interface Edge<T> {
  cursor: string
  node: T
}

export interface Connection<T> {
  pageInfo: {hasPreviousPage: boolean; hasNextPage: boolean; startCursor: string | null; endCursor: string | null}
  edges: Edge<T>[]
  nodes: T[]
  totalCount: number
}

export function encodeCursor(index: number): string {
  return Buffer.from(`Cursor:${index}`, 'utf8').toString('base64url')
}

/** Node's base64url decoder skips junk silently; Vector's rejects it, so check the alphabet first. */
export function decodeCursor(cursor: string): number {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor) || cursor.length % 4 === 1) throw new Error('Invalid cursor')
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  const last = text.slice(text.lastIndexOf(':') + 1)
  if (!/^\d+$/.test(last)) throw new Error('Invalid cursor')
  const index = Number(last)
  if (!Number.isSafeInteger(index)) throw new Error('Invalid cursor')
  return index
}

/** Throws (message as async-graphql words it) on invalid arguments; the field then errors. */
export function paginate<T>(items: readonly T[], args: PageArgs): Connection<T> {
  const first = args.first ?? undefined
  const last = args.last ?? undefined
  if (first !== undefined && last !== undefined) {
    throw new Error('The "first" and "last" parameters cannot exist at the same time')
  }
  if (first !== undefined && first < 0) throw new Error('The "first" parameter must be a non-negative number')
  if (last !== undefined && last < 0) throw new Error('The "last" parameter must be a non-negative number')
  const len = items.length
  const after = args.after != null ? decodeCursor(args.after) + 1 : 0
  const before = args.before != null ? decodeCursor(args.before) : len

  let start: number
  let end: number
  if (first !== undefined) [start, end] = [after, Math.min(after + first, before)]
  else if (last !== undefined) [start, end] = [Math.max(before - last, after), before]
  // Vector's default page ignores `after`: the end is 10, not after + 10.
  else [start, end] = [after, Math.min(DEFAULT_PAGE_SIZE, before)]

  const edges: Edge<T>[] = []
  for (let i = start; i < Math.min(end, len); i++) edges.push({cursor: encodeCursor(i), node: items[i]!})
  return {
    pageInfo: {
      hasPreviousPage: start > 0,
      hasNextPage: end < len,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    edges,
    nodes: edges.map((e) => e.node),
    totalCount: len,
  }
}
