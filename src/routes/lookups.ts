// The services the monitoring API has looked up: each one is cached and subscribed in discovery,
// so their number is bounded. The least recently looked-up one makes room for a new one (and its
// subscription ends), once it has gone a minute without a lookup: a caller churning names cannot
// make the plugin subscribe and unsubscribe at request rate, nor lock out later lookups for good.

/** Distinct services the API follows at most. */
export const MAX_LOOKUPS = 256
/** A service is made room for only after this long without a lookup, ms. */
export const LOOKUP_IDLE_MS = 60_000

export class LookedUp<T> {
  readonly #limit: number
  readonly #idleMs: number
  readonly #now: () => number
  /** Least recently looked up first (a lookup moves its service to the end). */
  readonly #last = new Map<string, { value: T, at: number }>()

  constructor (limit = MAX_LOOKUPS, idleMs = LOOKUP_IDLE_MS, now: () => number = () => Date.now()) {
    this.#limit = limit
    this.#idleMs = idleMs
    this.#now = now
  }

  get size (): number { return this.#last.size }

  /**
   * Records a lookup of `key`. Returns false when the service is new and every followed one was
   * looked up within the idle time (no room); else true, after `evict` was called with the value
   * of the service that made room, if one had to.
   */
  admit (key: string, value: T, evict: (value: T) => void): boolean {
    const now = this.#now()
    const known = this.#last.get(key)
    if (known === undefined && this.#last.size >= this.#limit) {
      const [oldestKey, oldest] = this.#last.entries().next().value as [string, { value: T, at: number }]
      if (now - oldest.at < this.#idleMs) return false
      this.#last.delete(oldestKey)
      evict(oldest.value)
    }
    this.#last.delete(key)
    this.#last.set(key, { value: known?.value ?? value, at: now })
    return true
  }
}
