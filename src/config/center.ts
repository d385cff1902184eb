// The config center: typed reads, watches and publishes of Nacos configs over the config
// transport; preloaded configs kept current. Parsing and validation are in formats.ts.
import type { Static, TSchema } from '@sinclair/typebox'
import type { ConfigTransport } from '../transport/types.js'
import { ClosedError, NoSnapshotError, SettingError } from '../errors.js'
import { NO_SNAPSHOTS, type SnapshotStore } from '../snapshot/store.js'
import { DEFAULT_GROUP } from '../naming/names.js'
import { startFuzzyWatch, type FuzzyChangeType, type FuzzyWatchHandle } from '../fuzzy.js'
import { parseConfig, serialize, typeOf, type ConfigType } from './formats.js'

export type { ConfigType } from './formats.js'

/** pino-like: `log.warn({ service }, 'message')`. */
export type ConfigLogger = Record<'info' | 'warn' | 'debug' | 'error', (obj: object, msg: string) => void>

export interface ConfigCenterOptions {
  transport: ConfigTransport
  log: ConfigLogger
  /** Where each config read is kept; the preloaded configs come from it when Nacos cannot be reached. */
  snapshots?: SnapshotStore
}

/** A preloaded config served from a snapshot, and since when it was written. */
export interface ConfigSnapshotUse {
  dataId: string
  group: string
  savedAt: string
}

/** Errors that a snapshot must not hide: Nacos answered, and said no. */
const ANSWERED = new Set(['FST_NACOS_AUTH_FAILED', 'FST_NACOS_WRONG_TRANSPORT', 'FST_NACOS_CONFIG_INVALID', 'FST_NACOS_CLOSED'])

const snapshotName = (group: string, dataId: string): string => `${group}@@${dataId}`

export interface ConfigOptions<S extends TSchema = TSchema> {
  group?: string
  /** How to parse; by default from the dataId's extension (.json, .yaml/.yml, .properties), else text. */
  type?: ConfigType
  /** TypeBox schema the parsed value must satisfy (properties values are converted to its types first). */
  schema?: S
}

export interface PreloadEntry<S extends TSchema = TSchema> extends ConfigOptions<S> {
  dataId: string
  /** Name in `values` (default: the dataId). */
  key?: string
}

/**
 * `app.nacos.configs`: the preloaded configs by key, kept current. Read with the entry given in
 * the `configs` option to get its schema's type: `app.nacos.configs.get(settingsEntry)`.
 * A value is `undefined` while its config is absent, and again once it is removed in Nacos
 * (never an unvalidated value: a change that fails the schema keeps the last good one).
 */
export interface PreloadedConfigs extends ReadonlyMap<string, unknown> {
  get: {
    <S extends TSchema>(entry: PreloadEntry<S> & { schema: S }): Static<S> | undefined
    (entry: PreloadEntry | string): unknown
  }
}

/** The Map under `values`, also readable by entry. */
class ConfigValues extends Map<string, unknown> {
  override get (key: string | PreloadEntry): unknown {
    return super.get(typeof key === 'string' ? key : key.key ?? key.dataId)
  }
}

/** The parsed value by type, when there is no schema. */
type Parsed<T extends ConfigType | undefined> = T extends 'text' ? string : T extends 'properties' ? Record<string, string> : unknown

/** One change seen by `app.nacos.config.fuzzyWatch`. */
export interface FuzzyConfigEvent {
  dataId: string
  group: string
  change: FuzzyChangeType
}

export class ConfigCenter {
  readonly #transport: ConfigTransport
  readonly #log: ConfigLogger
  readonly #values = new ConfigValues()
  readonly #watches = new Set<() => void>()
  /** The content last rejected, by group and dataId, with why: logged once however many watches see it. */
  readonly #rejected = new Map<string, { content: string | null, reason: string }>()
  #closed = false
  readonly #snapshots: SnapshotStore
  /** Preloaded configs served from a snapshot, by snapshot name, until a change comes from Nacos. */
  readonly #stale = new Map<string, ConfigSnapshotUse>()

  constructor (options: ConfigCenterOptions) {
    this.#transport = options.transport
    this.#log = options.log
    this.#snapshots = options.snapshots ?? NO_SNAPSHOTS
  }

