// The seam between the plugin and Nacos. The registry, discovery and the config center import
// this module and nothing else that talks to Nacos; each transport (http/, grpc/) implements it.
// No HTTP status, beat code, gRPC status or SDK object crosses this interface.

/** What we register: every field explicit, nothing defaulted by a transport. */
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

/** A host as Nacos reports it (a query answer or a push); missing fields take Nacos's defaults. */
export interface RawHost {
  instanceId?: string
  ip: string
  port: number
  weight?: number
  healthy?: boolean
  enabled?: boolean
  ephemeral?: boolean
  clusterName?: string
  serviceName?: string
  metadata?: Record<string, string>
}

/** A service's instances at one moment; `lastRefTime` (ms) orders crossing pushes and reads. */
export interface ServiceSnapshot {
  hosts: RawHost[]
  lastRefTime: number
}

/** Which instances: a service in a group, optionally only some clusters (sorted, no repeats). */
export interface ServiceRef {
  service: string
  group: string
  clusters: readonly string[]
}

/**
 * What a transport tells the registry about a kept-alive instance. HTTP: one call per beat.
 * gRPC: `alive` when the connection (re)established with the instance in place, `lost` when it
 * must be registered again (e.g. after a reconnect to a server that does not know it).
 */
export interface KeepAliveEvents {
  /** Nacos confirmed the instance (a beat answered, a health check passed). */
  alive: () => void
  /** Nacos no longer knows the instance: the registry registers it again. */
  lost: () => void
  /** Keeping alive failed this time (Nacos unreachable); the transport keeps trying on its own. */
  failed: (err: Error) => void
  /** The transport registered the instance again by itself (gRPC: its redo on a new connection). */
  registeredAgain: () => void
}

/**
 * A fuzzy watch (Nacos 3): every service (or config) whose group and name match, in Nacos's
 * pattern syntax per part: exact, `*`, `prefix*`, `*suffix` or `*infix*`.
 */
export interface FuzzyPattern {
  group: string
  name: string
}

/**
 * One service or config that came to match (added) or is gone (removed). Nacos 3 tells only
 * these: a config published again or an instance that changed is no news to a fuzzy watch.
 */
export interface FuzzyChange {
  group: string
  name: string
  change: 'added' | 'removed'
}

/**
 * Resolves once the server accepted the watch (rejects when it cannot fuzzy watch or refused the
 * pattern); `onChange` then gets what matches now, as `added`, and every change after. The
 * resolved function cancels it. Redone after every reconnect with what is already known.
 */
export type FuzzyWatch = (pattern: FuzzyPattern, onChange: (change: FuzzyChange) => void) => Promise<() => Promise<void>>

export interface NamingTransport {
  /** Services by pattern (Nacos 3 servers, gRPC only: absent where the transport cannot). */
  fuzzyWatch?: FuzzyWatch
  /**
   * How often discovery re-reads a watched service when the app does not say (ms): the safety
   * net under this transport's pushes.
   */
  readonly refreshIntervalMs: number
  register: (instance: InstanceSpec) => Promise<void>
  deregister: (instance: InstanceSpec) => Promise<void>
  /** Keeps a registered instance alive until the returned function is called (or close()). */
  keepAlive: (instance: InstanceSpec, events: KeepAliveEvents) => () => void
  /** The instances of a service now, read from Nacos. */
  query: (ref: ServiceRef) => Promise<ServiceSnapshot>
  /**
   * Asks Nacos to push changes of a service; `onChange` gets each pushed snapshot (an empty host
   * list included). Returns the function that stops watching.
   */
  watch: (ref: ServiceRef, onChange: (snapshot: ServiceSnapshot) => void) => () => void
  /** Resolves when at least one server answers; rejects with every server's reason otherwise. */
  probe: () => Promise<void>
  /**
   * Calls `fn` each time the transport (re)connects to Nacos, so that what failed while it could
   * not be reached is tried again now rather than after a backoff. Returns the function that
   * stops it. gRPC: a new connection; HTTP, which holds none: a server that a request could not
   * reach answers one again.
   */
  onConnected: (fn: () => void) => () => void
}

export interface ConfigKey {
  dataId: string
  group: string
}

export interface ConfigTransport {
  /** Configs by pattern (dataId as `name`; Nacos 3 servers, gRPC only: absent where the transport cannot). */
  fuzzyWatch?: FuzzyWatch
  /** The content, or null when the config does not exist. */
  get: (key: ConfigKey) => Promise<string | null>
  publish: (key: ConfigKey, content: string, type: string) => Promise<void>
  remove: (key: ConfigKey) => Promise<void>
  /**
   * Follows a config: `onChange` gets the new content after every change (null once removed).
   * Returns the function that stops following.
   */
  watch: (key: ConfigKey, onChange: (content: string | null) => void) => () => void
}

/** One connection to Nacos, for naming and config; created by the plugin entry, closed on app close. */
export interface Transport {
  readonly name: 'http' | 'grpc'
  readonly naming: NamingTransport
  readonly config: ConfigTransport
  /** Whether a connection to Nacos is up now; only transports that hold one (gRPC) have it. */
  readonly connected?: () => boolean
  /** Stops every timer, request, socket and stream; idempotent. */
  close: () => Promise<void>
}
