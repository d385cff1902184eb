// The registration lifecycle: register (with backoff until Nacos answers), keep the instance
// alive through the transport, register again when the transport says Nacos lost it, deregister.
// The registry owns the states, the counters and the backoff; it never sees a beat or a status
// code. Every state change is logged once; repeated failures of the same kind are counted, not
// logged again.
import type { FastifyBaseLogger } from 'fastify'
import type { ResolvedSettings } from '../settings.js'
import { backoffDelay } from '../backoff.js'
import type { InstanceSpec, NamingTransport } from '../transport/types.js'
import { ClosedError, NotListeningError, RegistrationDisabledError, RegistrationFailedError } from '../errors.js'
import { advertisedInstance } from './instance.js'

/** The longest pause between two registration attempts (each drawn from 50-100 % of its ceiling). */
export const REGISTER_RETRY_MAX_MS = 5000

export type RegistrationState = 'idle' | 'registering' | 'registered' | 'retrying' | 'deregistered'

export interface RegistryStatus {
  state: RegistrationState
  /** The instance as registered (or about to be); null before the server listens. */
  instance: InstanceSpec | null
  /** When this instance last registered; null before, and once deregistered. */
  registeredAt: string | null
  lastBeatAt: string | null
  lastError: string | null
  counts: {
    registrations: number
    deregistrations: number
    beats: number
    failedBeats: number
    failedRegistrations: number
    reRegistrations: number
  }
}

export interface RegistryOptions {
  transport: NamingTransport
  config: Parameters<typeof advertisedInstance>[0] & Pick<ResolvedSettings, 'registerEnabled' | 'failFast'>
  log: FastifyBaseLogger
  /** Wait before registration attempt `attempt` (from 0) is repeated; default 0.5 s doubling to 5 s, with jitter. */
  retryDelay?: (attempt: number) => number
}

interface Waiter { resolve: (status: RegistryStatus) => void, reject: (err: Error) => void }

