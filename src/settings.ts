// Every setting, declared once in SETTINGS: its environment variable, its TypeBox schema (type,
// bounds, default, description), the type of its plugin option, how it resolves and whether it is
// secret. The env schema, the option types, the resolved config's type, the option → variable map
// of the README table and the secret list are all derived from that one table (resolve.ts reads it).
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { isIP } from 'node:net'
import { Type, type NumberOptions, type Static, type TObject, type TOptional, type TSchema } from '@sinclair/typebox'
import { SettingError } from './errors.js'
import { DEFAULT_CLUSTER, DEFAULT_GROUP, SERVICE_NAME } from './naming/names.js'
import { IP_TYPES } from './ip.js'
import { defaultSnapshotRoot } from './snapshot/key.js'
import { parseServerList, SERVER_FORMS, type NacosServer } from './server-addr.js'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
type LogLevel = (typeof LOG_LEVELS)[number]
export const TRANSPORTS = ['http', 'grpc'] as const
const SERVER = '(https?://)?(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9_.-]+)(:\\d{1,5})?(/[A-Za-z0-9_.~/-]*)?'
export const SERVER_LIST = `^\\s*${SERVER}(\\s*,\\s*${SERVER})*\\s*$`
/** An IPv4 address, or the shape of an IPv6 one (resolve checks it further). */
export const SERVICE_IP = '^(((25[0-5]|2[0-4]\\d|1?\\d?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1?\\d?\\d)|\\[?[0-9A-Fa-f]*:[0-9A-Fa-f:.]*\\]?)$'
export const SERVICE_IP_RULE = 'an IPv4 or IPv6 address such as 10.0.0.12 or fd00::12'

/** What a resolver may need besides the raw value. */
export interface ResolveContext {
  cwd: string
  /** Where a variable's value came from, for messages: `option weight` or the variable's name. */
  origin: (env: string) => string
}

type Raw<S extends TSchema> = S extends TOptional<TSchema> ? Static<S> | undefined : Static<S>

interface Setting<E extends string, S extends TSchema, O, C, K extends string, L extends string, Secret extends boolean> {
  readonly env: E
  readonly schema: S
  /** The option as users write it, when nested (`monitoring.token`); nested settings are not top-level options. */
  readonly label?: L
  /** Name in the resolved config when it differs from the option's (`heartbeatIntervalMs`). */
  readonly key?: K
  /** Masked in messages, logs, `app.nacos.settings` and the monitoring answers. */
  readonly secret?: Secret
  /** A plugin option's value → the value env-schema validates. */
  readonly toEnv?: (option: O) => unknown
  /** The validated value → the resolved config's value. */
  readonly resolve?: (raw: Raw<S>, ctx: ResolveContext) => C
}

/** Declares one setting; the type parameters carry its option type, resolved type and names to the derived types. */
function setting<E extends string, S extends TSchema, O = Raw<S>, C = Raw<S>, K extends string = never, L extends string = never, Secret extends boolean = false> (
  def: Setting<E, S, O, C, K, L, Secret>
): Setting<E, S, O, C, K, L, Secret> {
  return def
}

const list = (value: string): string[] => value.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
const joined = (value: string | readonly string[]): string => (typeof value === 'string' ? value : value.join(','))
const ms = (seconds: number): number => Math.round(seconds * 1000)

/** A duration set in seconds and resolved to milliseconds under `key`. */
function seconds<E extends string, K extends string> (env: E, key: K, options: NumberOptions) {
  return setting({ env, key, schema: Type.Number(options), resolve: ms })
}

