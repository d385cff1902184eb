// The config center: typed reads and watches of Nacos configs through nacos-config's plain
// DataClient (not NacosConfigClient, whose cluster-client elects a leader over local TCP port
// 7777 shared by every process on the machine).
//
// The DataClient's own HTTP agent is replaced, because (see README, "The nacos SDK's defects"):
// - it retries a failed request in a loop without pause until the request's timeout (40 s for
//   the long poll): a client that fails at once (closed, connection refused) spins for that long;
// - it puts username and password in the query of every call; our NacosHttpClient sends a token.
// Its snapshots go to `cacheDir`, never to the SDK's default ~/.node-diamond-client-cache.
import { createRequire } from 'node:module'
import createError from '@fastify/error'
import { Value } from '@sinclair/typebox/value'
import type { Static, TSchema } from '@sinclair/typebox'
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'
import { NacosHttpClient, ClosedError, type SdkRequestOptions } from './http-client.js'

const require = createRequire(import.meta.url)
const { DataClient } = require('nacos') as { DataClient: new (options: object) => SdkDataClient }

interface SdkDataClient {
  subscribe: (info: { dataId: string, group: string }, listener: (content: string | null) => void) => void
  unSubscribe: (info: { dataId: string, group: string }, listener: (content: string | null) => void) => void
  getConfig: (dataId: string, group: string) => Promise<string | null>
  publishSingle: (dataId: string, group: string, content: string, options: { type: string }) => Promise<boolean>
  remove: (dataId: string, group: string) => Promise<boolean>
  on: (event: 'error', fn: (err: Error) => void) => void
  close: () => void
}

export const ConfigInvalidError = createError<[dataId: string, group: string, path: string, reason: string]>(
  'FST_NACOS_CONFIG_INVALID', 'Config %s (group %s) is invalid at %s: %s', 500)

export type ConfigType = 'json' | 'yaml' | 'properties' | 'text'

/** pino-like: `log.warn({ service }, 'message')`. */
export type ConfigLogger = Record<'info' | 'warn' | 'debug' | 'error', (obj: object, msg: string) => void>

export interface ConfigCenterOptions {
  serverAddr: readonly string[]
  namespace: string
  /** Shared with the rest of the plugin; closed by close() only when not given. */
  httpclient?: NacosHttpClient
  log: ConfigLogger
  /** Where the SDK keeps its snapshots (served when Nacos is unreachable). */
  cacheDir: string
}

export interface ConfigOptions<S extends TSchema = TSchema> {
  group?: string
  /** How to parse; by default from the dataId's extension (.json, .yaml/.yml, .properties), else text. */
  type?: ConfigType
  /** TypeBox schema the parsed value must satisfy (properties values are converted to its types first). */
  schema?: S
}

export interface PreloadEntry extends ConfigOptions {
  dataId: string
  /** Name in `values` (default: the dataId). */
  key?: string
}

/** The parsed value by type, when there is no schema. */
type Parsed<T extends ConfigType | undefined> = T extends 'text' ? string : T extends 'properties' ? Record<string, string> : unknown

const DEFAULT_GROUP = 'DEFAULT_GROUP'
const LISTENER_PATH = '/v1/cs/configs/listener'

export function typeOf (dataId: string, type?: ConfigType): ConfigType {
  if (type) return type
  const ext = /\.([a-z]+)$/i.exec(dataId)?.[1]?.toLowerCase()
  if (ext === 'json') return 'json'
  if (ext === 'yaml' || ext === 'yml') return 'yaml'
  if (ext === 'properties') return 'properties'
  return 'text'
}

const ESCAPES: Record<string, string> = { t: '\t', n: '\n', r: '\r', f: '\f' }

/** Java .properties: `=`, `:` or blank separators, `#`/`!` comments, `\` continuations and escapes. */
export function parseProperties (text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    let line = (lines[i] as string).replace(/^\s+/, '')
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) line = line.slice(0, -1) + (lines[++i] as string).replace(/^\s+/, '')
    const sep = /^((?:\\.|[^\\=:\s])*)\s*[=:\s]\s*/.exec(line)
    const rawKey = sep ? sep[1] as string : line
    const rawValue = sep ? line.slice(sep[0].length) : ''
    const unescape = (s: string): string => s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, c: string) =>
      c.length === 5 ? String.fromCharCode(parseInt(c.slice(1), 16)) : ESCAPES[c] ?? c)
    out[unescape(rawKey)] = unescape(rawValue)
  }
  return out
}

