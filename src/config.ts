// Every setting, written once as a TypeBox schema (validation, TS types and the README table come
// from it), validated with env-schema — the engine of @fastify/env.
// Precedence: plugin options > process environment > .env.<NODE_ENV> > .env > defaults.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { envSchema } from 'env-schema'
import { Type, type Static } from '@sinclair/typebox'
import { ConfigError } from './errors.js'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
/** Service, group and cluster names: what this plugin accepts (a subset of what Nacos accepts). */
export const SERVICE_NAME = '^[A-Za-z0-9_.:-]{1,256}$'
export const SERVICE_NAME_RULE = 'letters, digits, ".", "_", ":" or "-", 1 to 256 characters'
const SERVER_LIST = '^\\s*[A-Za-z0-9_.-]+(:\\d{1,5})?(\\s*,\\s*[A-Za-z0-9_.-]+(:\\d{1,5})?)*\\s*$'
const IPV4 = '^((25[0-5]|2[0-4]\\d|1?\\d?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1?\\d?\\d)$'

/** The environment variables, their types, defaults and meaning. */
export const EnvSchema = Type.Object({
  NACOS_SERVER_ADDR: Type.String({ default: '127.0.0.1:8848', pattern: SERVER_LIST, description: 'Nacos server address(es), `host:port`, comma-separated' }),
  NACOS_NAMESPACE: Type.String({ default: 'public', minLength: 1, maxLength: 128, description: 'namespace id' }),
  NACOS_GROUP: Type.String({ default: 'DEFAULT_GROUP', pattern: SERVICE_NAME, description: 'service group' }),
  NACOS_SERVICE_NAME: Type.Optional(Type.String({ pattern: SERVICE_NAME, description: 'service name; default: the `name` in package.json of the working directory (scope dropped)' })),
  NACOS_SERVICE_IP: Type.Optional(Type.String({ pattern: IPV4, description: 'advertised IPv4; default: auto-detected (first non-internal IPv4, preferences below)' })),
  NACOS_SERVICE_PORT: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'advertised port; default: the port the server actually bound' })),
  NACOS_HEARTBEAT_INTERVAL: Type.Number({ default: 5, minimum: 0.1, maximum: 3600, description: 'heartbeat interval, seconds' }),
  NACOS_DEREGISTER_TIME: Type.Number({ default: 10, minimum: 0.2, maximum: 86400, description: 'seconds without heartbeat after which Nacos removes the instance (marked unhealthy after 3 intervals or this, whichever is sooner)' }),
  LOG_LEVEL: Type.Union(LOG_LEVELS.map((l) => Type.Literal(l)), { default: 'info', description: 'level of the plugin\'s logger (`debug` shows every Nacos call)' }),
  NACOS_USERNAME: Type.Optional(Type.String({ minLength: 1, description: 'Nacos user (auth enabled servers)' })),
  NACOS_PASSWORD: Type.Optional(Type.String({ minLength: 1, description: 'Nacos password; never logged' })),
  NACOS_ACCESS_KEY: Type.Optional(Type.String({ minLength: 1, description: 'Alibaba Cloud access key (MSE)' })),
  NACOS_SECRET_KEY: Type.Optional(Type.String({ minLength: 1, description: 'Alibaba Cloud secret key; never logged' })),
  NACOS_CLUSTER_NAME: Type.String({ default: 'DEFAULT', pattern: SERVICE_NAME, description: 'cluster of this instance' }),
  NACOS_WEIGHT: Type.Number({ default: 1, minimum: 0, maximum: 10000, description: 'load-balancing weight (0: never picked)' }),
  NACOS_METADATA: Type.String({ default: '{}', description: 'extra instance metadata, a JSON object of strings' }),
  NACOS_EPHEMERAL: Type.Boolean({ default: true, description: 'ephemeral (heartbeat-kept) instance' }),
  NACOS_REGISTER_ENABLED: Type.Boolean({ default: true, description: 'register this service at all' }),
  NACOS_PREFERRED_INTERFACES: Type.String({ default: '', description: 'interfaces to take the IP from, comma-separated (`eth0,en*`)' }),
  NACOS_PREFERRED_NETWORKS: Type.String({ default: '', description: 'networks to take the IP from, CIDR or prefix, comma-separated (`10.0.0.0/8,192.168.`)' }),
  NACOS_FAIL_FAST: Type.Boolean({ default: false, description: 'fail start-up when the first registration fails, instead of retrying in the background' }),
  NACOS_DRAIN_DELAY: Type.Number({ default: 0, minimum: 0, maximum: 300, description: 'seconds to wait after deregistering before connections drain on close' }),
  NACOS_REQUEST_TIMEOUT: Type.Integer({ default: 5000, minimum: 100, maximum: 120000, description: 'timeout of one Nacos request, ms' }),
  NACOS_CACHE_DIR: Type.Optional(Type.String({ minLength: 1, description: 'directory for config snapshots; default: `<os tmpdir>/fastify-nacos`' })),
  NACOS_MONITORING_TOKEN: Type.Optional(Type.String({ minLength: 16, maxLength: 512, pattern: '^[\\x21-\\x7E]+$', description: 'bearer token of the monitoring routes (16 to 512 printable characters, no spaces); without it the write routes answer 404; never logged nor shown' })),
  NACOS_MONITORING_PROTECT_READS: Type.Boolean({ default: false, description: 'the read routes of the monitoring API (`/service`, `/service/:serviceName/instances`) need the token too; `/health` stays open for probes' })
})
export type Env = Static<typeof EnvSchema>

