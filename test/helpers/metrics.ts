// Reads the plugin's metrics from a prom-client registry, for the metrics tests.
import type { Registry } from 'prom-client'

/** One metric's value summed over its samples whose labels match (0 when absent); a histogram's count. */
export async function metricValue (registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name)
  if (metric === undefined) return 0
  const { values } = await metric.get()
  return values
    .filter((v) => (v as { metricName?: string }).metricName === undefined || (v as { metricName?: string }).metricName === name || (v as { metricName?: string }).metricName === `${name}_count`)
    .filter((v) => (v as { metricName?: string }).metricName !== `${name}_bucket`)
    .filter((v) => Object.entries(labels).every(([k, l]) => String((v.labels as Record<string, unknown>)[k]) === l))
    .reduce((n, v) => n + v.value, 0)
}

/** Whether the registry has any sample of `name` now (a gauge that is absent, e.g. the connection over HTTP, has none). */
export async function hasSamples (registry: Registry, name: string): Promise<boolean> {
  const metric = registry.getSingleMetric(name)
  return metric !== undefined && (await metric.get()).values.length > 0
}
