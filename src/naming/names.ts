// Nacos's naming rules, written once: the default group, the `group@@service` form Nacos keys
// services by, the names this plugin accepts, and the key of a looked-up service in our cache.

export const DEFAULT_GROUP = 'DEFAULT_GROUP'
export const DEFAULT_CLUSTER = 'DEFAULT'

/** Service, group and cluster names: what this plugin accepts (a subset of what Nacos accepts). */
export const SERVICE_NAME = '^[A-Za-z0-9_.:-]{1,256}$'
export const SERVICE_NAME_RULE = 'letters, digits, ".", "_", ":" or "-", 1 to 256 characters'

/** `group@@service`: how Nacos names a service of a group on the wire and in pushes. */
export function groupedName (service: string, group: string): string {
  return `${group}@@${service}`
}

export interface ServiceQuery {
  group?: string
  /** Only instances of these clusters; empty means every cluster. */
  clusters?: readonly string[]
}

/** The group (default DEFAULT_GROUP) and the clusters sorted without repeats. */
export function normalizeQuery (query: ServiceQuery): { group: string, clusters: string[] } {
  return { group: query.group ?? DEFAULT_GROUP, clusters: [...new Set(query.clusters ?? [])].sort() }
}

/** One key per service, group and cluster set (cluster order and repeats do not matter). */
export function serviceKey (service: string, query: ServiceQuery = {}): string {
  // Every lookup computes it: no cluster (the usual case) needs no sorting.
  if (query.clusters === undefined || query.clusters.length === 0) return `${query.group ?? DEFAULT_GROUP}@@${service}@@`
  const { group, clusters } = normalizeQuery(query)
  return `${groupedName(service, group)}@@${clusters.join(',')}`
}
