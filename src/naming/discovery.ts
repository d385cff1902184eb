// Service discovery: a local cache of each looked-up service's instances, kept current by the
// transport's pushes (watch) and by our own periodic re-read (query). Picks are served from the
// cache, so they keep working while Nacos is down.
import type { NamingTransport, RawHost } from '../transport/types.js'
import { ClosedError, NoInstanceError } from '../errors.js'
import { createBalancerState, pickFromPool, toInstance, toPool, type Instance } from './balancer.js'
import { normalizeQuery, serviceKey, type ServiceQuery } from './names.js'
import { NO_SNAPSHOTS, type SnapshotStore } from '../snapshot/store.js'
import type { DiscoveryLogger, DiscoveryOptions, Entry, InstancesListener, InstancesOptions, PickOptions, SavedService, SnapshotUse } from './discovery-types.js'

export type { Instance, Strategy } from './balancer.js'
export type { ServiceQuery } from './names.js'
export type { DiscoveryLogger, DiscoveryOptions, InstancesListener, InstancesOptions, PickOptions, SnapshotUse } from './discovery-types.js'

export class Discovery {
  readonly #transport: NamingTransport
  readonly #log: DiscoveryLogger
  readonly #refreshInterval: number
  readonly #entries = new Map<string, Entry>()
  readonly #balancer = createBalancerState()
  readonly #snapshots: SnapshotStore
  readonly #protectEmpty: boolean
  #reachable = true
  #closed = false

  constructor (options: DiscoveryOptions) {
    this.#transport = options.transport
    this.#log = options.log
    this.#refreshInterval = options.refreshInterval ?? options.transport.refreshIntervalMs
    this.#snapshots = options.snapshots ?? NO_SNAPSHOTS
    this.#protectEmpty = options.pushEmptyProtection ?? false
  }

