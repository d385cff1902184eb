// The registration lifecycle: register (with backoff until Nacos answers), heartbeat on our own
// schedule, re-register when Nacos forgets the instance, deregister. Every state change is logged
// once; repeated failures of the same kind are counted, not logged again.
import { createRequire } from 'node:module'
import type { FastifyBaseLogger } from 'fastify'
import { heartbeatTimeoutMs, type NacosConfig } from './config.js'
import { detectIp } from './ip.js'
import { backoffDelay } from './backoff.js'
import { BEAT_INSTANCE_NOT_FOUND, type InstanceSpec, type NamingTransport } from './sdk.js'
import { NotListeningError, RegistrationDisabledError, RegistrationFailedError } from './errors.js'

const pkg = createRequire(import.meta.url)('../package.json') as { name: string, version: string }
export const PLUGIN_VERSION = `${pkg.name}@${pkg.version}`

export type RegistrationState = 'idle' | 'registering' | 'registered' | 'retrying' | 'deregistered'

export interface RegistryStatus {
  state: RegistrationState
  /** The instance as registered (or about to be); null before the server listens. */
  instance: InstanceSpec | null
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
  config: NacosConfig
  log: FastifyBaseLogger
}

function message (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

export class Registry {
  readonly #transport: NamingTransport
  readonly #config: NacosConfig
  readonly #log: FastifyBaseLogger
  #state: RegistrationState = 'idle'
  #instance: InstanceSpec | null = null
  #registeredAt: Date | null = null
  #lastBeatAt: Date | null = null
  #lastError: string | null = null
  readonly #counts = { registrations: 0, deregistrations: 0, beats: 0, failedBeats: 0, failedRegistrations: 0, reRegistrations: 0 }
  #attempt: Promise<void> | null = null
  #deregistering: Promise<void> | null = null
  #retryLoop: Promise<void> | null = null
  #timer: NodeJS.Timeout | null = null
  #wake: (() => void) | null = null
  /** Bumped by deregister/close: loops started under an older epoch stop. */
  #epoch = 0
  #closed = false

  constructor (options: RegistryOptions) {
    this.#transport = options.transport
    this.#config = options.config
    this.#log = options.log
  }

  /** Fixes the address to advertise; called once the server listens. */
  listening (boundPort: number): void {
    const c = this.#config
    this.#instance = {
      serviceName: c.serviceName,
      groupName: c.group,
      ip: c.ip ?? detectIp({ preferredInterfaces: c.preferredInterfaces, preferredNetworks: c.preferredNetworks }),
      port: c.port ?? boundPort,
      clusterName: c.clusterName,
      weight: c.weight,
      ephemeral: c.ephemeral,
      enabled: true,
      metadata: {
        ...c.metadata,
        'preserved.heart.beat.interval': String(c.heartbeatIntervalMs),
        'preserved.heart.beat.timeout': String(heartbeatTimeoutMs(c)),
        'preserved.ip.delete.timeout': String(c.deregisterTimeMs),
        'fastify-nacos.version': PLUGIN_VERSION,
        'node.version': process.version,
        'start.time': new Date().toISOString()
      }
    }
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
  }

  /** Background registration: retries with exponential backoff and jitter until it succeeds. */
  start (): void {
    if (!this.#config.registerEnabled) {
      this.#log.info({ service: this.#config.serviceName }, 'nacos registration disabled')
      return
    }
    this.#ensureLoop()
  }

  #ensureLoop (): void {
    if (this.#retryLoop !== null || this.#closed) return
    const epoch = this.#epoch
    this.#retryLoop = (async () => {
      for (let attempt = 0; epoch === this.#epoch && this.#state !== 'registered'; attempt++) {
        try {
          await this.#registerOnce(epoch)
        } catch {
          if (epoch !== this.#epoch) break
          const delay = backoffDelay(attempt, 500, 10_000)
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
    if (epoch !== this.#epoch) return
    this.#counts.registrations++
    this.#registeredAt = new Date()
    this.#lastError = null
    this.#setState('registered', 'info', 'nacos registered')
    this.#scheduleBeat(epoch)
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
      throw new RegistrationFailedError(this.#instance.serviceName, message(err))
    }
    return this.status()
  }

  #scheduleBeat (epoch: number): void {
    this.#clearTimer()
    if (!this.#config.ephemeral) return
    this.#timer = setTimeout(() => { void this.#beat(epoch) }, this.#config.heartbeatIntervalMs)
    // The HTTP server keeps the process alive; our heartbeat must not.
    this.#timer.unref()
  }

  async #beat (epoch: number): Promise<void> {
    const instance = this.#instance
    if (instance === null || epoch !== this.#epoch) return
    try {
      const answer = await this.#transport.beat(instance)
      if (epoch !== this.#epoch) return
      this.#counts.beats++
      this.#lastBeatAt = new Date()
      if (answer.code === BEAT_INSTANCE_NOT_FOUND) {
        // Nacos restarted or expired us: register again at once, metadata and all.
        this.#counts.reRegistrations++
        this.#setState('registering', 'warn', 'nacos no longer knows this instance; registering again')
        try {
          await this.#registerOnce(epoch)
          return
        } catch {
          this.#setState('retrying', 'warn', 'nacos re-registration failed; retrying', { err: this.#lastError })
        }
      } else {
        this.#lastError = null
        this.#setState('registered', 'info', 'nacos heartbeats answered again')
      }
    } catch (err) {
      if (epoch !== this.#epoch) return
      this.#counts.failedBeats++
      this.#lastError = message(err)
      this.#setState('retrying', 'warn', 'nacos heartbeat failed; will keep beating', { err: this.#lastError })
    }
    // Failed beats keep the beat cadence (not backoff) so recovery takes at most one interval.
    this.#scheduleBeat(epoch)
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
    this.#clearTimer()
    this.#wake?.()
    const wasUp = this.#state !== 'idle' && this.#state !== 'deregistered'
    // Let an attempt already on the wire land first, or we could deregister before it registers.
    await this.#attempt?.catch(() => {})
    if (!wasUp || this.#instance === null) return
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

  #clearTimer (): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
  }

  /** Stops every timer and loop (after deregister, on app close). */
  close (): void {
    this.#closed = true
    this.#epoch++
    this.#clearTimer()
    this.#wake?.()
  }
}
