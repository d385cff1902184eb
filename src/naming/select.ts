// Which instance an attempt of app.nacos.fetch goes to: pure functions over the cached list.
// Never an instance Nacos marks unhealthy or disabled, nor one the metadata selector rules out;
// among the rest, instances not tried yet by this request and not ejected first, the caller's own
// cluster first, then the configured strategy.
import { isEligible, pickInstance, type BalancerState, type Instance, type Strategy } from './balancer.js'

export interface Selection {
  strategy: Strategy
  /** Metadata the instance must carry, e.g. `{ version: '2' }`. */
  selector?: Readonly<Record<string, string>> | undefined
  /** The caller's cluster: its instances are preferred while one is left. */
  cluster?: string | undefined
  /** `ip:port` of instances this request already tried. */
  tried: ReadonlySet<string>
  /** Undefined when no instance is ejected. */
  ejected?: ((key: string) => boolean) | undefined
}

export const instanceKey = (instance: Pick<Instance, 'ip' | 'port'>): string => `${instance.ip}:${instance.port}`

function matches (metadata: Readonly<Record<string, string>>, selector: Readonly<Record<string, string>> | undefined): boolean {
  if (selector === undefined) return true
  for (const key in selector) if (metadata[key] !== selector[key]) return false
  return true
}

/**
 * The candidates, best tier first: not tried and not ejected, then not tried, then not ejected,
 * then any usable one (when every instance is ejected, one of them still beats no answer).
 */
export function candidates (instances: readonly Instance[], selection: Selection): readonly Instance[] {
  const { tried, ejected, selector, cluster } = selection
  const usable = selector === undefined ? instances.filter(isEligible) : instances.filter((i) => isEligible(i) && matches(i.metadata, selector))
  let tier = usable
  // The usual case, nothing tried nor ejected, costs no more pass; the fallbacks only when needed.
  if (tried.size > 0 || ejected !== undefined) {
    const isEjected = ejected ?? (() => false)
    tier = usable.filter((i) => { const key = instanceKey(i); return !tried.has(key) && !isEjected(key) })
    if (tier.length === 0) tier = usable.filter((i) => !tried.has(instanceKey(i)))
    if (tier.length === 0) tier = usable.filter((i) => !isEjected(instanceKey(i)))
    if (tier.length === 0) tier = usable
  }
  if (cluster === undefined || tier.every((i) => i.clusterName === cluster)) return tier
  const local = tier.filter((i) => i.clusterName === cluster)
  return local.length > 0 ? local : tier
}

/** One instance for the next attempt, or undefined when no instance is usable. */
export function selectInstance (instances: readonly Instance[], selection: Selection, state: BalancerState, key: string): Instance | undefined {
  return pickInstance(candidates(instances, selection), selection.strategy, state, key)
}
