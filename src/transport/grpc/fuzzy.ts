// Fuzzy watch over gRPC (Nacos 3): NamingFuzzyWatchRequest / ConfigFuzzyWatchRequest register a
// pattern `namespace>>group>>name` on the connection; the server then pushes the keys that match
// (…FuzzyWatchSyncRequest: the initial list, FUZZY_WATCH_INIT_NOTIFY; after a redo the difference
// to what the client said it had, FUZZY_WATCH_DIFF_SYNC_NOTIFY) and each change
// (…FuzzyWatchChangeNotifyRequest). Every push is answered. After a reconnect each pattern is
// registered again with the keys already known, so only the difference is told to the listeners;
// one that fails is tried again every `redoIntervalMs`. Naming and config differ only in names,
// the key format and the change types: see FuzzySpec.
import type { FuzzyChange, FuzzyPattern, FuzzyWatch } from '../types.js'
import type { Connection } from './connection.js'
import type { GrpcLog } from './link.js'
import type { Json } from './proto.js'
import type { Caller } from './naming.js'
import type { Resource } from './auth.js'
import { GrpcTransportError, NACOS_FUZZY_MATCH_OVER_LIMIT, NACOS_NO_HANDLER } from './errors.js'

export interface FuzzySpec {
  /** 'Naming' or 'Config': the prefix of the request and push class names. */
  prefix: 'Naming' | 'Config'
  /** The field of a change push naming what changed, and the one of its type. */
  changeKeyField: string
  changeTypeField: string
  /** The field of a sync push context naming what changed. */
  syncKeyField: string
  /** `{ namespace, group, name }` of a key as the server sends it; undefined when unreadable. */
  parseKey: (key: string) => { namespace: string, group: string, name: string } | undefined
  added: string
  removed: string
  resource: (pattern: FuzzyPattern) => Resource
  /** Extra fields of the watch request (naming sends the namespace). */
  extra: Json
}

export interface FuzzyOptions {
  /** The namespace as patterns name it ('public' for the default one). */
  namespace: string
  redoIntervalMs: number
  log: GrpcLog
}

interface Entry {
  pattern: FuzzyPattern
  wire: string
  listeners: Set<(change: FuzzyChange) => void>
  /** Keys (group, name) known to match, as `group>>name`. */
  known: Set<string>
  /** Raw server keys known, sent back on a redo. */
  receivedKeys: Set<string>
  /** The connection generation the watch was last accepted on (0: never). */
  gen: number
}

const SPLIT = '>>'

/** Nacos's pattern match of one part (FuzzyGroupKeyPattern): exact, '*', '*x*', '*x', 'x*'. */
export function partMatches (pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value
  if (pattern === '*') return true
  const pure = pattern.replaceAll('*', '')
  if (pattern.startsWith('*') && pattern.endsWith('*')) return value.includes(pure)
  if (pattern.startsWith('*')) return value.endsWith(pure)
  if (pattern.endsWith('*')) return value.startsWith(pure)
  return false
}

export class FuzzyWatches {
  readonly #call: Caller
  readonly #spec: FuzzySpec
  readonly #opts: FuzzyOptions
  readonly #entries = new Map<string, Entry>()
  #gen = 0
  #closed = false
  readonly #timer: NodeJS.Timeout
  readonly #offUp: () => void

