// What this app watches in the config center, as Spring Cloud's NacosRefreshHistory shows it: each
// watched config with when it last changed, and a bounded history of recent changes. Names and
// times only, never content. Always on (it costs a map entry per watched config).
import type { Observer } from './events.js'

/** Changes kept in the history, newest first. */
export const HISTORY_SIZE = 20

export interface WatchedConfig {
  dataId: string
  group: string
  /** Listeners on it now. */
  listeners: number
  lastChangeAt: string | null
  changes: number
}

export class Watches {
  readonly #configs = new Map<string, WatchedConfig>()
  readonly #history: Array<{ dataId: string, group: string, at: string }> = []
  readonly #now: () => Date

  constructor (now: () => Date = () => new Date()) {
    this.#now = now
  }

  /** The part of the observer it listens to. */
  readonly observer: Pick<Observer, 'listening' | 'configChanged'> = {
    listening: (dataId, group, delta) => {
      const key = `${group}@@${dataId}`
      const entry = this.#configs.get(key) ?? { dataId, group, listeners: 0, lastChangeAt: null, changes: 0 }
      entry.listeners += delta
      if (entry.listeners <= 0) this.#configs.delete(key)
      else this.#configs.set(key, entry)
    },
    configChanged: (dataId, group) => {
      const at = this.#now().toISOString()
      const entry = this.#configs.get(`${group}@@${dataId}`)
      if (entry !== undefined) {
        entry.lastChangeAt = at
        entry.changes++
      }
      this.#history.unshift({ dataId, group, at })
      this.#history.length = Math.min(this.#history.length, HISTORY_SIZE)
    }
  }

  configs (): WatchedConfig[] { return [...this.#configs.values()].map((c) => ({ ...c })) }
  history (): Array<{ dataId: string, group: string, at: string }> { return this.#history.map((h) => ({ ...h })) }
}
