// The one module that loads the `nacos` SDK and the only one that names its private fields. We
// keep the SDK where it is sound (server-list failover, request signing, UDP pushes, config long
// poll) and take over what it gets wrong (see README, "The nacos SDK's defects"):
// - its beat reactor starts a 10 s `sleep` loop in the constructor that `close()` never cancels,
//   and beats on the server's schedule, not ours: we stop it at birth and own the heartbeat;
// - it ignores beat answers (code 20404 after a Nacos restart): we send beats ourselves and read them;
// - `new Instance()` turns weight 0 into 1: we send our own instance fields;
// - its failover loop (_reqAPI) answers every failure with "failed to req API … after all servers
//   tried", dropping the cause: ours goes over the servers the same way and fails with the last
//   server's own error;
// - HostReactor.processServiceJSON drops a host list that became empty (ServiceInfo.isValid), so
//   nobody learns that the last instance left: we pass empty lists on, and read lists ourselves;
// - HostReactor._close() unsubscribes with a string where a {serviceName} is expected, so every
//   listener stays attached after close: we detach our own listeners;
// - getServiceInfo() racing close() schedules a poll timer after close cleared them: we never
//   start the SDK's polls;
// - a `dump` UDP packet calls the getter getServiceInfoMap as a function: TypeError, no ack, and a
//   stack trace on stderr. We give the reactor a callable getServiceInfoMap and an error listener.
// The SDK is pinned (package.json: "nacos": "2.6.3"); checkSdk() fails start-up with the SDK's
// version and the missing piece if an installed SDK lacks any field or method used here.
import { createRequire } from 'node:module'
import type { NacosNamingClient as SdkNamingClient } from 'nacos'
import { NacosAuthError, NacosServerError, SdkMismatchError } from '../../errors.js'
import { authority, baseUrl, DEFAULT_CONTEXT_PATH, type NacosServer } from '../../server-addr.js'
import type { RawHost } from '../types.js'

const require = createRequire(import.meta.url)
const sdk = require('nacos') as typeof import('nacos') & { DataClient: new (options: object) => SdkDataClient }
export const SDK_VERSION = (require('nacos/package.json') as { version: string }).version

export type NamingClient = SdkNamingClient

/** The kind of value each piece must be: a method, an object, a number. */
type Kind = 'function' | 'object' | 'number' | 'boolean'

/**
 * Throws FST_NACOS_SDK_MISMATCH naming the SDK version and the first missing piece, when `target`
 * lacks one of `parts` (dotted paths, e.g. `_hostReactor._pushReceiver.on`).
 */
export function checkSdk (what: string, target: unknown, parts: Readonly<Record<string, Kind>>, version = SDK_VERSION): void {
  for (const [path, kind] of Object.entries(parts)) {
    let value: unknown = target
    for (const key of path.split('.')) value = value === null || value === undefined ? undefined : (value as Record<string, unknown>)[key]
    if (typeof value !== kind || value === null) throw new SdkMismatchError(version, `${what}.${path} (a ${kind})`)
  }
}

const NAMING_PARTS = {
  ready: 'function',
  close: 'function',
  '_serverProxy.registerService': 'function',
  '_serverProxy.deregisterService': 'function',
  '_serverProxy._reqAPI': 'function',
  '_serverProxy._callServer': 'function',
  '_serverProxy.serverList': 'object',
  '_serverProxy.queryList': 'function',
  '_beatReactor._isClosed': 'boolean',
  '_beatReactor._clientBeatInterval': 'number',
  '_hostReactor.on': 'function',
  '_hostReactor.removeListener': 'function',
  '_hostReactor.emit': 'function',
  '_hostReactor.processServiceJSON': 'function',
  '_hostReactor._serviceInfoMap': 'object',
  '_hostReactor._pushReceiver.on': 'function',
  '_hostReactor._pushReceiver.removeListener': 'function',
  '_hostReactor._pushReceiver.udpPort': 'number'
} as const

const DATA_CLIENT_PARTS = {
  subscribe: 'function',
  unSubscribe: 'function',
  getConfig: 'function',
  publishSingle: 'function',
  remove: 'function',
  on: 'function',
  close: 'function',
  clients: 'object'
} as const

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