const SETTINGS = {
  serverAddr: setting({
    env: 'NACOS_SERVER_ADDR',
    schema: Type.String({
      default: '127.0.0.1:8848',
      pattern: SERVER_LIST,
      description: 'Nacos server address(es), comma-separated: `host`, `host:port`, `[IPv6]:port`, each optionally with `http://` or `https://` (TLS to Nacos, HTTP API and gRPC) and a context path (default `/nacos`); the port defaults to 8848'
    }),
    toEnv: joined,
    resolve: (raw, ctx): NacosServer[] => {
      try {
        return parseServerList(raw)
      } catch (err) {
        throw new SettingError(ctx.origin('NACOS_SERVER_ADDR'), `NACOS_SERVER_ADDR=${JSON.stringify(raw)}`, `${SERVER_FORMS}; ${(err as Error).message}`)
      }
    }
  }),
  transport: setting({
    env: 'NACOS_TRANSPORT',
    schema: Type.Union(TRANSPORTS.map((t) => Type.Literal(t)), { default: 'grpc', description: 'how the plugin talks to Nacos: `grpc` (Nacos 2.x/3.x native protocol on the HTTP port + 1000, as the Java client; the instance is bound to the connection) or `http` (the `nacos` SDK: HTTP v1 calls, UDP pushes, heartbeats; servers that expose only the HTTP port)' })
  }),
  namespace: setting({ env: 'NACOS_NAMESPACE', schema: Type.String({ default: 'public', minLength: 1, maxLength: 128, description: 'namespace id' }) }),
  group: setting({ env: 'NACOS_GROUP', schema: Type.String({ default: DEFAULT_GROUP, pattern: SERVICE_NAME, description: 'service group' }) }),
  serviceName: setting({
    env: 'NACOS_SERVICE_NAME',
    schema: Type.Optional(Type.String({ pattern: SERVICE_NAME, description: 'service name; default: the `name` in package.json of the working directory (scope dropped)' })),
    resolve: (raw, ctx): string => {
      const name = raw ?? packageServiceName(ctx.cwd)
      if (name === undefined || !new RegExp(SERVICE_NAME).test(name)) {
        throw new SettingError('NACOS_SERVICE_NAME', `NACOS_SERVICE_NAME=${JSON.stringify(name ?? '')}`,
          'a service name: set NACOS_SERVICE_NAME (or the serviceName option), or run from a directory whose package.json has a valid "name"')
      }
      return name
    }
  }),
  ip: setting({
    env: 'NACOS_SERVICE_IP',
    schema: Type.Optional(Type.String({ pattern: SERVICE_IP, description: 'advertised IP, IPv4 or IPv6; default: the address the server listens on when it listens on one, else auto-detected (first non-internal address of `NACOS_IP_TYPE`, preferences below)' })),
    resolve: (raw, ctx): string | undefined => {
      // `[fd00::12]` as in URLs is the same address; Nacos keeps it without brackets.
      const ip = raw?.replace(/^\[(.*)\]$/, '$1').toLowerCase()
      if (ip !== undefined && isIP(ip) === 0) throw new SettingError(ctx.origin('NACOS_SERVICE_IP'), `NACOS_SERVICE_IP=${JSON.stringify(raw)}`, SERVICE_IP_RULE)
      return ip
    }
  }),
  ipType: setting({
    env: 'NACOS_IP_TYPE',
    schema: Type.Union(IP_TYPES.map((t) => Type.Literal(t)), { default: 'IPv4', description: 'address family detection looks for, as Spring Cloud Alibaba\'s `ip-type`: `IPv4`, or `IPv6` (IPv4 when the machine has no IPv6 address)' })
  }),
  port: setting({ env: 'NACOS_SERVICE_PORT', schema: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'advertised port; default: the port the server actually bound' })) }),
  heartbeatInterval: seconds('NACOS_HEARTBEAT_INTERVAL', 'heartbeatIntervalMs',
    { default: 5, minimum: 0.1, maximum: 3600, description: 'heartbeat interval, seconds (a setting of the HTTP transport, whose beats keep the instance alive)' }),
  deregisterTime: seconds('NACOS_DEREGISTER_TIME', 'deregisterTimeMs',
    { default: 10, minimum: 0.2, maximum: 86400, description: 'seconds without heartbeat after which Nacos removes the instance (marked unhealthy after 3 intervals or this, whichever is sooner; a setting of the HTTP transport)' }),
  // The option's type has no `undefined`: Fastify's own register options declare `logLevel` too,
  // and under exactOptionalPropertyTypes the two must agree.
  logLevel: setting({ env: 'NACOS_LOG_LEVEL', toEnv: (level: LogLevel) => level, schema: Type.Optional(Type.Union(LOG_LEVELS.map((l) => Type.Literal(l)), { description: 'level of the plugin\'s logger (`debug` shows every Nacos call); default: the app logger\'s level' })) }),
  username: setting({ env: 'NACOS_USERNAME', schema: Type.Optional(Type.String({ minLength: 1, description: 'Nacos user (auth enabled servers)' })) }),
  password: setting({ env: 'NACOS_PASSWORD', secret: true, schema: Type.Optional(Type.String({ minLength: 1, description: 'Nacos password; never logged' })) }),
  accessKey: setting({ env: 'NACOS_ACCESS_KEY', secret: true, schema: Type.Optional(Type.String({ minLength: 1, description: 'Alibaba Cloud access key (MSE); never logged' })) }),
  secretKey: setting({ env: 'NACOS_SECRET_KEY', secret: true, schema: Type.Optional(Type.String({ minLength: 1, description: 'Alibaba Cloud secret key; never logged' })) }),
  clusterName: setting({ env: 'NACOS_CLUSTER_NAME', schema: Type.String({ default: DEFAULT_CLUSTER, pattern: SERVICE_NAME, description: 'cluster of this instance' }) }),
  weight: setting({ env: 'NACOS_WEIGHT', schema: Type.Number({ default: 1, minimum: 0, maximum: 10000, description: 'load-balancing weight (0: never picked)' }) }),
  metadata: setting({
    env: 'NACOS_METADATA',
    schema: Type.String({ default: '{}', description: 'extra instance metadata, a JSON object of strings' }),
    toEnv: (value: Record<string, string>) => JSON.stringify(value),
    resolve: (raw, ctx) => parseMetadata(raw, ctx.origin('NACOS_METADATA'))
  }),
  ephemeral: setting({ env: 'NACOS_EPHEMERAL', schema: Type.Boolean({ default: true, description: 'ephemeral (heartbeat-kept) instance' }) }),
  registerEnabled: setting({ env: 'NACOS_REGISTER_ENABLED', schema: Type.Boolean({ default: true, description: 'register this service at all' }) }),
  preferredInterfaces: setting({
    env: 'NACOS_PREFERRED_INTERFACES',
    schema: Type.String({ default: '', description: 'interfaces to take the IP from, comma-separated (`eth0,en*`)' }),
    toEnv: (value: string[]) => value.join(','),
    resolve: list
  }),
  preferredNetworks: setting({
    env: 'NACOS_PREFERRED_NETWORKS',
    schema: Type.String({ default: '', description: 'networks to take the IP from, CIDR or prefix, comma-separated (`10.0.0.0/8,192.168.`)' }),
    toEnv: (value: string[]) => value.join(','),
    resolve: list
  }),
  pushEmptyProtection: setting({ env: 'NACOS_PUSH_EMPTY_PROTECTION', schema: Type.Boolean({ default: false, description: 'an empty instance list from Nacos (a restarted server that has not heard from every instance yet) keeps the last non-empty one instead of emptying the cache (the Java client\'s `namingPushEmptyProtection`)' }) }),
  healthRequiresRegistration: setting({ env: 'NACOS_HEALTH_REQUIRES_REGISTRATION', schema: Type.Boolean({ default: false, description: '`/health` answers DOWN while this instance has never registered (Nacos unreachable since start); by default it is UP, degraded, serving from snapshots' }) }),
  failFast: setting({ env: 'NACOS_FAIL_FAST', schema: Type.Boolean({ default: false, description: 'fail start-up when the first registration fails, instead of retrying in the background' }) }),
  drainDelay: seconds('NACOS_DRAIN_DELAY', 'drainDelayMs',
    { default: 0, minimum: 0, maximum: 300, description: 'seconds to wait after deregistering before connections drain on close' }),
  requestTimeout: setting({
    env: 'NACOS_REQUEST_TIMEOUT',
    schema: Type.Integer({ default: 5000, minimum: 100, maximum: 120000, description: 'timeout of one Nacos request, ms' }),
    key: 'requestTimeoutMs'
  }),
  tlsCa: setting({ env: 'NACOS_TLS_CA', schema: Type.Optional(Type.String({ minLength: 1, description: 'gRPC transport, `https://` servers: PEM file of the CA(s) to trust on the gRPC port; default: the system\'s roots (or `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`)' })) }),
  tlsCert: setting({ env: 'NACOS_TLS_CERT', schema: Type.Optional(Type.String({ minLength: 1, description: 'gRPC transport, `https://` servers: PEM file of the client certificate (mutual TLS; with `NACOS_TLS_KEY`)' })) }),
  tlsKey: setting({ env: 'NACOS_TLS_KEY', schema: Type.Optional(Type.String({ minLength: 1, description: 'gRPC transport, `https://` servers: PEM file of the client certificate\'s private key' })) }),
  tlsServerName: setting({ env: 'NACOS_TLS_SERVER_NAME', schema: Type.Optional(Type.String({ minLength: 1, maxLength: 253, description: 'gRPC transport, `https://` servers: the name the server certificate must carry, when it is not the host of `NACOS_SERVER_ADDR`' })) }),
  grpcPortOffset: setting({ env: 'NACOS_GRPC_PORT_OFFSET', schema: Type.Integer({ default: 1000, minimum: -65534, maximum: 65534, description: 'gRPC transport: the gRPC port is the HTTP port plus this (Nacos\'s `nacos.server.grpc.port.offset`)' }) }),
  grpcHealthCheckIdle: setting({ env: 'NACOS_GRPC_HEALTH_CHECK_IDLE', key: 'grpcHealthCheckIdleMs', schema: Type.Integer({ default: 5000, minimum: 100, maximum: 600000, description: 'gRPC transport: a health check of the connection after this long without traffic, ms (as the Java client)' }) }),
  grpcHealthCheckTimeout: setting({ env: 'NACOS_GRPC_HEALTH_CHECK_TIMEOUT', key: 'grpcHealthCheckTimeoutMs', schema: Type.Integer({ default: 3000, minimum: 100, maximum: 120000, description: 'gRPC transport: how long a health check may take before the connection is replaced, ms' }) }),
  grpcReconnectMax: setting({ env: 'NACOS_GRPC_RECONNECT_MAX', key: 'grpcReconnectMaxMs', schema: Type.Integer({ default: 5000, minimum: 100, maximum: 600000, description: 'gRPC transport: longest pause between two rounds of reconnecting to the servers, ms (the n-th round waits about n × 100 ms up to this)' }) }),
  grpcRedoInterval: setting({ env: 'NACOS_GRPC_REDO_INTERVAL', key: 'grpcRedoIntervalMs', schema: Type.Integer({ default: 3000, minimum: 100, maximum: 600000, description: 'gRPC transport: how often registrations and subscriptions not confirmed on the connection are sent again, ms (as the Java client\'s redo task)' }) }),
  snapshotDir: setting({
    env: 'NACOS_SNAPSHOT_DIR',
    schema: Type.Optional(Type.String({ minLength: 1, description: 'directory of the local snapshots of looked-up services and read configs, served while Nacos is down (one subdirectory per Nacos cluster + namespace); default: `$XDG_CACHE_HOME` (else `~/.cache`) `/fastify-nacos/snapshots`' })),
    resolve: (raw): string => raw ?? defaultSnapshotRoot()
  }),
  snapshots: setting({ env: 'NACOS_SNAPSHOTS', schema: Type.Boolean({ default: true, description: 'keep local snapshots (`false`: nothing written; a start while Nacos is down fails)' }) }),
  snapshotCluster: setting({ env: 'NACOS_SNAPSHOT_CLUSTER', schema: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'names the Nacos cluster in the snapshot directory\'s key (with the namespace); default: the first server of `NACOS_SERVER_ADDR` as written' })) }),
  monitoringToken: setting({
    env: 'NACOS_MONITORING_TOKEN',
    label: 'monitoring.token',
    secret: true,
    schema: Type.Optional(Type.String({ minLength: 16, maxLength: 512, pattern: '^[\\x21-\\x7E]+$', description: 'bearer token of the monitoring routes (16 to 512 printable characters, no spaces); without it the write routes answer 404; never logged nor shown' }))
  }),
  monitoringProtectReads: setting({
    env: 'NACOS_MONITORING_PROTECT_READS',
    label: 'monitoring.protectReads',
    schema: Type.Boolean({ default: false, description: 'the read routes of the monitoring API (`/service`, `/service/:serviceName/instances`) need the token too; `/health` stays open for probes' })
  }),
  metrics: setting({
    env: 'NACOS_METRICS',
    label: 'metrics',
    key: 'metricsEnabled',
    schema: Type.Boolean({ default: false, description: 'Prometheus metrics on prom-client (install it: an optional peer dependency), served at `<prefix>/metrics`; the `metrics` option also takes `{ registry, route }`' })
  })
}

