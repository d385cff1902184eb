// Watches over gRPC: SubscribeServiceRequest and the server's NotifySubscriberRequest pushes.
// The server keeps one subscriber per service per connection, so a service is subscribed once
// with all clusters (as the Java client's subscribe does) and each watcher gets the hosts of its
// clusters, filtered here. Snapshots are delivered in lastRefTime order; one equal to the last
// delivered is not delivered again. After a reconnect, naming.ts asks for redo().
import type { RawHost, ServiceRef, ServiceSnapshot } from '../types.js'
import { DEFAULT_CLUSTER, groupedName } from '../../naming/names.js'
import type { GrpcLog } from './link.js'
import type { Json } from './proto.js'
import type { Caller } from './naming.js'

interface Watcher {
  clusters: ReadonlySet<string>
  onChange: (snapshot: ServiceSnapshot) => void
}

interface Subscription {
  service: string
  group: string
  watchers: Set<Watcher>
  /** The connection generation the subscription was last confirmed on (0: never). */
  gen: number
  /** The generation a subscribe on the wire goes out on (the redo leaves it be). */
  sending: number | undefined
  last: Delivered | undefined
}

/**
 * The last list delivered: as delivered (`snapshot`, dated on this transport's own scale) and the
 * server's date for it. Lists are ordered by the server's date within one connection; after a
 * reconnect (possibly to another server, whose clock may be behind) the first list is taken as
 * the news, and the new connection's dates are shifted (`shift`) so that what is delivered stays
 * in order for discovery, which drops a list older than the one it has.
 */
interface Delivered {
  snapshot: ServiceSnapshot
  sig: string
  gen: number
  serverTime: number
  shift: number
}

export interface SubscriptionsOptions {
  namespace: string
  /** The current connection generation, -1 while not connected. */
  generation: () => number
  /** The generation a request sent now goes out on (the next one while connecting). */
  sendingOn: () => number
  log: GrpcLog
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
  return { hosts: snapshot.hosts.filter((h) => clusters.has(h.clusterName ?? DEFAULT_CLUSTER)), lastRefTime: snapshot.lastRefTime }
}

export class Subscriptions {
  readonly #call: Caller
  readonly #opts: SubscriptionsOptions
  readonly #subs = new Map<string, Subscription>()
  #closed = false

  constructor (call: Caller, opts: SubscriptionsOptions) {
    this.#call = call
    this.#opts = opts
  }

  watch (ref: ServiceRef, onChange: (snapshot: ServiceSnapshot) => void): () => void {
    const key = groupedName(ref.service, ref.group)
    const watcher: Watcher = { clusters: new Set(ref.clusters), onChange }
    let sub = this.#subs.get(key)
    if (!sub) {
      sub = { service: ref.service, group: ref.group, watchers: new Set(), gen: 0, sending: undefined, last: undefined }
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
      if (this.#closed || this.#opts.generation() < 0) return
      void this.#call('SubscribeServiceRequest', this.#body(owner, false), this.#resource(owner))
        .catch((err: unknown) => { this.#opts.log.debug?.({ service: owner.service, err: (err as Error).message }, 'nacos grpc: unsubscribe failed') })
    }
  }

  /**
   * The list of a service subscribed and confirmed on the current connection, as the last answer
   * or push left it (the server pushes every change on that connection), else undefined.
   */
  live (ref: ServiceRef): ServiceSnapshot | undefined {
    const sub = this.#subs.get(groupedName(ref.service, ref.group))
    if (!sub?.last || sub.gen <= 0 || sub.gen !== this.#opts.generation()) return undefined
    return filterClusters(sub.last.snapshot, new Set(ref.clusters))
  }

  /** Subscribes again every service not confirmed on connection generation `gen`. */
  async redo (gen: number): Promise<void> {
    for (const sub of [...this.#subs.values()]) {
      if (sub.gen === gen || sub.sending === gen || this.#subs.get(groupedName(sub.service, sub.group)) !== sub) continue
      try {
        await this.#subscribe(sub)
      } catch (err) {
        this.#opts.log.warn({ service: sub.service, group: sub.group, err: (err as Error).message }, 'nacos grpc: subscribe redo failed, will retry')
      }
    }
  }

  /** A NotifySubscriberRequest from the server. */
  onPush (body: Json): void {
    const info = body.serviceInfo as { name?: unknown, groupName?: unknown } | undefined
    if (!info) return
    let name = typeof info.name === 'string' ? info.name : (typeof body.serviceName === 'string' ? body.serviceName : '')
    let group = typeof info.groupName === 'string' && info.groupName ? info.groupName : (typeof body.groupName === 'string' ? body.groupName : '')
    const split = name.indexOf('@@')
    if (split >= 0) {
      if (!group) group = name.slice(0, split)
      name = name.slice(split + 2)
    }
    const sub = this.#subs.get(groupedName(name, group))
    if (sub) this.#deliver(sub, toSnapshot(info), this.#opts.generation())
  }

  close (): void {
    this.#closed = true
    this.#subs.clear()
  }

  #resource (sub: Subscription) {
    return { module: 'naming' as const, namespace: this.#opts.namespace, group: sub.group, service: sub.service }
  }

  #body (sub: Subscription, subscribe: boolean): Json {
    return { namespace: this.#opts.namespace, serviceName: sub.service, groupName: sub.group, clusters: '', subscribe, headers: {} }
  }

  async #subscribe (sub: Subscription): Promise<void> {
    const gen = this.#opts.sendingOn()
    sub.sending = gen
    let res: Json
    try {
      res = await this.#call('SubscribeServiceRequest', this.#body(sub, true), this.#resource(sub))
    } finally {
      if (sub.sending === gen) sub.sending = undefined
    }
    if (this.#subs.get(groupedName(sub.service, sub.group)) !== sub) return
    if (gen === this.#opts.generation()) sub.gen = gen
    if (res.serviceInfo) this.#deliver(sub, toSnapshot(res.serviceInfo), gen)
  }

  #deliver (sub: Subscription, fromServer: ServiceSnapshot, gen: number): void {
    const sig = JSON.stringify(fromServer.hosts)
    const last = sub.last
    const serverTime = fromServer.lastRefTime
    let shift = 0
    if (last !== undefined && gen <= last.gen) {
      if (serverTime < last.serverTime || (serverTime === last.serverTime && sig === last.sig)) return
      shift = last.shift
    } else if (last !== undefined) {
      shift = Math.max(last.shift, last.snapshot.lastRefTime + 1 - serverTime)
      if (sig === last.sig) { sub.last = { ...last, gen, serverTime, shift }; return }
    }
    const snapshot = shift === 0 ? fromServer : { hosts: fromServer.hosts, lastRefTime: serverTime + shift }
    sub.last = { snapshot, sig, gen, serverTime, shift }
    for (const watcher of [...sub.watchers]) this.#deliverTo(watcher, snapshot)
  }

  #deliverTo (watcher: Watcher, snapshot: ServiceSnapshot): void {
    try {
      watcher.onChange(filterClusters(snapshot, watcher.clusters))
    } catch (err) {
      this.#opts.log.error({ err }, 'nacos grpc: a watch listener threw')
    }
  }
}
