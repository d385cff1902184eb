// The plugin entry: it only wires. Settings → the chosen transport → registry, discovery and
// config center → the `app.nacos` decorator → lifecycle hooks → monitoring routes.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import type { AddressInfo } from 'node:net'
import { redact } from './settings.js'
import { resolveSettings } from './resolve.js'
import { loadTransport } from './transport/load.js'
import { Registry } from './naming/registry.js'
import { Discovery, type ServiceQuery } from './naming/discovery.js'
import { baseUrl } from './naming/balancer.js'
import { ConfigCenter } from './config/center.js'
import { createServiceClient } from './naming/fetch.js'
import { checkGraceDelay, installSignalHandlers, silentConnections, type SignalHandlers } from './shutdown.js'
import { NacosUnusableError, RegistrationFailedError } from './errors.js'
import { startFuzzyWatch } from './fuzzy.js'
import { mountMonitoring } from './routes/index.js'
import { snapshotsOf } from './snapshot/index.js'
import type { NacosRegistry } from './types.js'
import type { NacosPluginOptions } from './options.js'
import { loadMetrics, type Metrics } from './observe/index.js'
import { fanOut } from './observe/events.js'
import { Watches } from './observe/watches.js'
import { observeTransport } from './observe/transport.js'
import { observeSnapshots } from './observe/snapshots.js'
import { attemptHook } from './observe/channels.js'

/** @fastify/env's app.config holds numbers and booleans: the settings resolve from their text again. */
const stringEnv = (env: Readonly<Record<string, unknown>>): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(env).flatMap(([k, v]) => (v === undefined || v === null ? [] : [[k, typeof v === 'string' ? v : String(v)]])))