/** Plugin options: the same settings in camelCase, typed; they win over the environment. */
export interface NacosSettings {
  serverAddr?: string | string[]
  namespace?: string
  group?: string
  serviceName?: string
  ip?: string
  port?: number
  heartbeatInterval?: number
  deregisterTime?: number
  logLevel?: (typeof LOG_LEVELS)[number]
  username?: string
  password?: string
  accessKey?: string
  secretKey?: string
  clusterName?: string
  weight?: number
  metadata?: Record<string, string>
  ephemeral?: boolean
  registerEnabled?: boolean
  preferredInterfaces?: string[]
  preferredNetworks?: string[]
  failFast?: boolean
  drainDelay?: number
  requestTimeout?: number
  cacheDir?: string
}

/** Settings the plugin takes from nested options (`monitoring.token`), merged like the others. */
export interface NestedSettings {
  monitoringToken?: string
  monitoringProtectReads?: boolean
}

type AllSettings = NacosSettings & NestedSettings

/** How nested options are written in messages and the README table. */
export const OPTION_LABEL: Partial<Record<keyof AllSettings, string>> = {
  monitoringToken: 'monitoring.token',
  monitoringProtectReads: 'monitoring.protectReads'
}

/** Which environment variable each option sets (the README table is generated from this and EnvSchema). */
export const OPTION_ENV: Record<keyof AllSettings, keyof Env> = {
  serverAddr: 'NACOS_SERVER_ADDR',
  namespace: 'NACOS_NAMESPACE',
  group: 'NACOS_GROUP',
  serviceName: 'NACOS_SERVICE_NAME',
  ip: 'NACOS_SERVICE_IP',
  port: 'NACOS_SERVICE_PORT',
  heartbeatInterval: 'NACOS_HEARTBEAT_INTERVAL',
  deregisterTime: 'NACOS_DEREGISTER_TIME',
  logLevel: 'LOG_LEVEL',
  username: 'NACOS_USERNAME',
  password: 'NACOS_PASSWORD',
  accessKey: 'NACOS_ACCESS_KEY',
  secretKey: 'NACOS_SECRET_KEY',
  clusterName: 'NACOS_CLUSTER_NAME',
  weight: 'NACOS_WEIGHT',
  metadata: 'NACOS_METADATA',
  ephemeral: 'NACOS_EPHEMERAL',
  registerEnabled: 'NACOS_REGISTER_ENABLED',
  preferredInterfaces: 'NACOS_PREFERRED_INTERFACES',
  preferredNetworks: 'NACOS_PREFERRED_NETWORKS',
  failFast: 'NACOS_FAIL_FAST',
  drainDelay: 'NACOS_DRAIN_DELAY',
  requestTimeout: 'NACOS_REQUEST_TIMEOUT',
  cacheDir: 'NACOS_CACHE_DIR',
  monitoringToken: 'NACOS_MONITORING_TOKEN',
  monitoringProtectReads: 'NACOS_MONITORING_PROTECT_READS'
}

/** The resolved, validated configuration the plugin runs with. */
export interface NacosConfig {
  serverAddr: string[]
  namespace: string
  group: string
  serviceName: string
  /** undefined: detect at registration time. */
  ip: string | undefined
  /** undefined: the port the server bound. */
  port: number | undefined
  heartbeatIntervalMs: number
  deregisterTimeMs: number
  logLevel: (typeof LOG_LEVELS)[number]
  username: string | undefined
  password: string | undefined
  accessKey: string | undefined
  secretKey: string | undefined
  clusterName: string
  weight: number
  metadata: Record<string, string>
  ephemeral: boolean
  registerEnabled: boolean
  preferredInterfaces: string[]
  preferredNetworks: string[]
  failFast: boolean
  drainDelayMs: number
  requestTimeoutMs: number
  cacheDir: string
  /** undefined: the monitoring write routes are off. */
  monitoringToken: string | undefined
  monitoringProtectReads: boolean
}

