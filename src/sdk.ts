// The one module that touches the `nacos` SDK's naming side. We keep the SDK as the transport
// where it is sound (server-list failover, request signing, subscriptions) and take over what it
// gets wrong (see README, "The nacos SDK's defects"):
// - its beat reactor starts a 10 s `sleep` loop in the constructor that `close()` never cancels,
//   and beats on the server's schedule, not ours: we stop it at birth and own the heartbeat;
// - it ignores beat answers (code 20404 after a Nacos restart): we read them;
// - `new Instance()` turns weight 0 into 1: we send our own instance fields.
import { createRequire } from 'node:module'
import type { NacosNamingClient as SdkNamingClient } from 'nacos'
import type { NacosHttpClient } from './http-client.js'
import type { Instance } from './balancer.js'

const require = createRequire(import.meta.url)
const { NacosNamingClient } = require('nacos') as typeof import('nacos')

export type NamingClient = SdkNamingClient

/** console-shaped logger the SDK expects; everything it says goes to our debug level. */
export interface SdkLogger {
  debug: (...args: unknown[]) => void
  info: (...args: unknown[]) => void
  warn: (...args: unknown[]) => void
  error: (...args: unknown[]) => void
  log: (...args: unknown[]) => void
}

export function sdkLogger (log: { debug: (...args: never[]) => void }): SdkLogger {
  const debug = (...args: unknown[]): void => {
    const [first, ...rest] = args
    if (first instanceof Error) {
      ;(log.debug as (obj: object, msg: string) => void)({ err: { message: first.message, name: first.name } }, 'nacos sdk')
    } else {
      ;(log.debug as (msg: string, ...a: unknown[]) => void)(`nacos sdk: ${String(first)}`, ...rest)
    }
  }
  return { debug, info: debug, warn: debug, error: debug, log: debug }
}

export interface NamingConnection {
  serverAddr: readonly string[]
  namespace: string
  httpclient: NacosHttpClient
  logger: SdkLogger
  accessKey?: string | undefined
  secretKey?: string | undefined
}

/** What we register: every field explicit, nothing defaulted by the SDK. */
export interface InstanceSpec {
  serviceName: string
  groupName: string
  ip: string
  port: number
  clusterName: string
  weight: number
  ephemeral: boolean
  enabled: boolean
  metadata: Record<string, string>
}

export interface BeatAnswer {
  /** 10200 ok; 20404 the server no longer knows the instance. */
  code: number
  clientBeatInterval?: number
  lightBeatEnabled?: boolean
}

export const BEAT_INSTANCE_NOT_FOUND = 20404

interface NamingProxy {
  registerService: (serviceName: string, groupName: string, instance: object) => Promise<string>
  deregisterService: (serviceName: string, instance: object) => Promise<string>
  _reqAPI: (api: string, params: Record<string, string>, method: string) => Promise<string>
}

interface SdkInternals {
  _serverProxy: NamingProxy
  _beatReactor: { _isClosed: boolean, _clientBeatInterval: number }
  close: () => Promise<void>
}

/**
 * Creates the SDK's naming client with its beat loop stopped before its first sleep, so no
 * timer of the SDK outlives `close()`.
 */
export function createNamingClient (conn: NamingConnection): NamingClient {
  const client = new NacosNamingClient({
    logger: conn.logger as unknown as typeof console,
    serverList: [...conn.serverAddr],
    namespace: conn.namespace,
    httpclient: conn.httpclient,
    ...(conn.accessKey !== undefined ? { ak: conn.accessKey, sk: conn.secretKey } : {})
  } as ConstructorParameters<typeof NacosNamingClient>[0])
  const internals = client as unknown as SdkInternals
  // The loop checks `_isClosed` after a sleep of `_clientBeatInterval`: make that sleep 0 and the
  // loop ends on the next tick instead of holding the event loop for 10 s.
  internals._beatReactor._isClosed = true
  internals._beatReactor._clientBeatInterval = 0
  return client
}

export async function closeNamingClient (client: NamingClient): Promise<void> {
  await (client as unknown as SdkInternals).close()
}

function grouped (spec: Pick<InstanceSpec, 'serviceName' | 'groupName'>): string {
  return `${spec.groupName}@@${spec.serviceName}`
}

/** Registration, deregistration and heartbeats through the SDK's server proxy. */
export class NamingTransport {
  /** `client` is a getter so the SDK client (and its UDP socket) is created on first use. */
  constructor (private readonly client: () => NamingClient, private readonly http: NacosHttpClient) {}

