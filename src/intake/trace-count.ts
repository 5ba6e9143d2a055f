/**
 * Counts distinct trace ids (their low 64 bits) in 8 bytes per trace:
 * an open-addressing set over a Uint32Array, since a JS Set of ids costs
 * ~60 bytes per entry and a capture may hold a million single-span traces.
 * Chunks of one trace arrive in several payloads (partial flush), so
 * counting chunks would over-count.
 */

const INITIAL_SLOTS = 1024

export class TraceIdSet {
  private slots = new Uint32Array(INITIAL_SLOTS * 2)
  private mask = INITIAL_SLOTS - 1
  private hasZero = false
  size = 0

  /** Adds the id; true when it was not there yet. */
  add(id: bigint | number | null): boolean {
    let lo: number
    let hi: number
    if (typeof id === 'bigint') {
      const u = BigInt.asUintN(64, id)
      lo = Number(u & 0xffffffffn)
      hi = Number(u >> 32n)
    } else if (id == null) {
      lo = hi = 0
    } else if (id >= 0) {
      lo = id >>> 0
      hi = Math.floor(id / 0x100000000) >>> 0
    } else {
      return this.add(BigInt(id))
    }
    if (lo === 0 && hi === 0) {
      if (this.hasZero) return false
      this.hasZero = true
      this.size++
      return true
    }
    if (!this.insert(lo, hi)) return false
    this.size++
    // keep the load under one half so probes stay short
    if (this.size * 2 > this.mask + 1) this.grow()
    return true
  }

  private insert(lo: number, hi: number): boolean {
    const slots = this.slots
    let i = hash(lo, hi) & this.mask
    for (;;) {
      const a = slots[2 * i]
      const b = slots[2 * i + 1]
      if (a === 0 && b === 0) {
        slots[2 * i] = lo
        slots[2 * i + 1] = hi
        return true
      }
      if (a === lo && b === hi) return false
      i = (i + 1) & this.mask
    }
  }

  private grow(): void {
    const old = this.slots
    this.slots = new Uint32Array(old.length * 2)
    this.mask = old.length - 1
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0 || old[i + 1] !== 0) this.insert(old[i], old[i + 1])
  }
}

function hash(lo: number, hi: number): number {
  let h = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1)
  h ^= h >>> 15
  return h >>> 0
}