const SECRET = new Set<string>(['NACOS_PASSWORD', 'NACOS_SECRET_KEY', 'NACOS_MONITORING_TOKEN'])

/** When Nacos marks an instance unhealthy without beats: three intervals, capped by the deregister time. */
export function heartbeatTimeoutMs (config: Pick<NacosConfig, 'heartbeatIntervalMs' | 'deregisterTimeMs'>): number {
  return Math.min(3 * config.heartbeatIntervalMs, config.deregisterTimeMs)
}

export function mask (name: string, value: unknown): string {
  if (SECRET.has(name)) return '"****"'
  return JSON.stringify(value)
}

function list (value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
}

function optionToEnv (value: unknown): unknown {
  if (Array.isArray(value)) return value.join(',')
  if (value !== null && typeof value === 'object') return JSON.stringify(value)
  return value
}

/** `@scope/my-api` → `my-api`, from package.json in `cwd`. */
export function packageServiceName (cwd: string = process.cwd()): string | undefined {
  const file = join(cwd, 'package.json')
  if (!existsSync(file)) return undefined
  try {
    const name = (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name
    return typeof name === 'string' && name.length > 0 ? name.replace(/^@[^/]+\//, '') : undefined
  } catch {
    return undefined
  }
}

interface AjvError {
  instancePath: string
  message?: string
  params: Record<string, unknown>
}

function describe (name: string, schema: Record<string, unknown> | undefined, error: AjvError): string {
  if (schema?.pattern === SERVICE_NAME) return SERVICE_NAME_RULE
  if (schema?.pattern === IPV4) return 'an IPv4 address such as 10.0.0.12'
  if (schema?.pattern === SERVER_LIST) return 'host:port, comma-separated (e.g. 127.0.0.1:8848,10.0.0.2:8848)'
  if (name === 'LOG_LEVEL') return `one of ${LOG_LEVELS.join(', ')}`
  if (name === 'NACOS_MONITORING_TOKEN') return '16 to 512 printable ASCII characters, no spaces'
  return error.message ?? 'a valid value'
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv
  /** Load `.env` and `.env.<NODE_ENV>` from `cwd` into the environment first (default true). */
  dotenv?: boolean
  cwd?: string
}

/**
 * Merges plugin options over the environment, validates, and returns the configuration.
 * Throws a ConfigError whose message is one line: the setting, its (masked) value, what is expected.
 */
export function resolveConfig (options: AllSettings = {}, resolve: ResolveOptions = {}): NacosConfig {
  const cwd = resolve.cwd ?? process.cwd()
  const env = resolve.env ?? process.env
  const fromOptions: Record<string, unknown> = {}
  const origin: Record<string, string> = {}
  for (const [key, envName] of Object.entries(OPTION_ENV) as Array<[keyof AllSettings, keyof Env]>) {
    if (options[key] === undefined) continue
    fromOptions[envName] = optionToEnv(options[key])
    origin[envName] = `option ${OPTION_LABEL[key] ?? key}`
  }
  const nodeEnv = env.NODE_ENV
  const dotenvFiles = resolve.dotenv === false
    ? []
    : [nodeEnv ? join(cwd, `.env.${nodeEnv}`) : undefined, join(cwd, '.env')].filter((f): f is string => f !== undefined && existsSync(f))

  let raw: Env
  try {
    raw = envSchema<Env>({
      // env-schema sets additionalProperties on the schema it is given: hand it a copy.
      schema: { ...EnvSchema },
      data: [env, fromOptions],
      env: false,
      // The first file that sets a variable wins, so .env.<NODE_ENV> overrides .env; variables
      // already in the process environment win over both.
      dotenv: dotenvFiles.length > 0 ? { path: dotenvFiles, quiet: true, processEnv: env } as never : false
    })
  } catch (err) {
    const errors = (err as { errors?: AjvError[] }).errors ?? []
    const first = errors[0]
    if (!first) throw err
    const name = first.instancePath.replace(/^\//, '') || String(first.params.missingProperty ?? '')
    const schema = (EnvSchema.properties as Record<string, Record<string, unknown>>)[name]
    const value = fromOptions[name] ?? env[name]
    throw new ConfigError(`${origin[name] ?? name}`, `${name}=${mask(name, value)}`, describe(name, schema, first))
  }

  const metadata = parseMetadata(raw.NACOS_METADATA, origin.NACOS_METADATA ?? 'NACOS_METADATA')
  const serviceName = raw.NACOS_SERVICE_NAME ?? packageServiceName(cwd)
  if (serviceName === undefined || !new RegExp(SERVICE_NAME).test(serviceName)) {
    throw new ConfigError('NACOS_SERVICE_NAME', `NACOS_SERVICE_NAME=${JSON.stringify(serviceName ?? '')}`,
      'a service name: set NACOS_SERVICE_NAME (or the serviceName option), or run from a directory whose package.json has a valid "name"')
  }
  if (raw.NACOS_DEREGISTER_TIME <= raw.NACOS_HEARTBEAT_INTERVAL) {
    throw new ConfigError(origin.NACOS_DEREGISTER_TIME ?? 'NACOS_DEREGISTER_TIME', `NACOS_DEREGISTER_TIME=${raw.NACOS_DEREGISTER_TIME}`,
      `more seconds than NACOS_HEARTBEAT_INTERVAL (${raw.NACOS_HEARTBEAT_INTERVAL}), or Nacos removes a healthy instance between two beats`)
  }
  if ((raw.NACOS_USERNAME === undefined) !== (raw.NACOS_PASSWORD === undefined)) {
    throw new ConfigError('NACOS_USERNAME', raw.NACOS_USERNAME === undefined ? 'NACOS_USERNAME unset' : 'NACOS_PASSWORD unset',
      'both NACOS_USERNAME and NACOS_PASSWORD, or neither')
  }

  return {
    serverAddr: list(raw.NACOS_SERVER_ADDR).map((a) => (a.includes(':') ? a : `${a}:8848`)),
    namespace: raw.NACOS_NAMESPACE,
    group: raw.NACOS_GROUP,
    serviceName,
    ip: raw.NACOS_SERVICE_IP,
    port: raw.NACOS_SERVICE_PORT,
    heartbeatIntervalMs: Math.round(raw.NACOS_HEARTBEAT_INTERVAL * 1000),
    deregisterTimeMs: Math.round(raw.NACOS_DEREGISTER_TIME * 1000),
    logLevel: raw.LOG_LEVEL,
    username: raw.NACOS_USERNAME,
    password: raw.NACOS_PASSWORD,
    accessKey: raw.NACOS_ACCESS_KEY,
    secretKey: raw.NACOS_SECRET_KEY,
    clusterName: raw.NACOS_CLUSTER_NAME,
    weight: raw.NACOS_WEIGHT,
    metadata,
    ephemeral: raw.NACOS_EPHEMERAL,
    registerEnabled: raw.NACOS_REGISTER_ENABLED,
    preferredInterfaces: list(raw.NACOS_PREFERRED_INTERFACES),
    preferredNetworks: list(raw.NACOS_PREFERRED_NETWORKS),
    failFast: raw.NACOS_FAIL_FAST,
    drainDelayMs: Math.round(raw.NACOS_DRAIN_DELAY * 1000),
    requestTimeoutMs: raw.NACOS_REQUEST_TIMEOUT,
    cacheDir: raw.NACOS_CACHE_DIR ?? join(tmpdir(), 'fastify-nacos'),
    monitoringToken: raw.NACOS_MONITORING_TOKEN,
    monitoringProtectReads: raw.NACOS_MONITORING_PROTECT_READS
  }
}

function parseMetadata (text: string, source: string): Record<string, string> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new ConfigError(source, `NACOS_METADATA=${JSON.stringify(text)}`, 'a JSON object of strings, e.g. {"zone":"a"}')
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) ||
      !Object.values(value).every((v) => typeof v === 'string')) {
    throw new ConfigError(source, `NACOS_METADATA=${JSON.stringify(text)}`, 'a JSON object of strings, e.g. {"zone":"a"}')
  }
  return value as Record<string, string>
}

/** The configuration with secrets masked, for logs and the monitoring routes. */
export function redact (config: NacosConfig): Omit<NacosConfig, 'password' | 'secretKey' | 'monitoringToken'> & { password?: string, secretKey?: string, monitoringToken?: string } {
  return {
    ...config,
    password: config.password === undefined ? undefined : '****',
    secretKey: config.secretKey === undefined ? undefined : '****',
    monitoringToken: config.monitoringToken === undefined ? undefined : '****'
  }
}