type Table = typeof SETTINGS
export type Name = keyof Table
type EnvOf<N extends Name> = Table[N]['env']
type SchemaOf<N extends Name> = Table[N]['schema']
type OptionOf<N extends Name> = Table[N] extends { toEnv?: (option: infer O) => unknown } ? O : never
type ResolvedOf<N extends Name> = Table[N] extends { resolve?: (raw: never, ctx: never) => infer C } ? C : never
type Given<T> = [Exclude<T, undefined>] extends [never] ? false : true
type KeyOf<N extends Name> = Table[N] extends { key?: infer K } ? (Given<K> extends true ? Extract<K, string> : N) : N
type Nested<N extends Name> = Table[N] extends { label?: infer L } ? Given<L> : false
type SecretName = { [N in Name]: Table[N] extends { secret?: infer X } ? (Exclude<X, undefined> extends true ? N : never) : never }[Name]

/** The environment variables, their types, defaults and meaning (in the README table's order). */
export const EnvSchema = Type.Object(Object.fromEntries(Object.values(SETTINGS).map((s) => [s.env, s.schema]))) as unknown as
  TObject<{ [N in Name as EnvOf<N>]: SchemaOf<N> }>
export type Env = Static<typeof EnvSchema>

/** Plugin options: the settings in camelCase, typed; they win over the environment. */
export type NacosSettings = { [N in Name as Nested<N> extends true ? never : N]?: OptionOf<N> }