  get #proxy (): NamingProxy {
    return (this.client() as unknown as SdkInternals)._serverProxy
  }

  /** Runs an SDK call, putting back the cause that the SDK's failover loop drops. */
  async #call<T> (fn: () => Promise<T>): Promise<T> {
    this.http.lastFailure = null
    try {
      return await fn()
    } catch (err) {
      const cause = this.http.lastFailure
      throw new Error(cause !== null ? cause : (err as Error).message, { cause: err })
    }
  }

  async register (spec: InstanceSpec): Promise<void> {
    await this.#call(async () => await this.#proxy.registerService(grouped(spec), spec.groupName, {
      ip: spec.ip,
      port: spec.port,
      weight: spec.weight,
      enabled: spec.enabled,
      healthy: true,
      ephemeral: spec.ephemeral,
      clusterName: spec.clusterName,
      metadata: spec.metadata
    }))
  }

  async deregister (spec: InstanceSpec): Promise<void> {
    await this.#call(async () => await this.#proxy.deregisterService(grouped(spec), {
      ip: spec.ip,
      port: spec.port,
      clusterName: spec.clusterName,
      ephemeral: spec.ephemeral
    }))
  }

  /**
   * A light beat (ip, port, cluster): Nacos answers 20404 when it no longer knows the instance,
   * instead of silently re-creating it from the beat without our metadata.
   */
  async beat (spec: InstanceSpec): Promise<BeatAnswer> {
    const text = await this.#call(async () => await this.#proxy._reqAPI('/nacos/v1/ns/instance/beat', {
      serviceName: grouped(spec),
      groupName: spec.groupName,
      ip: spec.ip,
      port: String(spec.port),
      clusterName: spec.clusterName
    }, 'PUT'))
    return JSON.parse(text) as BeatAnswer
  }
}

// Discovery's side. The SDK's subscription machinery is not used as such, because:
// - HostReactor.processServiceJSON drops a host list that became empty (ServiceInfo.isValid), so
//   nobody learns that the last instance left; and its getAllInstances(…, false) then still
//   returns the stale hosts. We patch the reactor to pass empty lists on, and read lists ourselves;
// - HostReactor._close() unsubscribes with a string where a {serviceName} is expected, so every
//   listener stays attached after close; we detach our own listeners;
// - getServiceInfo() racing close() schedules a poll timer after close cleared them: a loop that
//   never ends. We never start the SDK's polls; our timers are unref()'d and cleared by close();
// - a `dump` UDP packet calls the getter getServiceInfoMap as a function: TypeError, no ack, and a
//   stack trace on stderr. We give the reactor a callable getServiceInfoMap and an error listener.

/** A host as Nacos's instance list and pushes carry it. */
export type RawHost = Partial<Omit<Instance, 'serviceName'>> & Pick<Instance, 'ip' | 'port'>
export interface RawServiceInfo { name?: string, clusters?: string, hosts?: RawHost[], lastRefTime?: number }

export interface HostReactor {
  on: (event: string, fn: (...args: never[]) => void) => void
  removeListener: (event: string, fn: (...args: never[]) => void) => void
  emit: (event: string, ...args: unknown[]) => boolean
  processServiceJSON: (json: string) => unknown
  _serviceInfoMap: Map<string, { hosts: RawHost[], lastRefTime: number }>
  _pushReceiver: { udpPort: number, on: HostReactor['on'], removeListener: HostReactor['removeListener'] }
}

/** The parts of the SDK's naming client that discovery drives. */
export interface NamingInternals {
  ready: () => Promise<void>
  _hostReactor: HostReactor
  _serverProxy: { queryList: (service: string, clusters: string, udpPort: number, healthyOnly: boolean) => Promise<string> }
}

const patched = new WeakSet<object>()

function patchReactor (reactor: HostReactor): void {
  if (patched.has(reactor)) return
  patched.add(reactor)
  const original = reactor.processServiceJSON.bind(reactor)
  reactor.processServiceJSON = (json: string) => {
    const result = original(json)
    const data = JSON.parse(json) as RawServiceInfo
    if (Array.isArray(data.hosts) && data.hosts.length === 0 && data.name) {
      const key = data.clusters ? `${data.name}@@${data.clusters}` : data.name
      // The SDK kept the old hosts: empty them too, or a host that comes back with the same
      // ip:port would compare equal to the stale entry and never be announced.
      const old = reactor._serviceInfoMap.get(key)
      if (old) {
        old.hosts = []
        old.lastRefTime = data.lastRefTime ?? old.lastRefTime
      }
      reactor.emit(`${key}_changed`, [], { lastRefTime: data.lastRefTime })
    }
    return result
  }
  Object.defineProperty(reactor, 'getServiceInfoMap', {
    configurable: true,
    value: () => Object.fromEntries(reactor._serviceInfoMap)
  })
}

/** The client's naming internals, with the push and dump paths repaired (once per client). */
export function repairedNaming (client: NamingClient): NamingInternals {
  const internals = client as unknown as NamingInternals
  patchReactor(internals._hostReactor)
  return internals
}
