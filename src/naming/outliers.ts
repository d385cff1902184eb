// Passive outlier ejection: an instance that fails `failures` times in a row is skipped for a
// while, each new ejection of the same instance longer (backoff), and comes back by itself once
// the time is up: the next request is its trial, a success forgives it, a failure ejects it again.
import { backoffDelay } from '../backoff.js'

export interface EjectionOptions {
  /** Consecutive failures that eject an instance (default 3). */
  failures?: number
  /** First ejection, ms (default 1000); each following one doubles, up to `maxMs`. */
  baseMs?: number
  /** Longest ejection, ms (default 30000). */
  maxMs?: number
}

interface Record {
  consecutive: number
  ejections: number
  until: number
}

export class Outliers {
  readonly #failures: number
  readonly #baseMs: number
  readonly #maxMs: number
  readonly #now: () => number
  readonly #records = new Map<string, Record>()

  constructor (options: EjectionOptions = {}, now: () => number = Date.now) {
    this.#failures = options.failures ?? 3
    this.#baseMs = options.baseMs ?? 1000
    this.#maxMs = options.maxMs ?? 30_000
    this.#now = now
  }

  /** Whether `key` (`ip:port`) is skipped right now. */
  ejected (key: string): boolean {
    const record = this.#records.get(key)
    return record !== undefined && record.until > this.#now()
  }

  /** Counts a failure; returns the ejection's length in ms when this failure ejects the instance, else 0. */
  failure (key: string): number {
    let record = this.#records.get(key)
    if (record === undefined) {
      record = { consecutive: 0, ejections: 0, until: 0 }
      this.#records.set(key, record)
    }
    record.consecutive++
    // Requests already in flight to an ejected instance do not lengthen its ejection.
    if (record.consecutive < this.#failures || record.until > this.#now()) return 0
    const ms = backoffDelay(record.ejections, this.#baseMs, this.#maxMs)
    record.ejections++
    record.until = this.#now() + ms
    return ms
  }

  /** An answer from the instance: it is forgiven. */
  success (key: string): void {
    if (this.#records.size > 0) this.#records.delete(key)
  }
}
