// Metrics are optional: prom-client is an optional peer dependency, imported only when they are on.
import { MetricsUnavailableError } from '../errors.js'
import { createMetrics, type Metrics, type MetricsSources } from './metrics.js'

/** The part of a prom-client `Registry` the plugin uses (the app's own copy of prom-client). */
export interface MetricsRegistry {
  metrics: () => Promise<string>
  readonly contentType: string
  registerMetric: (metric: never) => void
  removeSingleMetric: (name: string) => void
  getSingleMetric: (name: string) => unknown
}

export interface MetricsOptions {
  /** Where the metrics go (default: prom-client's default registry, `register`). */
  registry?: MetricsRegistry
  /** Serve them at `<monitoring prefix>/metrics` (default true; needs the monitoring routes). */
  route?: boolean
}

/** Loads prom-client and registers the metrics; FST_NACOS_METRICS_UNAVAILABLE when it is not installed. */
export async function loadMetrics (options: MetricsOptions, sources: MetricsSources): Promise<Metrics> {
  let prom: typeof import('prom-client')
  try {
    const mod = await import('prom-client')
    // A CommonJS module: its exports are `default` and, as Node detects them, named ones too.
    prom = (mod as { default?: typeof import('prom-client') }).default ?? mod
  } catch (err) {
    throw new MetricsUnavailableError((err as Error).message.split('\n')[0] ?? 'not found')
  }
  return createMetrics(prom, options.registry ?? prom.register, sources)
}

export type { Metrics } from './metrics.js'
