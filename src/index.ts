import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import type { AddressInfo } from 'node:net'
import { resolveConfig, redact, type NacosConfig, type NacosSettings } from './config.js'
import { NacosHttpClient } from './http-client.js'
import { closeNamingClient, createNamingClient, NamingTransport, sdkLogger, type NamingClient } from './sdk.js'
import { Registry, type RegistryStatus } from './registry.js'
import { installSignalHandlers, type SignalHandlers } from './shutdown.js'
import { Discovery, type Instance, type InstancesListener, type InstancesOptions, type PickOptions, type ServiceQuery } from './discovery.js'
import { baseUrl } from './balancer.js'
import { ConfigCenter, type PreloadEntry } from './config-center.js'
import { mountMonitoring, type MonitoringOptions } from './routes/index.js'

export interface NacosPluginOptions extends NacosSettings {
  /**
   * Turn SIGINT/SIGTERM (and uncaught errors) into `app.close()` with close-with-grace
   * (default true). Set false when the application owns its signals.
   */
  handleSignals?: boolean
  /** How long close-with-grace lets `app.close()` run before it exits with code 1, ms (default 10000). */
  closeGraceDelay?: number
  /** Load `.env` and `.env.<NODE_ENV>` from the working directory (default true). */
  dotenv?: boolean
  /**
   * Configs read before the app is ready (start-up fails if one is invalid) and kept current
   * afterwards, in `app.nacos.configs` by `key` (default: the dataId).
   */
  configs?: PreloadEntry[]
  /** How often each looked-up service is re-read from Nacos besides its pushes, ms (default 5000). */
  discoveryRefreshInterval?: number
  /**
   * The monitoring routes under `prefix` (default '/monitoring/nacos'), their OpenAPI document and
   * optional Swagger UI; `false` mounts none of them.
   */
  monitoring?: false | MonitoringOptions
}

/** `fastify.nacos`: this service's registration, discovery of others, the config center. */
export interface NacosRegistry {
  /** State machine, instance, last beat, last error, counters. */
  status: () => RegistryStatus
  /** Registers now (idempotent); rejects with FST_NACOS_REGISTRATION_FAILED if Nacos refuses. */
  register: () => Promise<RegistryStatus>
  /** Deregisters and stops heartbeats (idempotent, safe to call concurrently). */
  deregister: () => Promise<RegistryStatus>
  /** The resolved settings, secrets masked. */
  readonly settings: ReturnType<typeof redact>
  /** The `nacos` SDK naming client (created on first use), for what this plugin does not cover. */
  readonly client: NamingClient
  /** Instances of a service from the local cache; the first call reads Nacos and subscribes. */
  instances: (service: string, options?: InstancesOptions) => Promise<readonly Instance[]>
  /** One enabled, healthy instance (default strategy weighted-random); FST_NACOS_NO_INSTANCE (503) when none. */
  pick: (service: string, options?: PickOptions) => Promise<Instance>
  /** Synchronous pick from the cache: undefined while the service is not known yet or has no eligible instance. */
  pickCached: (service: string, options?: PickOptions) => Instance | undefined
  /** `http://ip:port` of a picked instance (https when its metadata says `secure: "true"`). */
  pickUrl: (service: string, options?: PickOptions) => Promise<string>
  /** Calls `listener` with the instance list now and after every change; returns the unsubscribe function. */
  subscribe: (service: string, listener: InstancesListener, options?: ServiceQuery) => () => void
  /** The config center: get, watch, publish, remove (created on first use). */
  readonly config: ConfigCenter
  /** Values of the `configs` option, kept current; undefined while a config is absent. */
  readonly configs: ReadonlyMap<string, unknown>
}

declare module 'fastify' {
  interface FastifyInstance {
    nacos: NacosRegistry
  }
}

async function probe (http: NacosHttpClient, config: NacosConfig): Promise<void> {
  const failures: string[] = []
  for (const server of config.serverAddr) {
    try {
      const res = await http.request(`http://${server}/nacos/v1/ns/operator/metrics`)
      if (res.status === 200) return
      failures.push(`${server}: HTTP ${res.status}`)
    } catch (err) {
      failures.push(`${server}: ${http.lastFailure ?? (err as Error).message}`)
    }
  }
  throw new Error(`fastify-nacos: Nacos is not usable at start-up (NACOS_FAIL_FAST=true): ${failures.join('; ')}`)
}

