// Naming over gRPC: InstanceRequest / BatchInstanceRequest / PersistentInstanceRequest,
// ServiceQueryRequest, SubscribeServiceRequest and the server's NotifySubscriberRequest pushes.
//
// Keep-alive and redo (the choice this transport makes): an ephemeral instance registered over
// gRPC lives as long as the connection that registered it; there are no beats. This module keeps
// every ephemeral instance registered through it (until deregister) and every watched service,
// and after each reconnect registers and subscribes them again itself, as the Java client's
// NamingGrpcRedoService does (also retried every `redoIntervalMs` while anything is not yet
// redone on the current connection). keepAlive() therefore never reports `lost`: it reports
// `failed(err)` when the connection goes down (and after each round of servers that failed), and
// `alive()` once the instance is registered on the current connection (at keepAlive() time if it
// already is, and after each redo). Stopping a keepAlive only stops the reports; the instance
// stays registered (and redone) until deregister() or close().
//
// Nacos keeps one ephemeral registration per service per connection: two instances of one
// service registered through this transport are sent together as a BatchInstanceRequest (and
// deregistering one re-sends the rest), as the Java client's batch registration does.
//
// Watches: the server keeps one subscriber per service per connection, so a service is
// subscribed once with all clusters (as the Java client's subscribe does) and each watcher gets
// the hosts of its clusters, filtered here. Snapshots are delivered in lastRefTime order; one
// equal to the last delivered is not delivered again.
import type { InstanceSpec, KeepAliveEvents, NamingTransport, RawHost, ServiceRef, ServiceSnapshot } from '../types.js'
import type { Connection, GrpcLog } from './connection.js'
import { GrpcTransportError, NACOS_NO_HANDLER } from './errors.js'
import type { Json } from './proto.js'
import type { Resource } from './auth.js'

/** Sends one request with the credentials `resource` needs (and `extraHeaders`); see index.ts. */
export type Caller = (type: string, body: Json, resource: Resource, extraHeaders?: Record<string, string>) => Promise<Json>

export interface NamingOptions {
  namespace: string
  grpcPortOffset: number
  probeTimeoutMs: number
  redoIntervalMs: number
  /** Logs in when credentials are set, so that a probe also proves they work. */
  login: () => Promise<void>
  log: GrpcLog
}

interface Keeper {
  key: string
  instanceKey: string
  events: KeepAliveEvents
}

interface Watcher {
  clusters: ReadonlySet<string>
  onChange: (snapshot: ServiceSnapshot) => void
  delivered: boolean
}

interface Subscription {
  service: string
  group: string
  watchers: Set<Watcher>
  /** The connection generation the subscription was last confirmed on (0: never). */
  gen: number
  last: { snapshot: ServiceSnapshot, sig: string } | undefined
}

const serviceKey = (group: string, service: string): string => `${group}@@${service}`
const instanceKey = (i: Pick<InstanceSpec, 'ip' | 'port' | 'clusterName'>): string => `${i.ip}:${i.port}#${i.clusterName}`

function wireInstance (i: InstanceSpec): Json {
  return {
    ip: i.ip,
    port: i.port,
    weight: i.weight,
    healthy: true,
    enabled: i.enabled,
    ephemeral: i.ephemeral,
    clusterName: i.clusterName,
    serviceName: i.serviceName,
    metadata: i.metadata
  }
}

function toHost (raw: unknown): RawHost | undefined {
  if (raw === null || typeof raw !== 'object') return undefined
  const h = raw as Record<string, unknown>
  if (typeof h.ip !== 'string' || typeof h.port !== 'number') return undefined
  const host: RawHost = { ip: h.ip, port: h.port }
  if (typeof h.instanceId === 'string') host.instanceId = h.instanceId
  if (typeof h.weight === 'number') host.weight = h.weight
  if (typeof h.healthy === 'boolean') host.healthy = h.healthy
  if (typeof h.enabled === 'boolean') host.enabled = h.enabled
  if (typeof h.ephemeral === 'boolean') host.ephemeral = h.ephemeral
  if (typeof h.clusterName === 'string') host.clusterName = h.clusterName
  if (typeof h.serviceName === 'string') host.serviceName = h.serviceName
  if (h.metadata !== null && typeof h.metadata === 'object') host.metadata = { ...(h.metadata as Record<string, string>) }
  return host
}