function message (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

export class Registry {
  readonly #transport: NamingTransport
  readonly #config: RegistryOptions['config']
  readonly #log: FastifyBaseLogger
  readonly #retryDelay: (attempt: number) => number
  #state: RegistrationState = 'idle'
  #instance: InstanceSpec | null = null
  #registeredAt: Date | null = null
  #lastBeatAt: Date | null = null
  #lastError: string | null = null
  readonly #counts = { registrations: 0, deregistrations: 0, beats: 0, failedBeats: 0, failedRegistrations: 0, reRegistrations: 0 }
  #attempt: Promise<void> | null = null
  #deregistering: Promise<void> | null = null
  #retryLoop: Promise<void> | null = null
  #stopKeepAlive: (() => void) | null = null
  #keepAliveToken: object | null = null
  #wake: (() => void) | null = null
  /** Bumped by deregister/close: loops started under an older epoch stop. */
  #epoch = 0
  #closed = false
  readonly #offConnected: () => void
  /** Callers of registered() until the instance is registered (or will not be). */
  readonly #waiting = new Set<Waiter>()
  /** failFast's verdict: the first registration failed, and no other is tried. */
  #gaveUp: Error | null = null

  constructor (options: RegistryOptions) {
    this.#transport = options.transport
    this.#config = options.config
    this.#log = options.log
    // Capped at 5 s as the Java client's reconnect: registered within 5 s of Nacos being back.
    this.#retryDelay = options.retryDelay ?? ((attempt) => backoffDelay(attempt, 500, REGISTER_RETRY_MAX_MS))
    // Nacos is reachable again: a registration waiting out its backoff is tried at once.
    this.#offConnected = this.#transport.onConnected(() => { if (this.#state === 'retrying') this.#wake?.() })
  }

  /** Fixes the address to advertise; called once the server listens (on `addresses`, when known). */
  listening (boundPort: number, addresses: readonly string[] = []): void {
    this.#instance = advertisedInstance(this.#config, boundPort, addresses, (obj, msg) => { this.#log.warn(obj, msg) })
  }

  status (): RegistryStatus {
    return {
      state: this.#state,
      instance: this.#instance === null ? null : { ...this.#instance, metadata: { ...this.#instance.metadata } },
      registeredAt: this.#registeredAt?.toISOString() ?? null,
      lastBeatAt: this.#lastBeatAt?.toISOString() ?? null,
      lastError: this.#lastError,
      counts: { ...this.#counts }
    }
  }

  #setState (state: RegistrationState, level: 'info' | 'warn', msg: string, extra: object = {}): void {
    if (this.#state === state) return
    this.#state = state
    const i = this.#instance
    this.#log[level]({ state, service: i?.serviceName, group: i?.groupName, ip: i?.ip, port: i?.port, ...extra }, msg)
    if (state === 'registered') this.#settle((w) => { w.resolve(this.status()) })
  }

  #settle (fn: (waiter: Waiter) => void): void {
    for (const waiter of this.#waiting) fn(waiter)
    this.#waiting.clear()
  }

  /**
   * Resolves once the instance is registered (at once when it is). Rejects when it will not be:
   * registration disabled, the first registration failed under failFast, or closed first.
   */
  async registered (): Promise<RegistryStatus> {
    if (!this.#config.registerEnabled) throw new RegistrationDisabledError()
    if (this.#gaveUp !== null) throw this.#gaveUp
    if (this.#closed) throw new ClosedError('registry')
    if (this.#state === 'registered') return this.status()
    return await new Promise((resolve, reject) => { this.#waiting.add({ resolve, reject }) })
  }

  /** Background registration: retries with exponential backoff and jitter until it succeeds. */
  start (): void {
    if (!this.#config.registerEnabled) {
      this.#log.info({ service: this.#config.serviceName }, 'nacos registration disabled')
      return
    }
    // failFast (as Spring Cloud's fail-fast): the first registration is tried once, not retried.
    this.#ensureLoop(this.#config.failFast)
  }

  #ensureLoop (failFast = false): void {
    if (this.#retryLoop !== null || this.#closed) return
    const epoch = this.#epoch
    this.#retryLoop = (async () => {
      for (let attempt = 0; epoch === this.#epoch && this.#state !== 'registered'; attempt++) {
        try {
          await this.#registerOnce(epoch)
        } catch (err) {
          if (epoch !== this.#epoch) break
          if (failFast && this.#counts.registrations === 0) {
            this.#gaveUp = new RegistrationFailedError(this.#config.serviceName, message(err), { cause: err })
            this.#settle((w) => { w.reject(this.#gaveUp as Error) })
            break
          }
          const delay = this.#retryDelay(attempt)
          this.#setState('retrying', 'warn', 'nacos registration failed; retrying with backoff', { err: this.#lastError, nextAttemptMs: delay })
          await this.#sleep(delay)
        }
      }
    })().finally(() => { this.#retryLoop = null })
  }

  /** One registration attempt, shared by concurrent callers. */
  #registerOnce (epoch: number): Promise<void> {
    if (this.#attempt === null) {
      this.#attempt = this.#doRegister(epoch).finally(() => { this.#attempt = null })
    }
    return this.#attempt
  }

  async #doRegister (epoch: number): Promise<void> {
    const instance = this.#instance
    if (instance === null) throw new NotListeningError()
    if (this.#state !== 'retrying') this.#setState('registering', 'info', 'nacos registering')
    try {
      await this.#transport.register(instance)
    } catch (err) {
      this.#counts.failedRegistrations++
      this.#lastError = message(err)
      throw err
    }
    // Nacos accepted it, even if a deregistration has since been asked for (it follows this one).
    this.#counts.registrations++
    if (epoch !== this.#epoch) return
    this.#registeredAt = new Date()
    this.#lastError = null
    this.#setState('registered', 'info', 'nacos registered')
    this.#keepAlive(instance, epoch)
  }

  /** Registers now. Resolves once registered; rejects if this attempt fails (retries go on in the background). */
  async register (): Promise<RegistryStatus> {
    if (!this.#config.registerEnabled) throw new RegistrationDisabledError()
    if (this.#instance === null) throw new NotListeningError()
    if (this.#deregistering !== null) await this.#deregistering
    if (this.#state === 'registered') return this.status()
    try {
      await this.#registerOnce(this.#epoch)
    } catch (err) {
      this.#ensureLoop()
      throw new RegistrationFailedError(this.#instance.serviceName, message(err), { cause: err })
    }
    return this.status()
  }

  /** Hands the instance to the transport's keep-alive; its events drive the state and the counters. */
  #keepAlive (instance: InstanceSpec, epoch: number): void {
    this.#stopKeepAlive?.()
    // Only the latest keep-alive speaks, even if a transport lets a stopped one fire once more.
    const token = {}
    this.#keepAliveToken = token
    const current = (): boolean => epoch === this.#epoch && this.#keepAliveToken === token
    this.#stopKeepAlive = this.#transport.keepAlive(instance, {
      alive: () => {
        if (!current()) return
        this.#counts.beats++
        this.#lastBeatAt = new Date()
        this.#lastError = null
        this.#setState('registered', 'info', 'nacos heartbeats answered again')
      },
      lost: () => {
        if (!current()) return
        // An answer too: Nacos restarted or expired us. Register again at once, metadata and all.
        this.#counts.beats++
        this.#lastBeatAt = new Date()
        this.#counts.reRegistrations++
        this.#setState('registering', 'warn', 'nacos no longer knows this instance; registering again')
        this.#registerOnce(epoch).catch(() => {
          if (current()) this.#setState('retrying', 'warn', 'nacos re-registration failed; retrying', { err: this.#lastError })
        })
      },
      failed: (err) => {
        if (!current()) return
        this.#counts.failedBeats++
        this.#lastError = message(err)
        this.#setState('retrying', 'warn', 'nacos heartbeat failed; will keep beating', { err: this.#lastError })
      },
      registeredAgain: () => {
        if (!current()) return
        this.#counts.reRegistrations++
        this.#registeredAt = new Date()
        this.#lastError = null
        this.#setState('registered', 'info', 'nacos registered again')
      }
    })
  }

  /** Deregisters and stops heartbeats. Idempotent; concurrent callers share one request. */
  async deregister (): Promise<RegistryStatus> {
    if (this.#deregistering === null) {
      this.#deregistering = this.#doDeregister().finally(() => { this.#deregistering = null })
    }
    await this.#deregistering
    return this.status()
  }

  async #doDeregister (): Promise<void> {
    this.#epoch++
    this.#clearKeepAlive()
    this.#wake?.()
    const wasUp = this.#state !== 'idle' && this.#state !== 'deregistered'
    // Let an attempt already on the wire land first, or we could deregister before it registers.
    await this.#attempt?.catch(() => {})
    if (!wasUp || this.#instance === null) return
    // Not registered any more: /health tells an outage (registeredAt set) from this.
    this.#registeredAt = null
    try {
      await this.#transport.deregister(this.#instance)
      this.#counts.deregistrations++
      this.#setState('deregistered', 'info', 'nacos deregistered')
    } catch (err) {
      this.#lastError = message(err)
      this.#setState('deregistered', 'warn', 'nacos deregistration failed; the instance expires after NACOS_DEREGISTER_TIME', { err: this.#lastError })
    }
  }

  #sleep (ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      timer.unref()
      function done (): void { clearTimeout(timer); resolve() }
      this.#wake = done
    })
  }

  #clearKeepAlive (): void {
    this.#stopKeepAlive?.()
    this.#stopKeepAlive = null
    this.#keepAliveToken = null
  }

  /** Stops every timer and loop (after deregister, on app close). */
  close (): void {
    this.#closed = true
    this.#settle((w) => { w.reject(new ClosedError('registry')) })
    this.#offConnected()
    this.#epoch++
    this.#clearKeepAlive()
    this.#wake?.()
  }
}
