// Passive outlier ejection: an instance that fails `failures` times in a row is skipped for a
// while, each new ejection of the same instance longer (backoff), and comes back by itself once
// the time is up: the next request is its trial, a success forgives it, a failure ejects it again.
//
// The records are bounded: instances come and go (pods replaced), and one that failed and then
// left would never answer again to be forgiven. A record is forgotten once `maxMs` have passed
// since its last failure and since its ejection ended (no later failure to build on: the next one
// starts afresh), and beyond MAX_RECORDS the one that failed longest ago goes first.
import { backoffDelay } from '../backoff.js'

export interface EjectionOptions {
  /** Consecutive failures that eject an instance (default 3). */
  failures?: number
  /** First ejection, ms (default 1000); each following one doubles, up to `maxMs`. */
  baseMs?: number
  /** Longest ejection, ms (default 30000). */
  maxMs?: number
}

/** Instances with a failure on record at most; far more than one app calls (each record is ~100 bytes). */
export const MAX_RECORDS = 4096

interface Record {
  consecutive: number
  ejections: number
  until: number
  last: number
}

export class Outliers {
  readonly #failures: number
  readonly #baseMs: number
  readonly #maxMs: number
  readonly #now: () => number
  readonly #maxRecords: number
  /** In the order of their last failure, oldest first (a failure moves its record to the end). */
  readonly #records = new Map<string, Record>()
  #nextSweep = 0

  constructor (options: EjectionOptions = {}, now: () => number = Date.now, maxRecords = MAX_RECORDS) {
    this.#failures = options.failures ?? 3
    this.#baseMs = options.baseMs ?? 1000
    this.#maxMs = options.maxMs ?? 30_000
    this.#now = now
    this.#maxRecords = maxRecords
  }

  /** Instances with a record (failed since their last success, not forgotten yet). */
  get size (): number { return this.#records.size }

  /** Whether `key` (`ip:port`) is skipped right now. */
  ejected (key: string): boolean {
    const record = this.#records.get(key)
    return record !== undefined && record.until > this.#now()
  }

  /** ejected(), bound: handed to each selection without a closure per request. */
  readonly isEjected = (key: string): boolean => this.ejected(key)

  /** Counts a failure; returns the ejection's length in ms when this failure ejects the instance, else 0. */
  failure (key: string): number {
    const now = this.#now()
    this.#sweep(now)
    let record = this.#records.get(key)
    if (record !== undefined && this.#stale(record, now)) record = undefined
    this.#records.delete(key)
    record ??= { consecutive: 0, ejections: 0, until: 0, last: now }
    record.last = now
    this.#records.set(key, record)
    if (this.#records.size > this.#maxRecords) this.#records.delete(this.#records.keys().next().value as string)
    record.consecutive++
    // Requests already in flight to an ejected instance do not lengthen its ejection.
    if (record.consecutive < this.#failures || record.until > now) return 0
    const ms = backoffDelay(record.ejections, this.#baseMs, this.#maxMs)
    record.ejections++
    record.until = now + ms
    return ms
  }

  /** An answer from the instance: it is forgiven. */
  success (key: string): void {
    if (this.#records.size > 0) this.#records.delete(key)
  }

  #stale (record: Record, now: number): boolean {
    return now - Math.max(record.last, record.until) >= this.#maxMs
  }

  /** At most once per `maxMs`, so a failure costs O(1) amortized. */
  #sweep (now: number): void {
    if (now < this.#nextSweep) return
    this.#nextSweep = now + this.#maxMs
    for (const [key, record] of this.#records) if (this.#stale(record, now)) this.#records.delete(key)
  }
}
