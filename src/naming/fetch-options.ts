// The options of app.nacos.fetch and app.nacos.dispatcher: per request (`init.nacos`, or the
// `nacos` field of undici's request options) over the plugin's `fetch` option over the defaults.
import { SettingError } from '../errors.js'
import { STRATEGIES, type Instance, type Strategy } from './balancer.js'
import { DEFAULT_GROUP, type ServiceQuery } from './names.js'
import type { EjectionOptions } from './outliers.js'

/** Per request: what to call and how. */
export interface NacosFetchOptions {
  /** The service to call; default: the host of the URL (URL hosts are lower-cased: name others here). */
  service?: string
  /** Group of the service (default DEFAULT_GROUP). */
  group?: string
  /** Only instances of these clusters (default: every cluster). */
  clusters?: readonly string[]
  /** Load-balancing strategy of each attempt (default weighted-random). */
  strategy?: Strategy
  /** Metadata an instance must carry to be picked, e.g. `{ version: '2' }` for canary routing. */
  selector?: Readonly<Record<string, string>>
  /** Instances of this app's own cluster (NACOS_CLUSTER_NAME) first, the others when none is left (default true). */
  preferSameCluster?: boolean
  /** Attempts at most, each on another instance when one is left (default 3; 1 turns retries off). */
  attempts?: number
  /** Time each attempt waits for the response headers, ms (default 10000). */
  timeout?: number
}

/** One attempt, as the `onAttempt` hook sees it. */
export interface AttemptEvent {
  service: string
  /** `ip:port` of the instance. */
  instance: string
  /** 1 for the first attempt of a request. */
  attempt: number
  /** When the attempt started (Date.now()). */
  start: number
  /** How long it took until its answer's headers or its failure, ms. */
  duration: number
  statusCode?: number | undefined
  error?: Error | undefined
  /** Counted as a failure of the instance (no answer, a timeout, 502/503/504). */
  failed: boolean
  /** Another attempt follows. */
  retry: boolean
  /** The instance was ejected by this failure for this long, ms; 0 when not. */
  ejectedMs: number
}

/** The plugin's `fetch` option: defaults of every request, and what only the plugin sets. */
export interface NacosFetchDefaults extends Omit<NacosFetchOptions, 'service'> {
  /** Time to open a connection to an instance, ms (default 2000); a connect timeout is retried on another instance. */
  connectTimeout?: number
  /** Passive outlier ejection (default `{ failures: 3, baseMs: 1000, maxMs: 30000 }`); false turns it off. */
  ejection?: EjectionOptions | false
  /** Called after every attempt (metrics, tests). */
  onAttempt?: (event: AttemptEvent) => void
}

export interface ResolvedFetchOptions {
  service: string | undefined
  group: string
  clusters: readonly string[]
  strategy: Strategy
  selector: Readonly<Record<string, string>> | undefined
  preferSameCluster: boolean
  attempts: number
  timeout: number
  /** `{ group, clusters }`, built once for every lookup of the request. */
  query: ServiceQuery
}

/** Discovery's cache, as the interceptor reads it. */
export interface ServiceLookup {
  cached: (service: string, query: ServiceQuery) => readonly Instance[] | undefined
  instances: (service: string, query: ServiceQuery) => Promise<readonly Instance[]>
}

function check (ok: boolean, name: string, value: unknown, expected: string): void {
  if (!ok) throw new SettingError(`fetch.${name}`, `fetch.${name}=${JSON.stringify(value)}`, expected)
}

/** Merges per-request options over the defaults, and checks them. */
export function resolveFetchOptions (defaults: NacosFetchDefaults, perRequest: NacosFetchOptions = {}): ResolvedFetchOptions {
  const o = { ...defaults, ...perRequest }
  const resolved: ResolvedFetchOptions = {
    service: perRequest.service,
    group: o.group ?? DEFAULT_GROUP,
    clusters: o.clusters ?? [],
    strategy: o.strategy ?? 'weighted-random',
    selector: o.selector,
    preferSameCluster: o.preferSameCluster ?? true,
    attempts: o.attempts ?? 3,
    timeout: o.timeout ?? 10_000,
    query: {}
  }
  check(Number.isInteger(resolved.attempts) && resolved.attempts >= 1 && resolved.attempts <= 10, 'attempts', resolved.attempts, 'an integer from 1 to 10')
  check(Number.isFinite(resolved.timeout) && resolved.timeout > 0, 'timeout', resolved.timeout, 'a positive number of ms')
  check(STRATEGIES.includes(resolved.strategy), 'strategy', resolved.strategy, STRATEGIES.join(', '))
  resolved.query = { group: resolved.group, clusters: resolved.clusters }
  return resolved
}