  /** The preloaded configs served from a snapshot now. */
  snapshotted (): ConfigSnapshotUse[] {
    return [...this.#stale.values()]
  }

  /** Values kept current by preload(), by key (default: dataId); undefined while a config is absent. */
  get values (): PreloadedConfigs {
    return this.#values as PreloadedConfigs
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
   * Nacos 3 fuzzy watch: every config whose dataId and group match (each exact, `*`, `prefix*`,
   * `*suffix` or `*infix*`; group default DEFAULT_GROUP). Resolves once Nacos accepted the pattern;
   * `listener` then gets each config that matches now and later (`added`) and each removed
   * (`removed`), also across reconnects; a config published again is no news to it (Nacos 3 tells
   * only these two): follow its content with watch(). Rejects with
   * FST_NACOS_FUZZY_WATCH_UNSUPPORTED, FST_NACOS_FUZZY_PATTERN or FST_NACOS_FUZZY_WATCH_LIMIT.
   */
  async fuzzyWatch (pattern: { dataId: string, group?: string }, listener: (event: FuzzyConfigEvent) => void): Promise<FuzzyWatchHandle> {
    if (this.#closed) throw new ClosedError('config center')
    return await startFuzzyWatch(this.#transport.fuzzyWatch, 'configs', pattern.group, pattern.dataId, (c) => { listener({ dataId: c.name, group: c.group, change: c.change }) })
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
    if (this.#closed) throw new ClosedError('config center')
    const info = { dataId, group: options.group ?? DEFAULT_GROUP }
    const onContent = (content: string | null): void => {
      let value: unknown
      const key = `${info.group}@@${dataId}`
      try {
        value = parseConfig(dataId, info.group, options, content)
      } catch (err) {
        const last = this.#rejected.get(key)
        const reason = (err as Error).message
        if (last?.content !== content || last.reason !== reason) {
          this.#rejected.set(key, { content, reason })
          this.#log.error({ dataId, group: info.group, err }, 'config change rejected: keeping the last good value')
        }
        return
      }
      // Another watch of the same content may still reject it; a later content is news again.
      if (this.#rejected.get(key)?.content !== content) this.#rejected.delete(key)
      this.#fromNacos(info.group, dataId, content)
      try {
        listener(value, content || undefined)
      } catch (err) {
        this.#log.error({ dataId, group: info.group, err }, 'a config listener threw')
      }
    }
    const unwatch = this.#transport.watch(info, onContent)
    const off = (): void => {
      if (this.#watches.delete(off)) unwatch()
    }
    this.#watches.add(off)
    return off
  }

  /** Publishes a config; a non-string value is serialized by the type (JSON by default). */
  async publish (dataId: string, content: unknown, options: Omit<ConfigOptions, 'schema'> = {}): Promise<void> {
    const type = typeOf(dataId, options.type)
    await this.#transport.publish({ dataId, group: options.group ?? DEFAULT_GROUP }, serialize(content, type), type)
  }

  async remove (dataId: string, options: { group?: string } = {}): Promise<void> {
    await this.#transport.remove({ dataId, group: options.group ?? DEFAULT_GROUP })
  }

  /**
   * Reads every entry (all must parse and validate) and keeps `values` current from then on,
   * like Spring's `spring.config.import`.
   */
  async preload (entries: readonly PreloadEntry[]): Promise<PreloadedConfigs> {
    const keys = entries.map((e) => e.key ?? e.dataId)
    const duplicate = keys.find((k, i) => keys.indexOf(k) !== i || this.#values.has(k))
    if (duplicate !== undefined) throw new SettingError('option configs', `key ${JSON.stringify(duplicate)}`, 'distinct keys: this one is used twice (a key defaults to the dataId)')
    const values = await Promise.all(entries.map(async (entry) => await this.#readOrSnapshot(entry.dataId, entry)))
    entries.forEach((entry, i) => {
      const key = keys[i] as string
      this.#values.set(key, values[i])
      this.#watch(entry.dataId, entry, (value) => { this.#values.set(key, value) })
    })
    return this.values
  }

  /** Ends every watch; later calls fail with FST_NACOS_CLOSED. The transport is closed by its owner. */
  close (): void {
    this.#closed = true
    for (const off of [...this.#watches]) off()
  }

  async #read (dataId: string, options: ConfigOptions): Promise<unknown> {
    // The SDK would answer from its snapshot once our agent refuses to send.
    if (this.#closed) throw new ClosedError('config center')
    const group = options.group ?? DEFAULT_GROUP
    const content = await this.#transport.get({ dataId, group })
    const value = parseConfig(dataId, group, options, content)
    this.#fromNacos(group, dataId, content)
    return value
  }

  /** Nacos told a config's content (null: absent): it is the snapshot now, and no longer served from one. */
  #fromNacos (group: string, dataId: string, content: string | null): void {
    const name = snapshotName(group, dataId)
    this.#snapshots.save('configs', name, content === null ? null : { content })
    this.#stale.delete(name)
  }

  /** #read(), or when no server answers, the snapshot (validated like a fresh read); FST_NACOS_NO_SNAPSHOT without one. */
  async #readOrSnapshot (dataId: string, options: ConfigOptions): Promise<unknown> {
    try {
      return await this.#read(dataId, options)
    } catch (err) {
      if (ANSWERED.has((err as { code?: string }).code ?? '')) throw err
      const group = options.group ?? DEFAULT_GROUP
      const saved = await this.#snapshots.load<{ content?: unknown }>('configs', snapshotName(group, dataId))
      if (typeof saved?.data.content !== 'string') throw new NoSnapshotError(dataId, group, (err as Error).message, { cause: err })
      const value = parseConfig(dataId, group, options, saved.data.content)
      const savedAt = new Date(saved.savedAt).toISOString()
      this.#stale.set(snapshotName(group, dataId), { dataId, group, savedAt })
      const ageSeconds = Math.round((Date.now() - saved.savedAt) / 1000)
      this.#log.warn({ dataId, group, savedAt, ageSeconds, err: { message: (err as Error).message } },
        `Nacos unreachable: config ${dataId} (group ${group}) served from a snapshot written ${ageSeconds} s ago`)
      return value
    }
  }
}
