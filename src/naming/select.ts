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
  ejected: (key: string) => boolean
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
  const { tried, ejected, selector } = selection
  const usable = instances.filter((i) => isEligible(i) && matches(i.metadata, selector))
  const open = (i: Instance): boolean => !ejected(instanceKey(i))
  // The usual case, nothing tried nor ejected, costs one more pass; the fallbacks only when needed.
  let tier = usable.filter((i) => { const key = instanceKey(i); return !tried.has(key) && !ejected(key) })
  if (tier.length === 0) tier = usable.filter((i) => !tried.has(instanceKey(i)))
  if (tier.length === 0) tier = usable.filter(open)
  if (tier.length === 0) tier = usable
  if (selection.cluster === undefined) return tier
  const local = tier.filter((i) => i.clusterName === selection.cluster)
  return local.length > 0 ? local : tier
}

/** One instance for the next attempt, or undefined when no instance is usable. */
export function selectInstance (instances: readonly Instance[], selection: Selection, state: BalancerState, key: string): Instance | undefined {
  return pickInstance(candidates(instances, selection), selection.strategy, state, key)
}