function serialize (value: unknown, type: ConfigType): string {
  if (typeof value === 'string') return value
  if (type === 'yaml') return stringifyYaml(value)
  if (type === 'properties') return Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`).join('\n')
  return JSON.stringify(value, null, 2)
}

export class ConfigCenter {
  readonly #serverAddr: readonly string[]
  readonly #tenant: string
  readonly #http: NacosHttpClient
  readonly #ownsHttp: boolean
  readonly #log: ConfigLogger
  readonly #client: SdkDataClient
  readonly #values = new Map<string, unknown>()
  readonly #preloaded: Array<() => void> = []
  #closed = false
  #wake: () => void = () => {}
  readonly #closing = new Promise<void>((resolve) => { this.#wake = resolve })
  #server = 0
  #reachable = true

  constructor (options: ConfigCenterOptions) {
    this.#serverAddr = options.serverAddr
    // Nacos 2.x keeps the public namespace's configs under the empty tenant.
    this.#tenant = options.namespace === 'public' ? '' : options.namespace
    this.#ownsHttp = options.httpclient === undefined
    this.#http = options.httpclient ?? new NacosHttpClient()
    this.#log = options.log
    const request = this.#request.bind(this)
    this.#client = new DataClient({
      serverAddr: [...options.serverAddr],
      namespace: this.#tenant,
      cacheDir: options.cacheDir,
      httpclient: this.#http,
      httpAgent: class { request = request }
    })
    // A listener of ours keeps sdk-base from printing these on stderr; outages are logged once by #request.
    this.#client.on('error', (err) => { this.#log.debug({ err: { name: err.name, message: err.message } }, 'nacos config sdk error') })
  }

  /** Values kept current by preload(), by key (default: dataId); undefined while a config is absent. */
  get values (): ReadonlyMap<string, unknown> {
    return this.#values
  }

  /**
   * Reads and parses a config. Resolves undefined when the config does not exist. With a schema the
   * value is validated (FST_NACOS_CONFIG_INVALID names the dataId and the failing path) and typed.
   * While Nacos is unreachable the last snapshot in cacheDir is served.
   */
  async get<S extends TSchema> (dataId: string, options: ConfigOptions<S> & { schema: S }): Promise<Static<S> | undefined>
  async get<T extends ConfigType | undefined = undefined> (dataId: string, options?: ConfigOptions & { type?: T, schema?: undefined }): Promise<Parsed<T> | undefined>
  async get (dataId: string, options: ConfigOptions = {}): Promise<unknown> {
    return await this.#read(dataId, options)
  }

  /**
   * Calls `listener` with the current value once known, then after every change; with `undefined`
   * when the config is absent or removed. A new value that fails to parse or to validate is logged
   * as an error and not passed on: the listener keeps the last good one. Returns the detach function.
   */
  watch<S extends TSchema> (dataId: string, options: ConfigOptions<S> & { schema: S }, listener: (value: Static<S> | undefined, raw: string | undefined) => void): () => void
  watch<T extends ConfigType | undefined = undefined> (dataId: string, options: ConfigOptions & { type?: T, schema?: undefined }, listener: (value: Parsed<T> | undefined, raw: string | undefined) => void): () => void
  watch (dataId: string, options: ConfigOptions, listener: (value: unknown, raw: string | undefined) => void): () => void {
    return this.#watch(dataId, options, listener)
  }

  #watch (dataId: string, options: ConfigOptions, listener: (value: unknown, raw: string | undefined) => void): () => void {
    if (this.#closed) throw new ClosedError()
    const info = { dataId, group: options.group ?? DEFAULT_GROUP }
    const onContent = (content: string | null): void => {
      let value: unknown
      try {
        value = this.#parse(dataId, info.group, options, content)
      } catch (err) {
        this.#log.error({ dataId, group: info.group, err }, 'config change rejected: keeping the last good value')
        return
      }
      try {
        listener(value, content || undefined)
      } catch (err) {
        this.#log.error({ dataId, group: info.group, err }, 'a config listener threw')
      }
    }
    this.#client.subscribe(info, onContent)
    let attached = true
    return () => {
      if (attached && !this.#closed) this.#client.unSubscribe(info, onContent)
      attached = false
    }
  }

  /** Publishes a config; a non-string value is serialized by the type (JSON by default). */
  async publish (dataId: string, content: unknown, options: Omit<ConfigOptions, 'schema'> = {}): Promise<void> {
    const type = typeOf(dataId, options.type)
    await this.#client.publishSingle(dataId, options.group ?? DEFAULT_GROUP, serialize(content, type), { type: type === 'properties' ? 'properties' : type })
  }

  async remove (dataId: string, options: { group?: string } = {}): Promise<void> {
    await this.#client.remove(dataId, options.group ?? DEFAULT_GROUP)
  }

  /**
   * Reads every entry (all must parse and validate) and keeps `values` current from then on,
   * like Spring's `spring.config.import`.
   */
  async preload (entries: readonly PreloadEntry[]): Promise<ReadonlyMap<string, unknown>> {
    const keys = entries.map((e) => e.key ?? e.dataId)
    const duplicate = keys.find((k, i) => keys.indexOf(k) !== i || this.#values.has(k))
    if (duplicate !== undefined) throw new TypeError(`preload: the key "${duplicate}" is used twice; give the entries distinct keys`)
    const values = await Promise.all(entries.map(async (entry) => await this.#read(entry.dataId, entry)))
    entries.forEach((entry, i) => {
      const key = keys[i] as string
      this.#values.set(key, values[i])
      this.#preloaded.push(this.#watch(entry.dataId, entry, (value) => { this.#values.set(key, value) }))
    })
    return this.#values
  }

  /** Ends every watch and the long poll at once; closes the HTTP client only if it made it. */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    for (const off of this.#preloaded) off()
    this.#client.close()
    this.#wake()
    if (this.#ownsHttp) this.#http.close()
  }

  async #read (dataId: string, options: ConfigOptions): Promise<unknown> {
    // The SDK would answer from its snapshot once our agent refuses to send.
    if (this.#closed) throw new ClosedError()
    const group = options.group ?? DEFAULT_GROUP
    return this.#parse(dataId, group, options, await this.#client.getConfig(dataId, group))
  }

  #parse (dataId: string, group: string, options: ConfigOptions, content: string | null): unknown {
    if (content === null || content === '') return undefined
    const type = typeOf(dataId, options.type)
    let value: unknown
    try {
      value = type === 'json' ? JSON.parse(content) : type === 'yaml' ? parseYaml(content) : type === 'properties' ? parseProperties(content) : content
    } catch (err) {
      throw new ConfigInvalidError(dataId, group, '/', `not valid ${type}: ${(err as Error).message}`)
    }
    const schema = options.schema
    if (schema === undefined) return value
    if (type === 'properties' || type === 'text') value = Value.Convert(schema, value)
    value = Value.Default(schema, value)
    if (Value.Check(schema, value)) return value
    const first = Value.Errors(schema, value).First()
    throw new ConfigInvalidError(dataId, group, first?.path || '/', first?.message ?? 'does not match the schema')
  }

  /**
   * The DataClient's HTTP agent: one pass over the servers, no busy retry; once closed, the long
   * poll answers "nothing changed" at once so the SDK's loop ends without its 2 s error pause.
   */
  async #request (path: string, options: SdkRequestOptions = {}): Promise<string | null> {
    if (this.#closed) {
      if (path === LISTENER_PATH) return ''
      throw new ClosedError()
    }
    const data = { ...options.data }
    let failure: Error | undefined
    for (let i = 0; i < this.#serverAddr.length; i++) {
      const server = this.#serverAddr[this.#server % this.#serverAddr.length] as string
      try {
        const res = await Promise.race([
          this.#http.request(`http://${server}/nacos${path}`, {
            method: options.method ?? 'GET',
            data,
            headers: { ...options.headers },
            timeout: options.timeout ?? 5000,
            dataAsQueryString: options.dataAsQueryString === true
          }),
          this.#closing.then(() => null)
        ])
        if (res === null) return path === LISTENER_PATH ? '' : null
        this.#up()
        if (res.status === 200) return res.data
        if (res.status === 404) return null
        failure = new Error(`Nacos config ${options.method ?? 'GET'} ${path} on ${server}: HTTP ${res.status} ${res.data.slice(0, 200)}`)
        if (res.status < 500) throw failure
      } catch (err) {
        if (err === failure || err instanceof ClosedError) throw err
        const code = ((err as Error).cause as { code?: string } | undefined)?.code
        failure = new Error(`Nacos config ${options.method ?? 'GET'} ${path} on ${server}: ${code ?? (err as Error).message}`, { cause: err })
      }
      this.#server++
    }
    if (this.#reachable) this.#log.warn({ err: { message: failure?.message } }, 'Nacos config unreachable: serving snapshots and retrying')
    this.#reachable = false
    throw failure ?? new Error('no Nacos server configured')
  }

  #up (): void {
    if (!this.#reachable) this.#log.info({}, 'Nacos config reachable again')
    this.#reachable = true
  }
}