  /** The services served from a snapshot now (Nacos has not answered for them since the start). */
  snapshotted (): SnapshotUse[] {
    return [...this.#entries.values()].flatMap((e) => (e.fromSnapshot === undefined
      ? []
      : [{ service: e.service, group: e.group, clusters: e.clusters, savedAt: new Date(e.fromSnapshot).toISOString() }]))
  }

  /** Instances of a service: the first call reads Nacos and keeps the service current; later calls read the cache. */
  async instances (service: string, options: InstancesOptions = {}): Promise<readonly Instance[]> {
    const entry = this.#entry(service, options)
    if (entry.instances === undefined) await this.#load(entry)
    return this.#filter(entry.instances ?? [], options)
  }

  /** instances() for a caller that lets the service go again with release(): the monitoring routes. */
  async lookup (service: string, options: InstancesOptions = {}): Promise<readonly Instance[]> {
    const entry = this.#entry(service, options, false)
    if (entry.instances === undefined) await this.#load(entry)
    return this.#filter(entry.instances ?? [], options)
  }

  /**
   * Ends what lookup() started: the cached service, its re-reads and its subscription (the watch).
   * A service the app uses itself (instances, pick, subscribe, fetch) stays.
   */
  release (service: string, options: ServiceQuery = {}): void {
    const entry = this.#entries.get(serviceKey(service, options))
    if (entry === undefined || entry.app || entry.listeners.size > 0) return
    this.#forget(entry)
  }

  /** Services followed now (cached, re-read and watched). */
  get size (): number { return this.#entries.size }

  /** What is followed now, for metrics and the monitoring routes: instance counts, not instances. */
  followed (): Array<{ service: string, group: string, clusters: readonly string[], instances: number, lastRefTime: number }> {
    return [...this.#entries.values()].map((e) => ({ service: e.service, group: e.group, clusters: e.clusters, instances: e.instances?.length ?? 0, lastRefTime: e.lastRefTime }))
  }

  /** The cached instances, or undefined while the service has not been read yet (reading starts). */
  cached (service: string, options: InstancesOptions = {}): readonly Instance[] | undefined {
    const entry = this.#entry(service, options)
    return entry.instances && this.#filter(entry.instances, options)
  }

  /** One instance to call, by `strategy` (default weighted-random); FST_NACOS_NO_INSTANCE when there is none. */
  async pick (service: string, options: PickOptions = {}): Promise<Instance> {
    const entry = this.#entry(service, options)
    if (entry.instances === undefined) {
      try {
        await this.#load(entry)
      } catch (err) {
        throw new NoInstanceError(service, entry.group, { cause: err })
      }
    }
    const chosen = pickFromPool(entry.pool, options.strategy ?? 'weighted-random', this.#balancer, entry.key)
    if (!chosen) throw new NoInstanceError(service, entry.group)
    return chosen
  }

  /**
   * The synchronous pick for hot paths: undefined when the cache is cold (reading starts) or has
   * no eligible instance, so `pickCached(s) ?? await pick(s)` gives the precise answer.
   */
  pickCached (service: string, options: PickOptions = {}): Instance | undefined {
    const entry = this.#entry(service, options)
    return pickFromPool(entry.pool, options.strategy ?? 'weighted-random', this.#balancer, entry.key)
  }

  /**
   * Calls `listener` with the full instance list now (once known) and after every change,
   * an empty list included. Returns the function that detaches it.
   */
  subscribe (service: string, listener: InstancesListener, options: ServiceQuery = {}): () => void {
    const entry = this.#entry(service, options)
    entry.listeners.add(listener)
    if (entry.instances !== undefined) {
      const current = entry.instances
      setImmediate(() => { if (entry.listeners.has(listener)) this.#notify(entry, listener, current) })
    } else {
      this.#load(entry).catch(() => {})
    }
    return () => { entry.listeners.delete(listener) }
  }

  /** Stops every refresh and detaches every listener; the cache is dropped. */
  close (): void {
    this.#closed = true
    for (const entry of this.#entries.values()) {
      clearTimeout(entry.timer)
      entry.listeners.clear()
      entry.unwatch()
    }
    this.#entries.clear()
  }

  #filter (instances: readonly Instance[], options: InstancesOptions): readonly Instance[] {
    return options.healthyOnly === true ? instances.filter((i) => i.healthy && i.enabled) : instances
  }

  #entry (service: string, options: ServiceQuery, app = true): Entry {
    if (this.#closed) throw new ClosedError('discovery')
    const key = serviceKey(service, options)
    const existing = this.#entries.get(key)
    if (existing) {
      existing.used = true
      existing.app ||= app
      return existing
    }
    const { group, clusters } = normalizeQuery(options)
    const entry: Entry = {
      key,
      service,
      group,
      clusters,
      instances: undefined,
      pool: toPool([]),
      lastRefTime: 0,
      signature: '',
      first: undefined,
      timer: undefined,
      used: true,
      app,
      listeners: new Set(),
      unwatch: () => {},
      fromSnapshot: undefined
    }
    this.#entries.set(key, entry)
    entry.unwatch = this.#transport.watch({ service, group, clusters }, (snapshot) => { this.#apply(entry, snapshot.hosts, snapshot.lastRefTime) })
    this.#load(entry).catch(() => {})
    return entry
  }

  /** The first read of a service, shared by concurrent callers; it starts the refresh loop. */
  async #load (entry: Entry): Promise<void> {
    entry.first ??= this.#refresh(entry).finally(() => {
      entry.first = undefined
      this.#schedule(entry)
    })
    await entry.first
  }

  #schedule (entry: Entry): void {
    // A service released while its first read was on the wire is not followed any more.
    if (this.#closed || entry.timer !== undefined || this.#entries.get(entry.key) !== entry) return
    entry.timer = setTimeout(() => {
      entry.timer = undefined
      if (this.#idleAndEmpty(entry)) return
      entry.used = false
      this.#refresh(entry).catch(() => {}).finally(() => this.#schedule(entry))
    }, this.#refreshInterval).unref()
  }

  /**
   * A service nobody listens to, not looked up for a whole re-read interval, with no instance known
   * (a mistyped name, a host given to app.nacos.fetch that is no service): forgotten, its watch
   * ended, instead of being re-read and subscribed for good. A later lookup starts it afresh.
   */
  #idleAndEmpty (entry: Entry): boolean {
    if (entry.used || entry.listeners.size > 0 || (entry.instances?.length ?? 0) > 0) return false
    this.#forget(entry)
    this.#log.debug({ service: entry.service, group: entry.group }, 'an idle service with no instances is no longer followed')
    return true
  }

  #forget (entry: Entry): void {
    clearTimeout(entry.timer)
    entry.timer = undefined
    entry.unwatch()
    this.#entries.delete(entry.key)
  }

  /** Reads the list from Nacos (which also keeps its pushes coming). */
  async #refresh (entry: Entry): Promise<void> {
    try {
      const snapshot = await this.#transport.query({ service: entry.service, group: entry.group, clusters: entry.clusters })
      if (!this.#reachable) this.#log.info({ service: entry.service, group: entry.group }, 'Nacos reachable again: discovery follows changes')
      this.#reachable = true
      this.#apply(entry, snapshot.hosts, snapshot.lastRefTime)
    } catch (err) {
      if (this.#closed) return
      // A server of the wrong protocol was said once where it was found (the transport).
      if (this.#reachable && (err as { code?: string }).code !== 'FST_NACOS_WRONG_TRANSPORT') {
        this.#log.warn({ service: entry.service, group: entry.group, err: { message: (err as Error).message } },
          'Nacos unreachable: serving the last known instances')
      }
      this.#reachable = false
      if (entry.instances === undefined && await this.#fromSnapshot(entry)) return
      throw err
    }
  }

  /** The first read failed: the list last written, if any. */
  async #fromSnapshot (entry: Entry): Promise<boolean> {
    const saved = await this.#snapshots.load<SavedService>('services', entry.key)
    if (saved === undefined || !Array.isArray(saved.data.hosts) || this.#closed || entry.instances !== undefined) return false
    this.#log.warn({ service: entry.service, group: entry.group, count: saved.data.hosts.length, savedAt: new Date(saved.savedAt).toISOString() },
      'Nacos unreachable: serving the instances of a snapshot')
    // Ordered before anything Nacos sends: whatever its clock says, its answer replaces the snapshot.
    this.#apply(entry, saved.data.hosts, -Infinity)
    entry.fromSnapshot = saved.savedAt
    return true
  }

  #apply (entry: Entry, hosts: RawHost[], lastRefTime: number): void {
    if (this.#closed) return
    if (this.#protectEmpty && hosts.length === 0 && (entry.instances?.length ?? 0) > 0) {
      this.#log.debug({ service: entry.service, group: entry.group }, 'an empty list from Nacos ignored: NACOS_PUSH_EMPTY_PROTECTION keeps the last instances')
      return
    }
    // A push and a read can cross: the older view must not undo the newer one.
    if (entry.instances !== undefined && lastRefTime < entry.lastRefTime) return
    entry.lastRefTime = lastRefTime
    const signature = JSON.stringify(hosts.map((h) => [h.ip, h.port, h.weight, h.healthy, h.enabled, h.clusterName, h.metadata]).sort())
    const fresh = lastRefTime !== -Infinity
    const stale = entry.fromSnapshot !== undefined
    if (fresh) entry.fromSnapshot = undefined
    if (fresh && (stale || signature !== entry.signature || entry.instances === undefined)) {
      this.#snapshots.save('services', entry.key, { service: entry.service, group: entry.group, clusters: entry.clusters, hosts } satisfies SavedService)
    }
    if (entry.instances !== undefined && signature === entry.signature) return
    const first = entry.instances === undefined
    entry.signature = signature
    entry.instances = Object.freeze(hosts.map((h) => toInstance(h, entry.service)))
    entry.pool = toPool(entry.instances)
    this.#log.debug({ service: entry.service, group: entry.group, count: entry.instances.length, first }, 'instances changed')
    for (const listener of entry.listeners) this.#notify(entry, listener, entry.instances)
  }

  #notify (entry: Entry, listener: InstancesListener, instances: readonly Instance[]): void {
    try {
      listener(instances)
    } catch (err) {
      this.#log.error({ service: entry.service, group: entry.group, err }, 'an instances listener threw')
    }
  }
}
