// Naming over gRPC: InstanceRequest / BatchInstanceRequest / PersistentInstanceRequest,
// ServiceQueryRequest, SubscribeServiceRequest and the server's NotifySubscriberRequest pushes.
//
// Keep-alive and redo (the choice this transport makes): an ephemeral instance registered over
// gRPC lives as long as the connection that registered it; there are no beats. This module keeps
// every ephemeral instance registered through it (until deregister) and every watched service,
// and after each reconnect registers and subscribes them again itself, as the Java client's
// NamingGrpcRedoService does (also retried every `redoIntervalMs` while anything is not yet
// redone on the current connection). keepAlive() therefore never reports `lost`: it reports
// `failed(err)` when the connection goes down (and after each round of servers that failed),
// `alive()` at keepAlive() time if the instance is registered on the current connection, and
// `registeredAgain()` after each redo of it. Stopping a keepAlive only stops the reports; the instance
// stays registered (and redone) until deregister() or close().
//
// Nacos keeps one ephemeral registration per service per connection: two instances of one
// service registered through this transport are sent together as a BatchInstanceRequest (and
// deregistering one re-sends the rest), as the Java client's batch registration does.
//
// Watches are subscriptions.ts's; this module redoes them after a reconnect.
import type { InstanceSpec, KeepAliveEvents, NamingTransport, ServiceRef, ServiceSnapshot } from '../types.js'
import { groupedName } from '../../naming/names.js'
import { Subscriptions, toSnapshot } from './subscriptions.js'
import type { Connection } from './connection.js'
import type { GrpcLog } from './link.js'
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

