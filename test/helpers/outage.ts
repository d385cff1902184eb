// One outage of a private Nacos shared by several scenarios that run at the same time
// (test/acceptance/outage.test.ts): Nacos is stopped once every scenario is ready for it, and started again
// once every scenario is done with it down. A JVM start costs more CPU than anything else in these
// tests, so one stop and one start serve them all.
import { publishConfig } from './nacos-api.ts'
import { startNacos, stopNacos } from './private-nacos.ts'

/** A scenario's part in the outage. */
export interface OutageParty {
  /** The private server, `127.0.0.1:<port>`. */
  addr: string
  port: number
  /** Ready for the outage: resolves once every scenario is, and Nacos is stopped. */
  down: () => Promise<void>
  /** Done with Nacos down: resolves once every scenario is, with the moment Nacos was ready again. */
  up: () => Promise<number>
  /**
   * Publishes a config through Nacos's HTTP API, one at a time over all scenarios. (Two at once
   * into a new embedded Derby failed here on a lock; scripts/nacos.sh now primes a new database,
   * see prime_config.)
   */
  publish: (dataId: string, content: string) => Promise<void>
}

interface Deferred<T> { promise: Promise<T>, resolve: (value: T) => void, reject: (err: unknown) => void }
function deferred<T> (): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (err: unknown) => void
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
  // A scenario that fails before it waits must not leave an unhandled rejection behind.
  promise.catch(() => undefined)
  return { promise, resolve, reject }
}

/** Where each scenario is: before the outage, waiting for it or in it, waiting for the start, done. */
const Stage = { Before: 0, Down: 1, Up: 2, Done: 3 } as const
type Stage = typeof Stage[keyof typeof Stage]

export class SharedOutage {
  readonly addr: string
  readonly #port: number
  readonly #parties: number
  readonly #stages: Stage[] = []
  readonly #stopped = deferred<void>()
  readonly #started = deferred<number>()
  #stopping = false
  #isDown = false
  #starting = false
  #publishing: Promise<unknown> = Promise.resolve()

  /** `parties`: how many scenarios will join; nothing happens before all have. */
  constructor (port: number, parties: number) {
    this.#port = port
    this.#parties = parties
    this.addr = `127.0.0.1:${port}`
  }

  /** A scenario joins; it must call `leave` when it ends, failed or not, so that it holds nobody up. */
  join (): OutageParty & { leave: () => void } {
    const i = this.#stages.push(Stage.Before) - 1
    const reach = (stage: Stage): void => {
      this.#stages[i] = Math.max(this.#stages[i] as Stage, stage) as Stage
      this.#advance()
    }
    return {
      addr: this.addr,
      port: this.#port,
      down: async () => { reach(Stage.Down); await this.#stopped.promise },
      up: async () => { reach(Stage.Up); return await this.#started.promise },
      publish: async (dataId, content) => await this.#publish(dataId, content),
      leave: () => { reach(Stage.Done) }
    }
  }

  #advance (): void {
    if (this.#stages.length < this.#parties) return
    if (!this.#stopping && this.#stages.every((s) => s >= Stage.Down)) {
      this.#stopping = true
      stopNacos(this.#port).then(() => {
        this.#isDown = true
        this.#stopped.resolve()
        this.#advance()
      }, this.#stopped.reject)
    }
    if (this.#isDown && !this.#starting && this.#stages.every((s) => s >= Stage.Up)) {
      this.#starting = true
      startNacos(this.#port).then(() => { this.#started.resolve(Date.now()) }, this.#started.reject)
    }
  }

  async #publish (dataId: string, content: string): Promise<void> {
    const mine = this.#publishing.then(async () => { await publishConfig(dataId, content, { addr: this.addr }) })
    this.#publishing = mine.catch(() => undefined)
    await mine
  }
}
