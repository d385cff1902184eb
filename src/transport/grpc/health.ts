// Keeping a connection honest, as the Java client does: a HealthCheckRequest after `idleMs`
// without traffic, and one after a request failed on the connection. An answer other than success,
// or no answer twice, condemns it (the connection then reconnects); a success keeps it.
import type * as grpc from '@grpc/grpc-js'
import { describeGrpcError, healthCheck, type Link, type LinkOptions } from './link.js'

export interface HealthOptions {
  /** A health check runs after this long without any traffic (Java client: 5 s). */
  idleMs: number
  link: LinkOptions
  calls: Set<grpc.ClientUnaryCall>
  /** The link in use now, if the connection is ready. */
  current: () => Link | undefined
  closed: () => boolean
  /** `link` failed its check: drop it and connect again. */
  condemn: (link: Link, reason: Error) => void
}

export class Health {
  readonly #opts: HealthOptions
  #lastActive = 0
  #checking = false
  #timer: NodeJS.Timeout | undefined

  constructor (opts: HealthOptions) {
    this.#opts = opts
  }

  start (): void {
    this.#timer ??= setInterval(() => { this.#tick() }, Math.min(1000, this.#opts.idleMs))
    this.#timer.unref()
  }

  stop (): void {
    clearInterval(this.#timer)
  }

  /** Traffic on the connection: it is alive now. */
  touch (): number {
    this.#lastActive = Date.now()
    return this.#lastActive
  }

  /** A request failed on `link`: keep it if it still passes a health check. */
  suspect (link: Link, reason: Error): void {
    if (this.#opts.current() !== link || this.#checking) return
    void this.#check(link, reason)
  }

  #tick (): void {
    const link = this.#opts.current()
    if (!link || this.#checking || Date.now() - this.#lastActive < this.#opts.idleMs) return
    void this.#check(link)
  }

  async #check (link: Link, reason?: Error): Promise<void> {
    this.#checking = true
    let problem = ''
    try {
      // Two tries for a timeout (a busy server), one for an answer: an answer is the verdict.
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          const health = await healthCheck(link, this.#opts.link, this.#opts.calls)
          if (health.ok) {
            this.touch()
            return
          }
          problem = `health check answered: ${health.problem}`
          break
        } catch (err) {
          problem = `health check failed: ${describeGrpcError(err)}`
          if (this.#opts.closed() || link.abandoned) return
        }
      }
    } finally {
      this.#checking = false
    }
    this.#opts.condemn(link, new Error(`${link.address}: ${problem}${reason ? ` (after: ${reason.message})` : ''}`))
  }
}