export function toSnapshot (serviceInfo: unknown): ServiceSnapshot {
  const info = (serviceInfo ?? {}) as { hosts?: unknown, lastRefTime?: unknown }
  const hosts = Array.isArray(info.hosts) ? info.hosts.map(toHost).filter((h): h is RawHost => h !== undefined) : []
  const lastRefTime = Number(info.lastRefTime)
  return { hosts, lastRefTime: Number.isFinite(lastRefTime) && lastRefTime > 0 ? lastRefTime : Date.now() }
}

function filterClusters (snapshot: ServiceSnapshot, clusters: ReadonlySet<string>): ServiceSnapshot {
  if (clusters.size === 0) return snapshot
  return { hosts: snapshot.hosts.filter((h) => clusters.has(h.clusterName ?? 'DEFAULT')), lastRefTime: snapshot.lastRefTime }
}

export class GrpcNaming implements NamingTransport {
  readonly #conn: Connection
  readonly #call: Caller
  readonly #opts: NamingOptions
  /** Ephemeral instances registered through this transport, by service. */
  readonly #registered = new Map<string, Map<string, InstanceSpec>>()
  /** The connection generation each service's registration was last confirmed on. */
  readonly #registeredGen = new Map<string, number>()
  readonly #keepers = new Set<Keeper>()
  readonly #subs = new Map<string, Subscription>()
  #gen = 0
  #redoing = false
  #redoAgain = false
  #closed = false
  readonly #redoTimer: NodeJS.Timeout
  readonly #offUp: () => void
  readonly #offDown: () => void