const nacosPlugin: FastifyPluginAsync<NacosPluginOptions> = async (fastify, options) => {
  const { handleSignals = true, closeGraceDelay = 10_000, dotenv = true, env, configs = [], discoveryRefreshInterval, monitoring = {}, fetch: fetchDefaults = {}, metrics: metricsOption, ...settings } = options
  const config = resolveSettings({
    ...settings,
    monitoringToken: monitoring === false ? undefined : monitoring.token,
    monitoringProtectReads: monitoring === false ? undefined : monitoring.protectReads,
    metrics: metricsOption === undefined ? undefined : metricsOption !== false
  }, { dotenv, ...(env === undefined ? {} : { env: stringEnv(env) }) })
  if (handleSignals) checkGraceDelay(closeGraceDelay, config.drainDelayMs, config.requestTimeoutMs)
  // The app's level unless the plugin's own is set: an app at `warn` gets no info lines from Nacos.
  const log = config.logLevel === undefined ? fastify.log.child({ plugin: 'nacos' }) : fastify.log.child({ plugin: 'nacos' }, { level: config.logLevel })
  const snapshots = await snapshotsOf(config, log)
  const loaded = await loadTransport(config, log)
  const { sdkClient } = loaded
  const metricsOptions = typeof metricsOption === 'object' ? metricsOption : {}
  let metrics: Metrics | undefined
  if (config.metricsEnabled) {
    try {
      metrics = await loadMetrics(metricsOptions, {
        state: () => registry.status().state,
        services: () => discovery?.followed() ?? [],
        connected: () => loaded.transport.connected?.()
      })
    } catch (err) {
      await loaded.transport.close()
      throw err
    }
  }
  const watches = new Watches()
  const observer = fanOut(watches.observer, ...(metrics === undefined ? [] : [metrics.observer]))
  const transport = observeTransport(loaded.transport, observer)
  const served = observeSnapshots(snapshots, observer)
  // Reconnects are counted where there is a connection (gRPC); HTTP's server-back signal is not one.
  const offConnected = metrics === undefined || transport.connected === undefined ? undefined : transport.naming.onConnected(observer.connected)

  const registry = new Registry({ transport: transport.naming, config, log })
  let discovery: Discovery | undefined
  const discover = (): Discovery => {
    discovery ??= new Discovery({ transport: transport.naming, log, refreshInterval: discoveryRefreshInterval, snapshots: served, pushEmptyProtection: config.pushEmptyProtection })
    return discovery
  }
  // app.nacos.fetch / dispatcher: calls by service name, over discovery's cache.
  const lookup = { cached: (s: string, q: ServiceQuery) => discover().cached(s, q), instances: async (s: string, q: ServiceQuery) => await discover().instances(s, q) }
  const services = createServiceClient({ lookup, cluster: config.clusterName, defaults: fetchDefaults, attemptHook: attemptHook(fetchDefaults.onAttempt, observer, metrics !== undefined), log })
  let center: ConfigCenter | undefined
  const configCenter = (): ConfigCenter => {
    center ??= new ConfigCenter({ transport: transport.config, log, snapshots: served })
    return center
  }
  if (configs.length > 0) {
    try {
      await configCenter().preload(configs)
    } catch (err) {
      // No onClose hook exists yet: release what was opened, or the long poll keeps the process up.
      center?.close()
      metrics?.close()
      await transport.close()
      throw err
    }
  }

  const decorator: NacosRegistry = {
    status: () => ({ ...registry.status(), snapshots: { services: discovery?.snapshotted() ?? [], configs: center?.snapshotted() ?? [] } }),
    register: async () => await registry.register(),
    registered: async () => await registry.registered(),
    deregister: async () => await registry.deregister(),
    settings: redact(config),
    get client () { return sdkClient() },
    instances: async (service, opts) => await discover().instances(service, opts),
    pick: async (service, opts) => await discover().pick(service, opts),
    pickCached: (service, opts) => discover().pickCached(service, opts),
    pickUrl: async (service, opts) => baseUrl(await discover().pick(service, opts)),
    subscribe: (service, listener, opts) => discover().subscribe(service, listener, opts),
    fuzzyWatch: async ({ service, group }, listener) => await startFuzzyWatch(transport.naming.fuzzyWatch, 'services', group, service, (c) => { listener({ service: c.name, group: c.group, change: c.change }) }),
    fetch: services.fetch,
    get dispatcher () { return services.dispatcher },
    get config () { return configCenter() },
    get configs () { return configCenter().values }
  }
  fastify.decorate('nacos', decorator)

  fastify.addHook('onReady', async () => {
    if (!config.failFast || !config.registerEnabled) return
    try {
      await transport.naming.probe()
    } catch (err) {
      throw new NacosUnusableError((err as Error).message)
    }
  })

  let signals: SignalHandlers | undefined
  // Registration waits for onListen: Nacos must never advertise a port that is not bound yet.
  fastify.addHook('onListen', async function (this: FastifyInstance) {
    const address = this.server.address() as AddressInfo | string | null
    // Every address it listens on (localhost: 127.0.0.1 and ::1): the advertised IP must be one of them.
    const addresses = this.addresses().flatMap((a) => (typeof a === 'string' ? [] : [a.address]))
    registry.listening(typeof address === 'object' && address !== null ? address.port : Number(config.port), addresses)
    registry.start()
    if (handleSignals) signals = installSignalHandlers(this, closeGraceDelay, log)
    // Fastify ignores onListen errors and listen() has resolved: the app learns of a failed first
    // registration from app.nacos.registered(), and with failFast the app closes itself.
    if (config.failFast && config.registerEnabled) {
      registry.registered().catch((err: unknown) => {
        if (!(err instanceof RegistrationFailedError)) return
        log.fatal({ err }, 'nacos: the first registration failed (NACOS_FAIL_FAST=true); closing the app')
        void this.close()
      })
    }
  })

  const silent = silentConnections(fastify.server)
  // Deregister before connections drain, so Nacos stops routing traffic to a dying instance.
  fastify.addHook('preClose', async () => {
    // Counted, not read from the state: a close during a registration still on the wire
    // deregisters an instance Nacos may already list, and clients need the delay then too.
    const before = registry.status().counts.deregistrations
    await registry.deregister()
    if (registry.status().counts.deregistrations > before && config.drainDelayMs > 0) {
      log.info({ drainDelayMs: config.drainDelayMs }, 'nacos drain delay before closing connections')
      await sleep(config.drainDelayMs)
    }
    const closed = silent.close()
    if (closed > 0) log.debug({ connections: closed }, 'nacos: closed connections that never sent a request')
  })

  fastify.addHook('onClose', async () => {
    registry.close()
    silent.stop()
    signals?.uninstall()
    // Our listeners come off the transport before it closes.
    discovery?.close()
    center?.close()
    await services.close()
    offConnected?.()
    metrics?.close()
    await transport.close()
    await snapshots.flush()
  })

  if (monitoring !== false) {
    await mountMonitoring(fastify, monitoring, config, {
      lookup: async (service, opts) => await discover().lookup(service, opts),
      release: (service, opts) => { discovery?.release(service, opts) }
    }, {
      scrape: metrics !== undefined && metricsOptions.route !== false ? metrics.scrape : undefined,
      watches: () => ({
        services: (discovery?.followed() ?? []).map((s) => ({ ...s, clusters: [...s.clusters], lastRefTime: s.lastRefTime > 0 ? new Date(s.lastRefTime).toISOString() : null })),
        configs: watches.configs(),
        history: watches.history()
      })
    })
  }
}

