// Config over gRPC: ConfigQueryRequest (error 300 = not found → null), ConfigPublishRequest
// (the type in additionMap), ConfigRemoveRequest, and following configs with
// ConfigBatchListenRequest: the server is told the md5 of the content last seen (md5 of "" for
// none) and answers with the configs that differ; later changes arrive as ConfigChangeNotifyRequest
// pushes. Either way the content is queried and, when its md5 differs from the last one seen,
// handed to the watchers (null once removed).
//
// Listens are redone by this module: after every reconnect (with the md5s last seen, so a change
// made while disconnected is caught), every `resyncMs` for all followed configs (the Java client
// re-listens every 3 minutes), and on the next tick for a config whose query failed.
import { createHash } from 'node:crypto'
import type { ConfigKey, ConfigTransport } from '../types.js'
import type { Connection } from './connection.js'
import type { GrpcLog } from './link.js'
import type { GrpcTransportError } from './errors.js'
import { NACOS_CONFIG_NOT_FOUND, NACOS_CONFIG_QUERY_CONFLICT } from './errors.js'
import { CONFLICT_READS, pauseBeforeReread } from '../config-conflict.js'
import type { Json } from './proto.js'
import type { Caller } from './naming.js'

export interface ConfigOptions {
  tenant: string
  appName: string | undefined
  /** How often to look for listens to redo (default 5 s). */
  checkIntervalMs: number
  /** How often every followed config is listened again (default 3 min). */
  resyncMs: number
  log: GrpcLog
}

interface Follow {
  dataId: string
  group: string
  watchers: Set<(content: string | null) => void>
  /** md5 of the content last seen ('' for none), as the server computes it. */
  md5: string
  /** The content last seen (null: none), handed to a watcher that joins later. */
  content: string | null
  /** The baseline content was read. */
  initialized: boolean
  /** A change was announced but its content could not be read yet. */
  dirty: boolean
  /** The connection generation the listen was last confirmed on (0: never). */
  gen: number
  /** Serialises the reads of one config. */
  chain: Promise<void>
}

export const md5Hex = (content: string | null): string => content === null ? '' : createHash('md5').update(content, 'utf8').digest('hex')

export class GrpcConfig implements ConfigTransport {
  readonly #conn: Connection
  readonly #call: Caller
  readonly #opts: ConfigOptions
  readonly #follows = new Map<string, Follow>()
  #gen = 0
  #lastFullSync = Date.now()
  #ticking = false
  #closed = false
  readonly #closing = new AbortController()
  readonly #timer: NodeJS.Timeout
  readonly #offUp: () => void

