// The plugin's options: every setting of settings.ts, plus what only the plugin entry uses.
import type { NacosSettings } from './settings.js'
import type { PreloadEntry } from './config/center.js'
import type { MonitoringOptions } from './routes/index.js'
import type { NacosFetchDefaults } from './naming/fetch-options.js'
import type { MetricsOptions } from './observe/index.js'

export interface NacosPluginOptions extends NacosSettings {
  /**
   * Turn SIGINT/SIGTERM (and uncaught errors) into `app.close()` with close-with-grace
   * (default true). Set false when the application owns its signals.
   */
  handleSignals?: boolean
  /** How long close-with-grace lets `app.close()` run before it exits with code 1, ms (default 10000). */
  closeGraceDelay?: number
  /**
   * Read the plugin's settings from `.env` and `.env.<NODE_ENV>` in the working directory too
   * (default true; process.env is not changed). Set false when the app loads its own .env files.
   */
  dotenv?: boolean
  /**
   * Where the `NACOS_*` variables are read from (default `process.env`): an app that configures
   * itself with `@fastify/env` hands its validated `app.config` here, its schema composed with
   * `EnvSchema`.
   */
  env?: Readonly<Record<string, unknown>>
  /**
   * Configs read before the app is ready (start-up fails if one is invalid) and kept current
   * afterwards, in `app.nacos.configs` by `key` (default: the dataId).
   */
  configs?: PreloadEntry[]
  /** How often each looked-up service is re-read from Nacos besides its pushes, ms (default 300000 over gRPC, 5000 over HTTP). */
  discoveryRefreshInterval?: number
  /**
   * The monitoring routes under `prefix` (default '/monitoring/nacos'), their OpenAPI document and
   * optional Swagger UI; `false` mounts none of them.
   */
  monitoring?: false | MonitoringOptions
  /** Defaults of `app.nacos.fetch` and `app.nacos.dispatcher`: strategy, attempts, timeouts, ejection, selector. */
  fetch?: NacosFetchDefaults
  /**
   * Prometheus metrics (prom-client, installed by the app): `true` or `{ registry, route }` turns them
   * on (else NACOS_METRICS), into `registry` (default prom-client's default registry), served at
   * `<monitoring prefix>/metrics` unless `route: false`.
   */
  metrics?: boolean | MetricsOptions
}