/** Every setting as an option, nested ones (`monitoring.token`) included. */
export type AllSettings = { [N in Name]?: OptionOf<N> }

/** The resolved, validated settings the plugin runs with. */
export type ResolvedSettings = { -readonly [N in Name as KeyOf<N>]: ResolvedOf<N> }

/** Which environment variable each option sets (the README table is generated from this and EnvSchema). */
export const OPTION_ENV = Object.fromEntries(Object.entries(SETTINGS).map(([name, s]) => [name, s.env])) as { [N in Name]: EnvOf<N> }

/** How nested options are written in messages and the README table. */
export const OPTION_LABEL: Partial<Record<Name, string>> = Object.fromEntries(Object.entries(SETTINGS)
  .flatMap(([name, s]) => ('label' in s && s.label !== undefined ? [[name, s.label]] : [])))

/** A setting with its types erased, for loops over the table. */
export interface AnySetting { env: string, schema: TSchema, label?: string, key?: string, secret?: boolean, toEnv?: (option: never) => unknown, resolve?: (raw: never, ctx: ResolveContext) => unknown }
export const entries = Object.entries(SETTINGS) as unknown as Array<[Name, AnySetting]>
export const configKey = (name: Name, s: { key?: string }): string => s.key ?? name
const SECRET_VARIABLES = new Set(entries.filter(([, s]) => s.secret === true).map(([, s]) => s.env))
const SECRET_KEYS = entries.filter(([, s]) => s.secret === true).map(([name, s]) => configKey(name, s)) as Array<KeyOf<SecretName>>