  constructor (conn: Connection, call: Caller, spec: FuzzySpec, opts: FuzzyOptions) {
    this.#call = call
    this.#spec = spec
    this.#opts = opts
    this.#offUp = conn.onUp(() => {
      this.#gen++
      void this.#redo()
    })
    conn.handle(`${spec.prefix}FuzzyWatchSyncRequest`, (body) => {
      this.#onSync(body)
      return { type: `${spec.prefix}FuzzyWatchSyncResponse` }
    })
    conn.handle(`${spec.prefix}FuzzyWatchChangeNotifyRequest`, (body) => {
      this.#onChange(body)
      return { type: `${spec.prefix}FuzzyWatchChangeNotifyResponse` }
    })
    this.#timer = setInterval(() => { if (conn.ready) void this.#redo() }, opts.redoIntervalMs)
    this.#timer.unref()
  }

  watch: FuzzyWatch = async (pattern, onChange) => {
    const wire = [this.#opts.namespace, pattern.group, pattern.name].join(SPLIT)
    let entry = this.#entries.get(wire)
    if (entry) {
      entry.listeners.add(onChange)
      const joined = entry
      // What the others already know reaches the newcomer too.
      queueMicrotask(() => {
        for (const key of joined.known) {
          const [group = '', name = ''] = key.split(SPLIT)
          if (joined.listeners.has(onChange)) this.#tell(onChange, { group, name, change: 'added' })
        }
      })
    } else {
      entry = { pattern, wire, listeners: new Set([onChange]), known: new Set(), receivedKeys: new Set(), gen: 0 }
      this.#entries.set(wire, entry)
      try {
        await this.#send(entry)
      } catch (err) {
        this.#entries.delete(wire)
        if ((err as GrpcTransportError).errorCode === NACOS_FUZZY_MATCH_OVER_LIMIT) {
          // The server keeps a pattern it answered so: do not leave it watched.
          void this.#cancel(entry)
        }
        throw err
      }
    }
    const owner = entry
    return async () => {
      if (!owner.listeners.delete(onChange) || owner.listeners.size > 0) return
      if (this.#entries.get(owner.wire) === owner) this.#entries.delete(owner.wire)
      await this.#cancel(owner)
    }
  }

  close (): void {
    this.#closed = true
    clearInterval(this.#timer)
    this.#offUp()
    this.#entries.clear()
  }

  async #cancel (entry: Entry): Promise<void> {
    if (this.#closed) return
    try {
      await this.#call(`${this.#spec.prefix}FuzzyWatchRequest`, this.#body(entry, 'CANCEL_WATCH'), this.#spec.resource(entry.pattern))
    } catch (err) {
      // The watch ends with the connection anyway; nothing more to do.
      this.#opts.log.debug?.({ pattern: entry.wire, err: (err as Error).message }, 'nacos grpc: fuzzy watch cancel failed')
    }
  }

  #body (entry: Entry, watchType: 'WATCH' | 'CANCEL_WATCH'): Json {
    return {
      ...this.#spec.extra,
      groupKeyPattern: entry.wire,
      receivedGroupKeys: watchType === 'WATCH' ? [...entry.receivedKeys] : [],
      watchType,
      isInitializing: entry.gen === 0,
      headers: {}
    }
  }

  async #send (entry: Entry): Promise<void> {
    const gen = this.#gen
    const type = `${this.#spec.prefix}FuzzyWatchRequest`
    try {
      await this.#call(type, this.#body(entry, 'WATCH'), this.#spec.resource(entry.pattern))
    } catch (err) {
      const e = err as GrpcTransportError
      if (e.errorCode === NACOS_NO_HANDLER || /not found|unknown payload/i.test(e.message)) {
        throw new GrpcTransportError('unsupported', `this Nacos server does not serve ${type}: fuzzy watch needs Nacos 3.0 or later`, { errorCode: e.errorCode, requestType: type, cause: err })
      }
      throw err
    }
    entry.gen = gen
  }

  async #redo (): Promise<void> {
    for (const entry of [...this.#entries.values()]) {
      if (entry.gen === this.#gen || this.#closed) continue
      try {
        await this.#send(entry)
      } catch (err) {
        this.#opts.log.warn({ pattern: entry.wire, err: (err as Error).message }, 'nacos grpc: fuzzy watch redo failed, will retry')
      }
    }
  }

  #onSync (body: Json): void {
    const entry = this.#entries.get(String(body.groupKeyPattern ?? ''))
    if (!entry || !Array.isArray(body.contexts)) return
    for (const ctx of body.contexts as Json[]) {
      const type = String(ctx.changedType ?? '')
      this.#apply(entry, String(ctx[this.#spec.syncKeyField] ?? ''), type === this.#spec.added ? 'present' : type === this.#spec.removed ? 'gone' : 'ignore')
    }
  }

  #onChange (body: Json): void {
    const raw = String(body[this.#spec.changeKeyField] ?? '')
    const key = this.#spec.parseKey(raw)
    if (!key) return
    const type = String(body[this.#spec.changeTypeField] ?? '')
    for (const entry of this.#entries.values()) {
      if (key.namespace !== this.#opts.namespace || !partMatches(entry.pattern.group, key.group) || !partMatches(entry.pattern.name, key.name)) continue
      this.#apply(entry, raw, type === this.#spec.removed ? 'gone' : 'present')
    }
  }

  #apply (entry: Entry, raw: string, what: 'present' | 'gone' | 'ignore'): void {
    const key = this.#spec.parseKey(raw)
    if (!key || what === 'ignore') return
    const id = `${key.group}${SPLIT}${key.name}`
    let change: FuzzyChange['change']
    if (what === 'gone') {
      if (!entry.known.delete(id)) return
      entry.receivedKeys.delete(raw)
      change = 'removed'
    } else {
      entry.receivedKeys.add(raw)
      if (entry.known.has(id)) return
      entry.known.add(id)
      change = 'added'
    }
    for (const listener of [...entry.listeners]) this.#tell(listener, { group: key.group, name: key.name, change })
  }

  #tell (listener: (change: FuzzyChange) => void, change: FuzzyChange): void {
    try {
      listener(change)
    } catch (err) {
      this.#opts.log.error({ err }, 'nacos grpc: a fuzzy watch listener threw')
    }
  }
}

/** `namespace@@group@@service`, as NamingUtils.getServiceKey writes it. */
function parseServiceKey (key: string): { namespace: string, group: string, name: string } | undefined {
  const parts = key.split('@@')
  if (parts.length !== 3) return undefined
  const [namespace = '', group = '', name = ''] = parts
  return { namespace: namespace || 'public', group, name }
}

/** `dataId+group+tenant`, '+' and '%' in each part escaped as %2B and %25 (Nacos's GroupKey). */
function parseConfigKey (key: string): { namespace: string, group: string, name: string } | undefined {
  const parts = key.split('+').map((p) => p.replaceAll('%2B', '+').replaceAll('%25', '%'))
  if (parts.length < 2 || parts.length > 3) return undefined
  const [name = '', group = '', namespace = ''] = parts
  return { namespace: namespace || 'public', group, name }
}

export function namingFuzzy (conn: Connection, call: Caller, namespace: string, redoIntervalMs: number, log: GrpcLog): FuzzyWatches {
  return new FuzzyWatches(conn, call, {
    prefix: 'Naming',
    changeKeyField: 'serviceKey',
    changeTypeField: 'changedType',
    syncKeyField: 'serviceKey',
    parseKey: parseServiceKey,
    added: 'ADD_SERVICE',
    removed: 'DELETE_SERVICE',
    resource: (p) => ({ module: 'naming', namespace, group: p.group, service: p.name }),
    extra: { namespace }
  }, { namespace, redoIntervalMs, log })
}

export function configFuzzy (conn: Connection, call: Caller, tenant: string, redoIntervalMs: number, log: GrpcLog): FuzzyWatches {
  return new FuzzyWatches(conn, call, {
    prefix: 'Config',
    changeKeyField: 'groupKey',
    changeTypeField: 'changeType',
    syncKeyField: 'groupKey',
    parseKey: parseConfigKey,
    added: 'ADD_CONFIG',
    removed: 'DELETE_CONFIG',
    resource: (p) => ({ module: 'config', tenant, group: p.group }),
    extra: {}
  }, { namespace: tenant === '' ? 'public' : tenant, redoIntervalMs, log })
}