  constructor (conn: Connection, call: Caller, opts: NamingOptions) {
    this.#conn = conn
    this.#call = call
    this.#opts = opts
    this.#offUp = conn.onUp(() => {
      this.#gen++
      void this.#redo()
    })
    this.#offDown = conn.onDown((err) => {
      for (const keeper of this.#keepers) this.#report(keeper, 'failed', err)
    })
    conn.handle('NotifySubscriberRequest', (body) => {
      this.#onPush(body)
      return { type: 'NotifySubscriberResponse' }
    })
    this.#redoTimer = setInterval(() => { if (this.#conn.ready) void this.#redo() }, opts.redoIntervalMs)
    this.#redoTimer.unref()
  }

  // The connection generation is bumped by onUp; before the first connection it is 0.
  get #currentGen (): number {
    return this.#conn.ready ? this.#gen : -1
  }

  register = async (instance: InstanceSpec): Promise<void> => {
    if (!instance.ephemeral) {
      await this.#persistent('registerInstance', instance)
      return
    }
    const key = serviceKey(instance.groupName, instance.serviceName)
    let set = this.#registered.get(key)
    if (!set) {
      set = new Map()
      this.#registered.set(key, set)
    }
    set.set(instanceKey(instance), instance)
    try {
      await this.#sendService(key)
    } catch (err) {
      // Unreachable or too slow: the redo registers it once a connection is up. Refused by the
      // server (bad request, no rights): forget it, the caller decides.
      const kind = (err as GrpcTransportError).kind
      if (kind !== 'unavailable' && kind !== 'timeout') {
        set.delete(instanceKey(instance))
        if (set.size === 0) this.#registered.delete(key)
        else void this.#sendService(key).catch(() => {})
      }
      throw err
    }
  }

  deregister = async (instance: InstanceSpec): Promise<void> => {
    if (!instance.ephemeral) {
      await this.#persistent('deregisterInstance', instance)
      return
    }
    const key = serviceKey(instance.groupName, instance.serviceName)
    const set = this.#registered.get(key)
    set?.delete(instanceKey(instance))
    if (set && set.size > 0) {
      await this.#sendService(key)
      return
    }
    this.#registered.delete(key)
    this.#registeredGen.delete(key)
    await this.#call('InstanceRequest', {
      namespace: this.#opts.namespace,
      serviceName: instance.serviceName,
      groupName: instance.groupName,
      type: 'deregisterInstance',
      instance: wireInstance(instance),
      headers: {}
    }, this.#resource(instance.groupName, instance.serviceName))
  }

  keepAlive = (instance: InstanceSpec, events: KeepAliveEvents): (() => void) => {
    if (!instance.ephemeral) {
      // A persistent instance is health-checked by the server itself: nothing to keep alive.
      return () => {}
    }
    const keeper: Keeper = { key: serviceKey(instance.groupName, instance.serviceName), instanceKey: instanceKey(instance), events }
    this.#keepers.add(keeper)
    if (this.#isConfirmed(keeper)) queueMicrotask(() => { if (this.#keepers.has(keeper) && this.#isConfirmed(keeper)) this.#report(keeper, 'alive') })
    return () => { this.#keepers.delete(keeper) }
  }

  query = async (ref: ServiceRef): Promise<ServiceSnapshot> => {
    const res = await this.#call('ServiceQueryRequest', {
      namespace: this.#opts.namespace,
      serviceName: ref.service,
      groupName: ref.group,
      cluster: ref.clusters.join(','),
      healthyOnly: false,
      udpPort: 0,
      headers: {}
    }, this.#resource(ref.group, ref.service))
    return toSnapshot(res.serviceInfo)
  }

  watch = (ref: ServiceRef, onChange: (snapshot: ServiceSnapshot) => void): (() => void) => {
    const key = serviceKey(ref.group, ref.service)
    const watcher: Watcher = { clusters: new Set(ref.clusters), onChange, delivered: false }
    let sub = this.#subs.get(key)
    if (!sub) {
      sub = { service: ref.service, group: ref.group, watchers: new Set(), gen: 0, last: undefined }
      this.#subs.set(key, sub)
      sub.watchers.add(watcher)
      void this.#subscribe(sub).catch((err: unknown) => {
        this.#opts.log.warn({ service: ref.service, group: ref.group, err: (err as Error).message }, 'nacos grpc: subscribe failed, retrying')
      })
    } else {
      sub.watchers.add(watcher)
      const current = sub
      if (current.last) queueMicrotask(() => { if (current.watchers.has(watcher) && current.last) this.#deliverTo(watcher, current.last.snapshot) })
    }
    const owner = sub
    return () => {
      if (!owner.watchers.delete(watcher) || owner.watchers.size > 0) return
      if (this.#subs.get(key) === owner) this.#subs.delete(key)
      if (this.#closed || !this.#conn.ready) return
      void this.#call('SubscribeServiceRequest', this.#subscribeBody(owner, false), this.#resource(owner.group, owner.service))
        .catch((err: unknown) => { this.#opts.log.debug?.({ service: owner.service, err: (err as Error).message }, 'nacos grpc: unsubscribe failed') })
    }
  }

  probe = async (): Promise<void> => {
    const reasons: string[] = []
    const attempts = this.#conn.servers.map(async (server) => {
      try {
        await this.#conn.checkServer(server, this.#opts.probeTimeoutMs)
      } catch (err) {
        reasons.push((err as Error).message)
        throw err
      }
    })
    try {
      await Promise.any(attempts)
    } catch {
      throw new GrpcTransportError('unavailable', `no Nacos server answered a ServerCheckRequest on its gRPC port (tried ${this.#conn.addresses.join(', ')}): ${reasons.join('; ')}; the gRPC port (HTTP port + ${this.#opts.grpcPortOffset}) must be reachable; or set NACOS_TRANSPORT=http`)
    }
    await this.#opts.login()
  }

  close (): void {
    this.#closed = true
    clearInterval(this.#redoTimer)
    this.#offUp()
    this.#offDown()
    this.#keepers.clear()
    this.#subs.clear()
  }

  // ---- requests ----

  #resource (group: string, service: string): Resource {
    return { module: 'naming', namespace: this.#opts.namespace, group, service }
  }

  async #persistent (type: 'registerInstance' | 'deregisterInstance', instance: InstanceSpec): Promise<void> {
    try {
      await this.#call('PersistentInstanceRequest', {
        namespace: this.#opts.namespace,
        serviceName: instance.serviceName,
        groupName: instance.groupName,
        type,
        instance: wireInstance(instance),
        headers: {}
      }, this.#resource(instance.groupName, instance.serviceName))
    } catch (err) {
      if ((err as GrpcTransportError).errorCode === NACOS_NO_HANDLER) {
        throw new GrpcTransportError('server', 'this Nacos server cannot register persistent (ephemeral: false) instances over gRPC (it needs 2.3 or later); use NACOS_TRANSPORT=http', { errorCode: NACOS_NO_HANDLER, requestType: 'PersistentInstanceRequest', cause: err })
      }
      throw err
    }
  }

  /** Sends the registration(s) of one service as they stand now, and marks them confirmed. */
  async #sendService (key: string): Promise<void> {
    const gen = this.#currentGen
    const set = this.#registered.get(key)
    const instances = set ? [...set.values()] : []
    const first = instances[0]
    if (!first) return
    const common = { namespace: this.#opts.namespace, serviceName: first.serviceName, groupName: first.groupName, headers: {} }
    if (instances.length === 1) {
      await this.#call('InstanceRequest', { ...common, type: 'registerInstance', instance: wireInstance(first) }, this.#resource(first.groupName, first.serviceName))
    } else {
      await this.#call('BatchInstanceRequest', { ...common, type: 'batchRegisterInstance', instances: instances.map(wireInstance) }, this.#resource(first.groupName, first.serviceName))
    }
    // Confirmed on the connection that was current when sent, if it still is.
    if (gen === this.#currentGen && gen >= 0) this.#registeredGen.set(key, gen)
  }

  #subscribeBody (sub: Subscription, subscribe: boolean): Json {
    return { namespace: this.#opts.namespace, serviceName: sub.service, groupName: sub.group, clusters: '', subscribe, headers: {} }
  }

  async #subscribe (sub: Subscription): Promise<void> {
    const gen = this.#currentGen
    const res = await this.#call('SubscribeServiceRequest', this.#subscribeBody(sub, true), this.#resource(sub.group, sub.service))
    if (this.#subs.get(serviceKey(sub.group, sub.service)) !== sub) return
    if (gen === this.#currentGen && gen >= 0) sub.gen = gen
    if (res.serviceInfo) this.#deliver(sub, toSnapshot(res.serviceInfo))
  }

  // ---- redo ----

  #isConfirmed (keeper: Keeper): boolean {
    return this.#conn.ready && this.#registeredGen.get(keeper.key) === this.#gen && this.#registered.get(keeper.key)?.has(keeper.instanceKey) === true
  }

  #report (keeper: Keeper, what: 'alive' | 'failed', err?: Error): void {
    try {
      if (what === 'alive') keeper.events.alive()
      else keeper.events.failed(err as Error)
    } catch (e) {
      this.#opts.log.error({ err: e }, 'nacos grpc: a keepAlive listener threw')
    }
  }

  /** Registers and subscribes again whatever is not confirmed on the current connection. */
  async #redo (): Promise<void> {
    if (this.#redoing) {
      this.#redoAgain = true
      return
    }
    this.#redoing = true
    try {
      do {
        this.#redoAgain = false
        const gen = this.#currentGen
        if (gen < 0 || this.#closed) return
        for (const key of [...this.#registered.keys()]) {
          if (this.#registeredGen.get(key) === gen) continue
          try {
            await this.#sendService(key)
            this.#opts.log.info({ service: key, connection: this.#conn.server }, 'nacos grpc: registration redone')
            for (const keeper of this.#keepers) if (keeper.key === key && this.#isConfirmed(keeper)) this.#report(keeper, 'alive')
          } catch (err) {
            this.#opts.log.warn({ service: key, err: (err as Error).message }, 'nacos grpc: registration redo failed, will retry')
            for (const keeper of this.#keepers) if (keeper.key === key) this.#report(keeper, 'failed', err as Error)
          }
        }
        for (const sub of [...this.#subs.values()]) {
          if (sub.gen === gen || this.#subs.get(serviceKey(sub.group, sub.service)) !== sub) continue
          try {
            await this.#subscribe(sub)
          } catch (err) {
            this.#opts.log.warn({ service: sub.service, group: sub.group, err: (err as Error).message }, 'nacos grpc: subscribe redo failed, will retry')
          }
        }
      } while (this.#redoAgain && !this.#closed)
    } finally {
      this.#redoing = false
    }
  }

  // ---- pushes ----

  #onPush (body: Json): void {
    const info = body.serviceInfo as { name?: unknown, groupName?: unknown } | undefined
    if (!info) return
    let name = typeof info.name === 'string' ? info.name : (typeof body.serviceName === 'string' ? body.serviceName : '')
    let group = typeof info.groupName === 'string' && info.groupName ? info.groupName : (typeof body.groupName === 'string' ? body.groupName : '')
    const split = name.indexOf('@@')
    if (split >= 0) {
      if (!group) group = name.slice(0, split)
      name = name.slice(split + 2)
    }
    const sub = this.#subs.get(serviceKey(group, name))
    if (!sub) return
    this.#deliver(sub, toSnapshot(info))
  }

  #deliver (sub: Subscription, snapshot: ServiceSnapshot): void {
    const sig = JSON.stringify(snapshot.hosts)
    const last = sub.last
    if (last && (snapshot.lastRefTime < last.snapshot.lastRefTime || (snapshot.lastRefTime === last.snapshot.lastRefTime && sig === last.sig))) return
    sub.last = { snapshot, sig }
    for (const watcher of [...sub.watchers]) this.#deliverTo(watcher, snapshot)
  }

  #deliverTo (watcher: Watcher, snapshot: ServiceSnapshot): void {
    watcher.delivered = true
    try {
      watcher.onChange(filterClusters(snapshot, watcher.clusters))
    } catch (err) {
      this.#opts.log.error({ err }, 'nacos grpc: a watch listener threw')
    }
  }
}