export interface SdkConnection {
  serverAddr: readonly NacosServer[]
  namespace: string
  /** urllib-shaped: the SDK sends every request through it. */
  httpclient: SdkHttpClient
  logger: SdkLogger
  accessKey?: string | undefined
  secretKey?: string | undefined
}

interface RawServiceInfo { name?: string, clusters?: string, hosts?: RawHost[], lastRefTime?: number }

type Listener = (...args: never[]) => void

interface HostReactor {
  on: (event: string, fn: Listener) => void
  removeListener: (event: string, fn: Listener) => void
  emit: (event: string, ...args: unknown[]) => boolean
  processServiceJSON: (json: string) => unknown
  _serviceInfoMap: Map<string, { hosts: RawHost[], lastRefTime: number }>
  _pushReceiver: { udpPort: number, on: HostReactor['on'], removeListener: HostReactor['removeListener'] }
}

interface SdkInternals {
  ready: () => Promise<void>
  close: () => Promise<void>
  _serverProxy: {
    registerService: (serviceName: string, groupName: string, instance: object) => Promise<string>
    deregisterService: (serviceName: string, instance: object) => Promise<string>
    _reqAPI: (api: string, params: Record<string, string>, method: string) => Promise<string>
    _callServer: (server: string, method: string, api: string, params: Record<string, string>) => Promise<string>
    serverList: string[]
    queryList: (service: string, clusters: string, udpPort: number, healthyOnly: boolean) => Promise<string>
  }
  _beatReactor: { _isClosed: boolean, _clientBeatInterval: number }
  _hostReactor: HostReactor
}

/** A pushed host list, as the repaired reactor hands it on. */
export type PushListener = (hosts: RawHost[], info?: { lastRefTime?: number }) => void

/** The SDK naming client's parts this plugin uses, repaired, under names that say what they do. */
export interface RepairedNaming {
  /** The SDK client itself (`app.nacos.client`). */
  readonly client: NamingClient
  registerService: SdkInternals['_serverProxy']['registerService']
  deregisterService: SdkInternals['_serverProxy']['deregisterService']
  /** A request to any server of the list, through the SDK's failover. */
  request: SdkInternals['_serverProxy']['_reqAPI']
  /** Reads a service's list and subscribes our UDP port to its pushes. */
  queryList: (groupedService: string, clusters: string) => Promise<string>
  /** `pushKey`: `group@@service`, then `@@clusters` when clusters are given. */
  onPush: (pushKey: string, fn: PushListener) => void
  offPush: (pushKey: string, fn: PushListener) => void
  close: () => Promise<void>
}

/** The SDK's error for an answer other than 200 or 304 (its _callServer). */
interface NacosException extends Error { status?: number }

/**
 * The SDK's failover — every server once, from a random one — failing with the last server's own
 * cause: the HTTP client's FST_NACOS_REQUEST_FAILED, a login error, or the status Nacos answered.
 */
function repairFailover (proxy: SdkInternals['_serverProxy']): void {
  proxy._reqAPI = async (api, params, method) => {
    const servers = proxy.serverList
    let last: unknown = new Error('[NameProxy] no server available')
    const start = Math.floor(Math.random() * servers.length)
    for (let i = 0; i < servers.length; i++) {
      const server = servers[(start + i) % servers.length] as string
      try {
        return await proxy._callServer(server, method, api, params)
      } catch (err) {
        const status = (err as NacosException).name === 'NacosException' ? (err as NacosException).status : undefined
        last = status === undefined
          ? err
          : status === 401 || status === 403
            ? new NacosAuthError(`Nacos refused ${method} http://${server}${api}: HTTP ${status} ${(err as Error).message.split(' msg: ')[1]?.slice(0, 200) ?? ''}`)
            : new NacosServerError(`${method} http://${server}${api}`, `HTTP ${status} ${(err as Error).message.split(' msg: ')[1]?.slice(0, 200) ?? ''}`, { cause: err })
      }
    }
    throw last
  }
}