export const fastifyNacos = fp(nacosPlugin, { fastify: '5.x', name: 'fastify-nacos' })
export default fastifyNacos

export type { NacosRegistry, NacosStatus, FuzzyServiceEvent } from './types.js'
export type { FuzzyWatchHandle, FuzzyChangeType } from './fuzzy.js'
export type { FuzzyConfigEvent } from './config/center.js'
export type { NacosPluginOptions } from './options.js'
export { EnvSchema, type NacosSettings, type ResolvedSettings } from './settings.js'
export { resolveSettings } from './resolve.js'
export { detectIp, inNetwork, isIPv4, isLoopback, IP_TYPES, type InterfaceTable, type IpPreferences, type IpType } from './ip.js'
export {
  SettingError, RegistrationFailedError, NotListeningError, RegistrationDisabledError, NoInstanceError, ConfigInvalidError,
  NacosUnavailableError, NoSnapshotError, TooManyLookupsError, NoSdkClientError, SdkMismatchError, NacosUnusableError, NacosAuthError, ClosedError, FetchFailedError
} from './errors.js'
export type { RegistryStatus, RegistrationState } from './naming/registry.js'
export type { InstanceSpec } from './transport/types.js'
export type { NamingClient } from './transport/http/sdk-repairs.js'
export type { Instance, Strategy, InstancesListener, InstancesOptions, PickOptions, ServiceQuery, SnapshotUse } from './naming/discovery.js'
export { baseUrl, STRATEGIES } from './naming/balancer.js'
export type { NacosFetch, NacosRequestInit } from './naming/fetch.js'
export type { NacosFetchOptions, NacosFetchDefaults, AttemptEvent } from './naming/fetch-options.js'
export type { EjectionOptions } from './naming/outliers.js'
export { MAX_LOOKUPS, type MonitoringOptions } from './routes/index.js'
export type { MetricsOptions, MetricsRegistry } from './observe/index.js'
export { REQUEST_CHANNEL, CALL_CHANNEL, type RequestContext, type CallContext } from './observe/channels.js'
export { MetricsUnavailableError } from './errors.js'
export {
  MonitoringRouteSchemas, MONITORING_SCHEMAS, MONITORING_SECURITY_SCHEME, monitoringSecurityScheme,
  MonitoringErrorSchema, ServiceSchema, HeartbeatSchema, CountsSchema, InstanceSchema, InstanceListSchema,
  HealthUpSchema, HealthDownSchema, SnapshotsSchema, InstancesParamsSchema, InstancesQuerySchema, NoQuerySchema, NoBodySchema, WatchesSchema,
  type MonitoringError, type MonitoringService, type MonitoringInstance, type MonitoringInstanceList,
  type MonitoringHealthUp, type MonitoringHealthDown, type MonitoringSnapshots, type MonitoringInstancesParams, type MonitoringInstancesQuery, type MonitoringWatches
} from './routes/schemas.js'
export { ConfigCenter, type ConfigSnapshotUse, type ConfigOptions, type PreloadEntry, type PreloadedConfigs } from './config/center.js'
export { parseProperties, type ConfigType } from './config/formats.js'