/** When Nacos marks an instance unhealthy without beats: three intervals, capped by the deregister time. */
export function heartbeatTimeoutMs (config: Pick<ResolvedSettings, 'heartbeatIntervalMs' | 'deregisterTimeMs'>): number {
  return Math.min(3 * config.heartbeatIntervalMs, config.deregisterTimeMs)
}

/** A variable's value for a message: JSON, or `"****"` for a secret. */
export function mask (name: string, value: unknown): string {
  if (SECRET_VARIABLES.has(name)) return '"****"'
  return JSON.stringify(value)
}

/** The secret values of resolved settings, for scrubbing them out of any text. */
export function secretValues (config: ResolvedSettings): Array<string | undefined> {
  return SECRET_KEYS.map((key) => config[key])
}

export type RedactedSettings = Omit<ResolvedSettings, KeyOf<SecretName>> & { [K in KeyOf<SecretName>]?: string }

/** The resolved settings with secrets masked, for logs and the monitoring routes. */
export function redact (config: ResolvedSettings): RedactedSettings {
  const copy: Record<string, unknown> = { ...config }
  for (const key of SECRET_KEYS) copy[key] = config[key] === undefined ? undefined : '****'
  return copy as RedactedSettings
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

function parseMetadata (text: string, source: string): Record<string, string> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    value = undefined
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) ||
      !Object.values(value).every((v) => typeof v === 'string')) {
    throw new SettingError(source, `NACOS_METADATA=${JSON.stringify(text)}`, 'a JSON object of strings, e.g. {"zone":"a"}')
  }
  return value as Record<string, string>
}
