// Naming over HTTP: registration and queries through the SDK's server proxy (its server-list
// failover and request signing), pushes through its UDP receiver, and our own beat loop. Nacos's
// beat answer stays here: code 20404 becomes `lost()`, anything else `alive()`.
import { authority, baseUrl, type NacosServer } from '../../server-addr.js'
import type { InstanceSpec, KeepAliveEvents, NamingTransport, ServiceRef, ServiceSnapshot } from '../types.js'
import { groupedName } from '../../naming/names.js'
import type { NacosHttpClient } from './http-client.js'
import type { PushListener, RepairedNaming } from './sdk-repairs.js'

/** Beat answer: 10200 ok; 20404 the server no longer knows the instance. */
interface BeatAnswer { code: number }
const BEAT_INSTANCE_NOT_FOUND = 20404

export interface HttpNamingOptions {
  /** The repaired SDK client, created on first use (it opens a UDP socket). */
  sdk: () => RepairedNaming
  http: NacosHttpClient
  serverAddr: readonly NacosServer[]
  heartbeatIntervalMs: number
}

/** The key the SDK emits pushes under: `group@@service`, then `@@clusters` when some are given. */
function pushKey (ref: ServiceRef): string {
  const grouped = groupedName(ref.service, ref.group)
  return ref.clusters.length > 0 ? `${grouped}@@${ref.clusters.join(',')}` : grouped
}

export class HttpNaming implements NamingTransport {
  // UDP pushes are lost behind NAT and in many containers: re-read often.
  readonly refreshIntervalMs = 5000
  // No connection to come back: a server that a request could not reach answering again is the signal.
  onConnected = (fn: () => void): (() => void) => this.#http.onServerBack(fn)
  readonly #sdk: () => RepairedNaming
  readonly #http: NacosHttpClient
  readonly #serverAddr: readonly NacosServer[]
  readonly #interval: number
  readonly #loops = new Set<() => void>()

  constructor (options: HttpNamingOptions) {
    this.#sdk = options.sdk
    this.#http = options.http
    this.#serverAddr = options.serverAddr
    this.#interval = options.heartbeatIntervalMs
  }

  register = async (spec: InstanceSpec): Promise<void> => {
    await this.#sdk().registerService(groupedName(spec.serviceName, spec.groupName), spec.groupName, {
      ip: spec.ip,
      port: spec.port,
      weight: spec.weight,
      enabled: spec.enabled,
      healthy: true,
      ephemeral: spec.ephemeral,
      clusterName: spec.clusterName,
      metadata: spec.metadata
    })
  }

  deregister = async (spec: InstanceSpec): Promise<void> => {
    await this.#sdk().deregisterService(groupedName(spec.serviceName, spec.groupName), {
      ip: spec.ip,
      port: spec.port,
      clusterName: spec.clusterName,
      ephemeral: spec.ephemeral
    })
  }

  /**
   * A light beat (ip, port, cluster): Nacos answers 20404 when it no longer knows the instance,
   * instead of silently re-creating it from the beat without our metadata.
   */
  async #beat (spec: InstanceSpec): Promise<BeatAnswer> {
    const text = await this.#sdk().request('/nacos/v1/ns/instance/beat', {
      serviceName: groupedName(spec.serviceName, spec.groupName),
      groupName: spec.groupName,
      ip: spec.ip,
      port: String(spec.port),
      clusterName: spec.clusterName
    }, 'PUT')
    return JSON.parse(text) as BeatAnswer
  }

  /**
   * Beats every heartbeat interval (persistent instances need none). Failed beats keep the beat
   * cadence, not a backoff, so recovery takes at most one interval; sooner when another request
   * finds a server back (the next beat goes at once, and a restarted Nacos answers it 20404).
   */
  keepAlive = (spec: InstanceSpec, events: KeepAliveEvents): (() => void) => {
    if (!spec.ephemeral) return () => {}
    let timer: NodeJS.Timeout | undefined
    let stopped = false
    let failing = false
    const schedule = (): void => {
      if (stopped) return
      timer = setTimeout(() => { timer = undefined; void beat() }, this.#interval)
      // The HTTP server keeps the process alive; our heartbeat must not.
      timer.unref()
    }
    const beat = async (): Promise<void> => {
      try {
        const answer = await this.#beat(spec)
        failing = false
        if (stopped) return
        if (answer.code === BEAT_INSTANCE_NOT_FOUND) events.lost()
        else events.alive()
      } catch (err) {
        failing = true
        if (stopped) return
        events.failed(err as Error)
      }
      schedule()
    }
    // Only a beat that waits out its interval after a failure is brought forward (never one in flight).
    const offBack = this.#http.onServerBack(() => {
      if (!failing || timer === undefined) return
      clearTimeout(timer)
      timer = undefined
      void beat()
    })
    const stop = (): void => {
      stopped = true
      clearTimeout(timer)
      offBack()
      this.#loops.delete(stop)
    }
    this.#loops.add(stop)
    schedule()
    return stop
  }

  /** Reads the list and, by passing our UDP port, asks Nacos to push its changes there. */
  query = async (ref: ServiceRef): Promise<ServiceSnapshot> => {
    const json = await this.#sdk().queryList(groupedName(ref.service, ref.group), ref.clusters.join(','))
    const data = JSON.parse(json) as { hosts?: ServiceSnapshot['hosts'], lastRefTime?: number }
    return { hosts: data.hosts ?? [], lastRefTime: data.lastRefTime ?? Date.now() }
  }

  /**
   * Pushes reach us for services read by `query` (Nacos keeps a UDP subscriber for a while after
   * each read; discovery re-reads every few seconds).
   */
  watch = (ref: ServiceRef, onChange: (snapshot: ServiceSnapshot) => void): (() => void) => {
    const key = pushKey(ref)
    const listener: PushListener = (hosts, info) => { onChange({ hosts, lastRefTime: info?.lastRefTime ?? Date.now() }) }
    this.#sdk().onPush(key, listener)
    return () => { this.#sdk().offPush(key, listener) }
  }

  probe = async (): Promise<void> => {
    const failures: string[] = []
    for (const target of this.#serverAddr) {
      const server = authority(target)
      try {
        // With credentials, a read that needs a token when the server enforces auth (the metrics
        // do not): a refused login fails the probe only on such a server.
        const path = this.#http.authenticated ? '/v1/ns/instance/list?serviceName=fastify-nacos-probe' : '/v1/ns/operator/metrics'
        const res = await this.#http.request(`${baseUrl(target)}${path}`)
        if (res.status === 200) return
        failures.push(`${server}: HTTP ${res.status}`)
      } catch (err) {
        failures.push(`${server}: ${(err as Error).message}`)
      }
    }
    throw new Error(failures.join('; '))
  }

  /** Stops every beat loop. */
  close (): void {
    for (const stop of [...this.#loops]) stop()
  }
}