  constructor (conn: Connection, call: Caller, opts: ConfigOptions) {
    this.#conn = conn
    this.#call = call
    this.#opts = opts
    this.#offUp = conn.onUp(() => {
      this.#gen++
      void this.#tick()
    })
    conn.handle('ConfigChangeNotifyRequest', (body) => {
      const follow = this.#follows.get(this.#key(String(body.dataId ?? ''), String(body.group ?? '')))
      if (follow && String(body.tenant ?? '') === this.#opts.tenant) this.#refresh(follow, true)
      return { type: 'ConfigChangeNotifyResponse' }
    })
    this.#timer = setInterval(() => { void this.#tick() }, opts.checkIntervalMs)
    this.#timer.unref()
  }

  #key (dataId: string, group: string): string {
    return `${dataId}+${group}`
  }

  #resource (group: string) {
    return { module: 'config' as const, tenant: this.#opts.tenant, group }
  }

  get = async (key: ConfigKey): Promise<string | null> => await this.#query(key, false)

  async #query (key: ConfigKey, notify: boolean): Promise<string | null> {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.#call('ConfigQueryRequest', { dataId: key.dataId, group: key.group, tenant: this.#opts.tenant, tag: '', headers: {} }, this.#resource(key.group), { notify: String(notify) })
        return typeof res.content === 'string' ? res.content : ''
      } catch (err) {
        const { errorCode, requestType } = err as GrpcTransportError
        if (requestType !== 'ConfigQueryRequest') throw err
        if (errorCode === NACOS_CONFIG_NOT_FOUND) return null
        // The read met a write of the same config (a publish a moment ago): read again shortly,
        // as the server asks, before calling it a failure.
        if (errorCode !== NACOS_CONFIG_QUERY_CONFLICT || attempt >= CONFLICT_READS || this.#closed) throw err
        await pauseBeforeReread(attempt, this.#closing.signal)
      }
    }
  }

  publish = async (key: ConfigKey, content: string, type: string): Promise<void> => {
    const additionMap: Record<string, string> = { type }
    if (this.#opts.appName) additionMap.appName = this.#opts.appName
    await this.#call('ConfigPublishRequest', { dataId: key.dataId, group: key.group, tenant: this.#opts.tenant, content, additionMap, headers: {} }, this.#resource(key.group))
  }

  remove = async (key: ConfigKey): Promise<void> => {
    await this.#call('ConfigRemoveRequest', { dataId: key.dataId, group: key.group, tenant: this.#opts.tenant, headers: {} }, this.#resource(key.group))
  }

  watch = (key: ConfigKey, onChange: (content: string | null) => void): (() => void) => {
    const k = this.#key(key.dataId, key.group)
    let follow = this.#follows.get(k)
    if (!follow) {
      follow = { dataId: key.dataId, group: key.group, watchers: new Set(), md5: '', content: null, initialized: false, dirty: false, gen: 0, chain: Promise.resolve() }
      this.#follows.set(k, follow)
      const f = follow
      f.watchers.add(onChange)
      this.#enqueue(f, async () => { await this.#start(f) })
    } else {
      follow.watchers.add(onChange)
      // Like the HTTP transport: a new watcher is told the current content first, when there is one.
      const joined = follow
      if (joined.initialized && joined.content !== null) {
        const content = joined.content
        queueMicrotask(() => { if (joined.watchers.has(onChange)) onChange(content) })
      }
    }
    const owner = follow
    return () => {
      if (!owner.watchers.delete(onChange) || owner.watchers.size > 0) return
      if (this.#follows.get(k) === owner) this.#follows.delete(k)
      if (this.#closed || !this.#conn.ready) return
      void this.#listen([owner], false).catch((err: unknown) => {
        this.#opts.log.debug?.({ dataId: owner.dataId, group: owner.group, err: (err as Error).message }, 'nacos grpc: config unlisten failed')
      })
    }
  }

  close (): void {
    this.#closed = true
    this.#closing.abort()
    clearInterval(this.#timer)
    this.#offUp()
    this.#follows.clear()
  }

  // ---- following ----

  #enqueue (follow: Follow, task: () => Promise<void>): void {
    follow.chain = follow.chain.then(async () => {
      if (this.#closed || this.#follows.get(this.#key(follow.dataId, follow.group)) !== follow) return
      await task()
    }).catch((err: unknown) => {
      this.#opts.log.warn({ dataId: follow.dataId, group: follow.group, err: (err as Error).message }, 'nacos grpc: following a config failed, will retry')
    })
  }

  /** Reads the baseline content, then listens with its md5. */
  async #start (follow: Follow): Promise<void> {
    const gen = this.#gen
    const content = await this.#query(follow, false)
    follow.md5 = md5Hex(content)
    follow.content = content
    follow.initialized = true
    if (content !== null) this.#tell(follow, content)
    const changed = await this.#listen([follow], true)
    if (gen === this.#gen && this.#conn.ready) follow.gen = gen
    if (changed.has(follow)) await this.#read(follow, true)
  }

  /** Reads the content after a change notice (in order with the other reads of this config). */
  #refresh (follow: Follow, notify: boolean): void {
    follow.dirty = true
    this.#enqueue(follow, async () => { await this.#read(follow, notify) })
  }

  async #read (follow: Follow, notify: boolean): Promise<void> {
    let content: string | null
    try {
      content = await this.#query(follow, notify)
    } catch (err) {
      follow.dirty = true
      throw err
    }
    follow.dirty = false
    const md5 = md5Hex(content)
    if (md5 === follow.md5) return
    follow.md5 = md5
    follow.content = content
    this.#tell(follow, content)
  }

  #tell (follow: Follow, content: string | null): void {
    for (const watcher of [...follow.watchers]) {
      try {
        watcher(content)
      } catch (err) {
        this.#opts.log.error({ err, dataId: follow.dataId, group: follow.group }, 'nacos grpc: a config watcher threw')
      }
    }
  }

  /** One ConfigBatchListenRequest; resolves with the follows the server says have changed. */
  async #listen (follows: Follow[], listen: boolean): Promise<Set<Follow>> {
    const res = await this.#call('ConfigBatchListenRequest', {
      listen,
      configListenContexts: follows.map((f) => ({ dataId: f.dataId, group: f.group, tenant: this.#opts.tenant, md5: f.md5 })),
      headers: {}
    }, { module: 'config', tenant: '', group: '' })
    const changed = new Set<Follow>()
    const list = Array.isArray(res.changedConfigs) ? res.changedConfigs as Json[] : []
    for (const c of list) {
      const f = this.#follows.get(this.#key(String(c.dataId ?? ''), String(c.group ?? '')))
      if (f && follows.includes(f)) changed.add(f)
    }
    return changed
  }

  /** Redoes what needs it: listens after a reconnect or when due, reads that failed, starts that failed. */
  async #tick (): Promise<void> {
    if (this.#ticking || this.#closed || !this.#conn.ready || this.#follows.size === 0) return
    this.#ticking = true
    try {
      const gen = this.#gen
      const full = Date.now() - this.#lastFullSync >= this.#opts.resyncMs
      const due: Follow[] = []
      for (const f of this.#follows.values()) {
        if (!f.initialized) {
          this.#enqueue(f, async () => { if (!f.initialized) await this.#start(f) })
          continue
        }
        if (f.dirty) this.#refresh(f, true)
        if (full || f.gen !== gen) due.push(f)
      }
      if (due.length === 0) return
      const changed = await this.#listen(due, true)
      if (full) this.#lastFullSync = Date.now()
      for (const f of due) if (gen === this.#gen) f.gen = gen
      for (const f of changed) this.#refresh(f, true)
    } catch (err) {
      this.#opts.log.warn({ err: (err as Error).message }, 'nacos grpc: config listen failed, will retry')
    } finally {
      this.#ticking = false
    }
  }
}
