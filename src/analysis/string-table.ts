/**
 * Interns strings to small integers so per-span columns hold numbers. Past
 * `cap` distinct values every new string maps to one overflow entry: a hostile
 * or pathological bundle (a unique stage name per span) must not grow the
 * table with the number of spans.
 */
export class StringTable {
  readonly values: string[] = []
  private readonly ids = new Map<string, number>()
  private overflowId = -1

  constructor(
    private readonly cap: number,
    private readonly overflowLabel: string,
  ) {}

  intern(s: string): number {
    const id = this.ids.get(s)
    if (id !== undefined) return id
    if (this.values.length >= this.cap) {
      if (this.overflowId === -1) {
        this.overflowId = this.values.length
        this.values.push(this.overflowLabel)
      }
      return this.overflowId
    }
    const next = this.values.length
    this.ids.set(s, next)
    this.values.push(s)
    return next
  }

  get size(): number {
    return this.values.length
  }

  /** True when some values were folded into the overflow entry. */
  get overflowed(): boolean {
    return this.overflowId !== -1
  }
}
