// The public types of `app.nacos`, in a module of their own so that the monitoring routes and the
// plugin entry both depend on it, never on each other.
import type { RegistryStatus } from './naming/registry.js'
import type { Instance, InstancesListener, InstancesOptions, PickOptions, ServiceQuery, SnapshotUse } from './naming/discovery.js'
import type { ConfigCenter, ConfigSnapshotUse, PreloadedConfigs } from './config/center.js'
import type { RedactedSettings } from './settings.js'
import type { NamingClient } from './transport/http/sdk-repairs.js'
import type { Dispatcher } from 'undici'
import type { NacosFetch } from './naming/fetch.js'
import type { FuzzyChangeType, FuzzyWatchHandle } from './fuzzy.js'

/** app.nacos.status(): the registration, and what is served from a local snapshot since when. */
export interface NacosStatus extends RegistryStatus {
  snapshots: { services: SnapshotUse[], configs: ConfigSnapshotUse[] }
}

/** `fastify.nacos`: this service's registration, discovery of others, the config center. */
export interface NacosRegistry {
  /** State machine, instance, last beat, last error, counters, and what is served from a snapshot. */
  status: () => NacosStatus
  /** Registers now (idempotent); rejects with FST_NACOS_REGISTRATION_FAILED if Nacos refuses. */
  register: () => Promise<RegistryStatus>
  /**
   * Resolves once this instance is registered (at once when it is). Rejects when it will not be:
   * FST_NACOS_REGISTRATION_FAILED when the first registration failed with failFast (the app then
   * closes itself), FST_NACOS_REGISTRATION_DISABLED, FST_NACOS_CLOSED when the app closed first.
   */
  registered: () => Promise<RegistryStatus>
  /** Deregisters and stops heartbeats (idempotent, safe to call concurrently). */
  deregister: () => Promise<RegistryStatus>
  /** The resolved settings, secrets masked. */
  readonly settings: RedactedSettings
  /**
   * HTTP transport only: the `nacos` SDK naming client (created on first use), for what this plugin
   * does not cover. With the gRPC transport, reading it throws FST_NACOS_NO_SDK_CLIENT.
   */
  readonly client: NamingClient
  /** Instances of a service from the local cache; the first call reads Nacos and subscribes. */
  instances: (service: string, options?: InstancesOptions) => Promise<readonly Instance[]>
  /** One enabled, healthy instance (default strategy weighted-random); FST_NACOS_NO_INSTANCE (503) when none. */
  pick: (service: string, options?: PickOptions) => Promise<Instance>
  /** Synchronous pick from the cache: undefined while the service is not known yet or has no eligible instance. */
  pickCached: (service: string, options?: PickOptions) => Instance | undefined
  /** `http://ip:port` of a picked instance (https when its metadata says `secure: "true"`). */
  pickUrl: (service: string, options?: PickOptions) => Promise<string>
  /** Calls `listener` with the instance list now and after every change; returns the unsubscribe function. */
  subscribe: (service: string, listener: InstancesListener, options?: ServiceQuery) => () => void
  /**
   * `fetch` where the URL's host is a service name (`http://orders-api/orders/1`): each attempt goes
   * to an instance picked from discovery, failures are retried on another instance while safe, and
   * failing instances are ejected for a while. Per-request options in `init.nacos`; rejects with
   * FST_NACOS_NO_INSTANCE or FST_NACOS_FETCH_FAILED when no instance answered.
   */
  fetch: NacosFetch
  /** The same, as an undici Dispatcher for `undici.request(url, { dispatcher })` and undici's `fetch` (options in `nacos`). */
  readonly dispatcher: Dispatcher
  /**
   * Nacos 3 fuzzy watch: every service whose name and group match (each exact, `*`, `prefix*`,
   * `*suffix` or `*infix*`; group default DEFAULT_GROUP). Resolves once Nacos accepted the pattern;
   * `listener` then gets each service that matches now and later (`added`) and each one gone
   * (`removed`, its last instance deregistered), also across reconnects. Rejects with
   * FST_NACOS_FUZZY_WATCH_UNSUPPORTED (http transport, Nacos 2.x), FST_NACOS_FUZZY_PATTERN,
   * FST_NACOS_FUZZY_WATCH_LIMIT (the server's pattern or match limits).
   */
  fuzzyWatch: (pattern: { service: string, group?: string }, listener: (event: FuzzyServiceEvent) => void) => Promise<FuzzyWatchHandle>
  /** The config center: get, watch, publish, remove (created on first use). */
  readonly config: ConfigCenter
  /**
   * Values of the `configs` option by key, kept current. `configs.get(entry)` with the entry given
   * in `configs` is typed by its schema; `undefined` while the config is absent or after it is
   * removed in Nacos.
   */
  readonly configs: PreloadedConfigs
}

/** One change seen by `app.nacos.fuzzyWatch`. */
export interface FuzzyServiceEvent {
  service: string
  group: string
  change: FuzzyChangeType
}

declare module 'fastify' {
  interface FastifyInstance {
    nacos: NacosRegistry
  }
}
