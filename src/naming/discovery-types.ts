// The types of discovery: its options, what callers pass and get, and a cached service's entry.
import type { NamingTransport, RawHost } from '../transport/types.js'
import type { Instance, Pool, Strategy } from './balancer.js'
import type { ServiceQuery } from './names.js'
import type { SnapshotStore } from '../snapshot/store.js'

/** pino-like: `log.warn({ service }, 'message')`. */
export type DiscoveryLogger = Record<'info' | 'warn' | 'debug' | 'error', (obj: object, msg: string) => void>

export interface DiscoveryOptions {
  transport: NamingTransport
  log: DiscoveryLogger
  /** How often each looked-up service is re-read from Nacos, ms (default: the transport's). Pushes come sooner. */
  refreshInterval?: number
  /** An empty list from Nacos keeps the last non-empty one (NACOS_PUSH_EMPTY_PROTECTION). */
  pushEmptyProtection?: boolean
  /** Where each service's list is kept, and read back when Nacos cannot answer its first read. */
  snapshots?: SnapshotStore
}

/** A service served from a snapshot: which, and since when its list was written. */
export interface SnapshotUse {
  service: string
  group: string
  clusters: string[]
  savedAt: string
}

/** What a service snapshot holds. */
export interface SavedService {
  service: string
  group: string
  clusters: string[]
  hosts: RawHost[]
}

export interface InstancesOptions extends ServiceQuery {
  /** Only healthy, enabled instances. */
  healthyOnly?: boolean
}

export interface PickOptions extends ServiceQuery {
  strategy?: Strategy
}

export type InstancesListener = (instances: readonly Instance[]) => void

export interface Entry {
  /** serviceKey(): the cache key and the round-robin cursor's name. */
  readonly key: string
  readonly service: string
  readonly group: string
  readonly clusters: string[]
  instances: readonly Instance[] | undefined
  pool: Pool
  lastRefTime: number
  signature: string
  first: Promise<void> | undefined
  timer: NodeJS.Timeout | undefined
  /** Looked up since the last re-read (see #schedule). */
  used: boolean
  /** Used by the app itself (not only through lookup()): release() leaves it alone. */
  app: boolean
  readonly listeners: Set<InstancesListener>
  unwatch: () => void
  /** When the snapshot now served was written (ms); undefined once Nacos answered. */
  fromSnapshot: number | undefined
}