const nacosPlugin: FastifyPluginAsync<NacosPluginOptions> = async (fastify, options) => {
  const { handleSignals = true, closeGraceDelay = 10_000, dotenv = true, configs = [], discoveryRefreshInterval, monitoring = {}, ...settings } = options
  const config = resolveConfig({
    ...settings,
    monitoringToken: monitoring === false ? undefined : monitoring.token,
    monitoringProtectReads: monitoring === false ? undefined : monitoring.protectReads
  }, { dotenv })
  const log = fastify.log.child({ plugin: 'nacos' }, { level: config.logLevel })
  const http = new NacosHttpClient({ username: config.username, password: config.password, timeout: config.requestTimeoutMs, log })

  // The SDK client opens a UDP socket: an app that is only ever inject()ed never creates one.
  let client: NamingClient | undefined
  const naming = (): NamingClient => {
    client ??= createNamingClient({
      serverAddr: config.serverAddr,
      namespace: config.namespace,
      httpclient: http,
      logger: sdkLogger(log),
      accessKey: config.accessKey,
      secretKey: config.secretKey
    })
    return client
  }
  const registry = new Registry({ transport: new NamingTransport(naming, http), config, log })
  let discovery: Discovery | undefined
  const discover = (): Discovery => {
    discovery ??= new Discovery({ client: naming(), log, refreshInterval: discoveryRefreshInterval })
    return discovery
  }
  let center: ConfigCenter | undefined
  const configCenter = (): ConfigCenter => {
    center ??= new ConfigCenter({ serverAddr: config.serverAddr, namespace: config.namespace, httpclient: http, log, cacheDir: config.cacheDir })
    return center
  }
  let preloaded: ReadonlyMap<string, unknown> = new Map()
  if (configs.length > 0) {
    try {
      preloaded = await configCenter().preload(configs)
    } catch (err) {
      // No onClose hook exists yet: release what was opened, or the long poll keeps the process up.
      center?.close()
      http.close()
      throw err
    }
  }

  const decorator: NacosRegistry = {
    status: () => registry.status(),
    register: async () => await registry.register(),
    deregister: async () => await registry.deregister(),
    settings: redact(config),
    get client () { return naming() },
    instances: async (service, opts) => await discover().instances(service, opts),
    pick: async (service, opts) => await discover().pick(service, opts),
    pickCached: (service, opts) => discover().pickCached(service, opts),
    pickUrl: async (service, opts) => baseUrl(await discover().pick(service, opts)),
    subscribe: (service, listener, opts) => discover().subscribe(service, listener, opts),
    get config () { return configCenter() },
    configs: preloaded
  }
  fastify.decorate('nacos', decorator)

  fastify.addHook('onReady', async () => {
    if (config.failFast && config.registerEnabled) await probe(http, config)
  })

  let signals: SignalHandlers | undefined
  // Registration waits for onListen: Nacos must never advertise a port that is not bound yet.
  fastify.addHook('onListen', async function (this: FastifyInstance) {
    const address = this.server.address() as AddressInfo | string | null
    registry.listening(typeof address === 'object' && address !== null ? address.port : Number(config.port))
    registry.start()
    if (handleSignals) signals = installSignalHandlers(this, closeGraceDelay, log)
  })

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
  })

  fastify.addHook('onClose', async () => {
    registry.close()
    signals?.uninstall()
    // Our listeners come off the SDK's reactor before the SDK's own close, and the config long
    // poll ends before the shared HTTP client does.
    discovery?.close()
    center?.close()
    if (client !== undefined) await closeNamingClient(client)
    http.close()
  })

  if (monitoring !== false) await mountMonitoring(fastify, monitoring, config)
}

export const fastifyNacos = fp(nacosPlugin, { fastify: '5.x', name: 'fastify-nacos' })
export default fastifyNacos

export { resolveConfig, EnvSchema, type NacosSettings, type NacosConfig } from './config.js'
export { detectIp, inNetwork, isIPv4, type InterfaceTable, type IpPreferences } from './ip.js'
export { ConfigError, RegistrationFailedError, NotListeningError, RegistrationDisabledError } from './errors.js'
export type { RegistryStatus, RegistrationState } from './registry.js'
export type { InstanceSpec, NamingClient } from './sdk.js'
export { NoInstanceError, type Instance, type Strategy, type InstancesListener, type InstancesOptions, type PickOptions, type ServiceQuery } from './discovery.js'
export { baseUrl, STRATEGIES } from './balancer.js'
export { MAX_LOOKUPS, type MonitoringOptions } from './routes/index.js'
export {
  MonitoringRouteSchemas, MONITORING_SCHEMAS, MONITORING_SECURITY_SCHEME, monitoringSecurityScheme,
  MonitoringErrorSchema, ServiceSchema, HeartbeatSchema, CountsSchema, InstanceSchema, InstanceListSchema,
  HealthUpSchema, HealthDownSchema, InstancesParamsSchema, InstancesQuerySchema, NoQuerySchema, NoBodySchema,
  type MonitoringError, type MonitoringService, type MonitoringInstance, type MonitoringInstanceList,
  type MonitoringHealthUp, type MonitoringHealthDown, type MonitoringInstancesParams, type MonitoringInstancesQuery
} from './routes/schemas.js'
export { NacosUnavailableError, TooManyLookupsError } from './routes/errors.js'
export { ConfigCenter, ConfigInvalidError, parseProperties, type ConfigType, type ConfigOptions, type PreloadEntry } from './config-center.js'