function repairReactor (reactor: HostReactor): void {
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

/** urllib's `request`, the one method of an HTTP client the SDK calls. */
interface SdkHttpClient {
  request: (url: string, options?: never) => Promise<unknown>
}

/**
 * The SDK writes every URL as `http://host:port/nacos/...`, whatever the server's scheme and
 * context path: send each request where the server really is (https, `/my-nacos`).
 */
function routed (http: SdkHttpClient, servers: readonly NacosServer[]): SdkHttpClient {
  const bases = servers.map((s) => ({ written: `http://${authority(s)}${DEFAULT_CONTEXT_PATH}/`, real: `${baseUrl(s)}/` }))
  return {
    request: async (url, options) => {
      const base = bases.find((b) => url.startsWith(b.written))
      return await http.request(base === undefined ? url : base.real + url.slice(base.written.length), options)
    }
  }
}

/**
 * Creates the SDK's naming client, checked and repaired: its beat loop stopped before its first
 * sleep (no SDK timer outlives close()), its push path passing empty lists on, its errors routed
 * to `onError` instead of stderr.
 */
/** Ends the SDK's beat loop at birth: its 10 s sleeps outlive close(); with `_clientBeatInterval` 0 it sees `_isClosed` on the next tick. */
export function stopBeatLoop (client: SdkNamingClient): void {
  const beats = (client as unknown as SdkInternals)._beatReactor
  beats._isClosed = true
  beats._clientBeatInterval = 0
}

export function createRepairedNaming (conn: SdkConnection, onError: (err: Error) => void): RepairedNaming {
  const client = new sdk.NacosNamingClient({
    logger: conn.logger as unknown as typeof console,
    serverList: conn.serverAddr.map(authority),
    namespace: conn.namespace,
    httpclient: routed(conn.httpclient, conn.serverAddr),
    ...(conn.accessKey !== undefined ? { ak: conn.accessKey, sk: conn.secretKey } : {})
  } as ConstructorParameters<typeof sdk.NacosNamingClient>[0])
  const internals = client as unknown as SdkInternals
  try {
    checkSdk('NacosNamingClient', internals, NAMING_PARTS)
  } catch (err) {
    void internals.close?.().catch(() => {})
    throw err
  }
  stopBeatLoop(client)
  const proxy = internals._serverProxy
  repairFailover(proxy)
  const reactor = internals._hostReactor
  repairReactor(reactor)
  // With a listener of ours, sdk-base no longer prints these errors on stderr.
  reactor.on('error', onError)
  reactor._pushReceiver.on('error', onError)
  return {
    client,
    registerService: proxy.registerService.bind(proxy),
    deregisterService: proxy.deregisterService.bind(proxy),
    request: proxy._reqAPI.bind(proxy),
    queryList: async (groupedService, clusters) => {
      await internals.ready()
      return await proxy.queryList(groupedService, clusters, reactor._pushReceiver.udpPort, false)
    },
    onPush: (pushKey, fn) => { reactor.on(`${pushKey}_changed`, fn as Listener) },
    offPush: (pushKey, fn) => { reactor.removeListener(`${pushKey}_changed`, fn as Listener) },
    close: async () => {
      reactor.removeListener('error', onError)
      reactor._pushReceiver.removeListener('error', onError)
      await internals.close()
    }
  }
}

/** nacos-config's DataClient (public API; only its `httpAgent` option replaces its HTTP agent). */
export interface SdkDataClient {
  subscribe: (info: { dataId: string, group: string }, listener: (content: string | null) => void) => void
  unSubscribe: (info: { dataId: string, group: string }, listener: (content: string | null) => void) => void
  getConfig: (dataId: string, group: string) => Promise<string | null>
  publishSingle: (dataId: string, group: string, content: string, options: { type: string }) => Promise<boolean>
  remove: (dataId: string, group: string) => Promise<boolean>
  on: (event: 'error', fn: (err: Error) => void) => void
  close: () => void
}

export function createDataClient (options: object): SdkDataClient {
  const client = new sdk.DataClient(options) as SdkDataClient & { clients: Map<string, Pick<SdkDataClient, 'on'>> }
  checkSdk('DataClient', client, DATA_CLIENT_PARTS)
  // Closing a worker removes its error listeners, yet an error it queued just before (a read that
  // failed as the app closed) is still emitted, and thrown: each closed worker keeps one that drops it.
  const close = client.close.bind(client)
  client.close = () => {
    const workers = [...client.clients.values()]
    close()
    for (const worker of workers) worker.on('error', () => {})
  }
  return client
}
