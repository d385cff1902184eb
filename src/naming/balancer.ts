// Choosing one instance of a service: pure functions over an instance list, no Nacos involved.
// Discovery builds a Pool once per change of a service's instances, so a pick on the hot path is
// one random number and a binary search, not a filter over the whole list.
import { SettingError } from '../errors.js'
import type { RawHost } from '../transport/types.js'
import { DEFAULT_CLUSTER } from './names.js'

/** One instance of a service, as discovery hands it out. */
export interface Instance {
  instanceId: string
  ip: string
  port: number
  weight: number
  healthy: boolean
  enabled: boolean
  ephemeral: boolean
  clusterName: string
  /** The service name without its group prefix. */
  serviceName: string
  metadata: Record<string, string>
}

/** A host as Nacos reports it → an instance, Nacos's defaults filled in. */
export function toInstance (host: RawHost, service: string): Instance {
  const metadata = Object.freeze({ ...host.metadata })
  return Object.freeze({
    instanceId: host.instanceId ?? `${host.ip}#${host.port}#${host.clusterName ?? DEFAULT_CLUSTER}`,
    ip: host.ip,
    port: host.port,
    weight: host.weight ?? 1,
    healthy: host.healthy ?? true,
    enabled: host.enabled ?? true,
    ephemeral: host.ephemeral ?? true,
    clusterName: host.clusterName ?? DEFAULT_CLUSTER,
    serviceName: service,
    metadata
  })
}

export type Strategy = 'random' | 'weighted-random' | 'round-robin'

export const STRATEGIES: readonly Strategy[] = ['random', 'weighted-random', 'round-robin']

/** What a pick may choose from, and the running weight sums for weighted picks. */
export interface Pool {
  readonly eligible: readonly Instance[]
  /** cumulative[i] is the sum of the weights of eligible[0..i]. */
  readonly cumulative: readonly number[]
  readonly totalWeight: number
}

/** Round-robin cursors per service key, and the random source (injectable for tests). */
export interface BalancerState {
  readonly cursors: Map<string, number>
  readonly random: () => number
}

export function createBalancerState (random: () => number = Math.random): BalancerState {
  return { cursors: new Map(), random }
}

/** Only instances that can take traffic: enabled, healthy and with a positive weight. */
export function isEligible (instance: Instance): boolean {
  return instance.enabled && instance.healthy && instance.weight > 0 && Number.isFinite(instance.weight)
}

export function toPool (instances: readonly Instance[]): Pool {
  const eligible = instances.filter(isEligible)
  const cumulative: number[] = []
  let total = 0
  for (const instance of eligible) {
    total += instance.weight
    cumulative.push(total)
  }
  return { eligible, cumulative, totalWeight: total }
}

/** Index of the first running sum above `target`: the instance whose weight interval holds it. */
function weightedIndex (cumulative: readonly number[], target: number): number {
  let low = 0
  let high = cumulative.length - 1
  while (low < high) {
    const mid = (low + high) >>> 1
    if ((cumulative[mid] as number) > target) high = mid
    else low = mid + 1
  }
  return low
}

/** Picks from a prepared pool; undefined when nothing is eligible. */
export function pickFromPool (pool: Pool, strategy: Strategy, state: BalancerState, key = ''): Instance | undefined {
  const count = pool.eligible.length
  if (count === 0) return undefined
  if (count === 1) return pool.eligible[0]
  switch (strategy) {
    case 'random':
      return pool.eligible[Math.floor(state.random() * count)]
    case 'round-robin': {
      const cursor = (state.cursors.get(key) ?? 0) % count
      state.cursors.set(key, cursor + 1)
      return pool.eligible[cursor]
    }
    case 'weighted-random':
      return pool.eligible[weightedIndex(pool.cumulative, state.random() * pool.totalWeight)]
    default:
      throw new SettingError('strategy', `strategy=${JSON.stringify(strategy)}`, `one of ${STRATEGIES.join(', ')}`)
  }
}

/**
 * Picks one instance among the enabled, healthy ones with weight > 0; undefined when there is
 * none. `key` names the service for the round-robin cursor kept in `state`.
 */
export function pickInstance (instances: readonly Instance[], strategy: Strategy, state: BalancerState, key = ''): Instance | undefined {
  // One eligible instance (the usual case of a request's candidates) needs no pool.
  if (instances.length === 1 && isEligible(instances[0] as Instance)) return instances[0]
  return pickFromPool(toPool(instances), strategy, state, key)
}

/**
 * `http://ip:port` for an instance; https when its metadata says `secure: "true"` (the Spring
 * Cloud convention) unless a protocol is given. IPv6 addresses are bracketed.
 */
export function baseUrl (instance: Pick<Instance, 'ip' | 'port' | 'metadata'>, options: { protocol?: 'http' | 'https' } = {}): string {
  const protocol = options.protocol ?? (instance.metadata.secure === 'true' ? 'https' : 'http')
  const host = instance.ip.includes(':') ? `[${instance.ip}]` : instance.ip
  return `${protocol}://${host}:${instance.port}`
}