export class GrpcNaming implements NamingTransport {
  // Pushes come on the connection, the server retries one that is not acknowledged, and
  // subscriptions are redone after a reconnect (with the list in the answer). So discovery's
  // re-read every 5 min is answered from a subscription confirmed on the current connection, with
  // no request (as the Java client, which does not re-read by default); it goes to the server only
  // while the subscription is not confirmed (first read, after a reconnect until the redo answers).
  readonly refreshIntervalMs = 300_000
  readonly #conn: Connection
  readonly #call: Caller
  readonly #opts: NamingOptions
  /** Ephemeral instances registered through this transport, by service. */
  readonly #registered = new Map<string, Map<string, InstanceSpec>>()
  /** The connection generation each service's registration was last confirmed on. */
  readonly #registeredGen = new Map<string, number>()
  /** Registrations on the wire, by service: the generation they go out on (the redo leaves them be), and the requests (a deregistration waits for them). */
  readonly #sending = new Map<string, { gen: number, sent: Promise<unknown> }>()
  readonly #keepers = new Set<Keeper>()
  readonly #subs: Subscriptions
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
    this.#subs = new Subscriptions(call, { namespace: opts.namespace, generation: () => this.#currentGen, sendingOn: () => this.#sendingOn, log: opts.log })
    this.#offUp = conn.onUp(() => {
      this.#gen++
      void this.#redo()
    })
    this.#offDown = conn.onDown((err) => {
      for (const keeper of this.#keepers) this.#report(keeper, 'failed', err)
    })
    conn.handle('NotifySubscriberRequest', (body) => {
      this.#subs.onPush(body)
      return { type: 'NotifySubscriberResponse' }
    })
    this.#redoTimer = setInterval(() => { if (this.#conn.ready) void this.#redo() }, opts.redoIntervalMs)
    this.#redoTimer.unref()
  }

  // The connection generation is bumped by onUp; before the first connection it is 0.
  get #currentGen (): number {
    return this.#conn.ready ? this.#gen : -1
  }

  // The generation a request sent now goes out on: a request made while connecting waits for the
  // next connection (requests are released as it comes up, when onUp bumps the generation).
  get #sendingOn (): number {
    return this.#conn.ready ? this.#gen : this.#gen + 1
  }

  register = async (instance: InstanceSpec): Promise<void> => {
    if (!instance.ephemeral) {
      await this.#persistent('registerInstance', instance)
      return
    }
    const key = groupedName(instance.serviceName, instance.groupName)
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
    const key = groupedName(instance.serviceName, instance.groupName)
    const set = this.#registered.get(key)
    set?.delete(instanceKey(instance))
    // A registration still on the wire (the redo's on a new connection, a close during it) is
    // answered first: sent together, Nacos may apply the deregistration first and keep the instance.
    await this.#sending.get(key)?.sent
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
    const keeper: Keeper = { key: groupedName(instance.serviceName, instance.groupName), instanceKey: instanceKey(instance), events }
    this.#keepers.add(keeper)
    if (this.#isConfirmed(keeper)) queueMicrotask(() => { if (this.#keepers.has(keeper) && this.#isConfirmed(keeper)) this.#report(keeper, 'alive') })
    return () => { this.#keepers.delete(keeper) }
  }

  query = async (ref: ServiceRef): Promise<ServiceSnapshot> => {
    const live = this.#subs.live(ref)
    if (live) return live
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

  watch = (ref: ServiceRef, onChange: (snapshot: ServiceSnapshot) => void): (() => void) => this.#subs.watch(ref, onChange)

  onConnected = (fn: () => void): (() => void) => this.#conn.onUp(fn)

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
    this.#subs.close()
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
    const gen = this.#sendingOn
    const set = this.#registered.get(key)
    const instances = set ? [...set.values()] : []
    const first = instances[0]
    if (!first) return
    const common = { namespace: this.#opts.namespace, serviceName: first.serviceName, groupName: first.groupName, headers: {} }
    const sent = instances.length === 1
      ? this.#call('InstanceRequest', { ...common, type: 'registerInstance', instance: wireInstance(first) }, this.#resource(first.groupName, first.serviceName))
      : this.#call('BatchInstanceRequest', { ...common, type: 'batchRegisterInstance', instances: instances.map(wireInstance) }, this.#resource(first.groupName, first.serviceName))
    // Settles once this and any earlier one settled; never rejects (a deregistration only waits).
    const entry = { gen, sent: Promise.allSettled([this.#sending.get(key)?.sent, sent]) }
    this.#sending.set(key, entry)
    try {
      await sent
    } finally {
      if (this.#sending.get(key) === entry) this.#sending.delete(key)
    }
    // Confirmed on the connection it went out on, if that is still the current one.
    if (gen === this.#currentGen) this.#registeredGen.set(key, gen)
  }

  // ---- redo ----

  #isConfirmed (keeper: Keeper): boolean {
    return this.#conn.ready && this.#registeredGen.get(keeper.key) === this.#gen && this.#registered.get(keeper.key)?.has(keeper.instanceKey) === true
  }

  #report (keeper: Keeper, what: 'alive' | 'registeredAgain' | 'failed', err?: Error): void {
    try {
      if (what === 'failed') keeper.events.failed(err as Error)
      else keeper.events[what]()
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
          // Confirmed on this connection, or on its way over it (a register made while connecting).
          if (this.#registeredGen.get(key) === gen || this.#sending.get(key)?.gen === gen) continue
          try {
            await this.#sendService(key)
            this.#opts.log.info({ service: key, connection: this.#conn.server }, 'nacos grpc: registration redone')
            for (const keeper of this.#keepers) if (keeper.key === key && this.#isConfirmed(keeper)) this.#report(keeper, 'registeredAgain')
          } catch (err) {
            this.#opts.log.warn({ service: key, err: (err as Error).message }, 'nacos grpc: registration redo failed, will retry')
            for (const keeper of this.#keepers) if (keeper.key === key) this.#report(keeper, 'failed', err as Error)
          }
        }
        await this.#subs.redo(gen)
      } while (this.#redoAgain && !this.#closed)
    } finally {
      this.#redoing = false
    }
  }
}
