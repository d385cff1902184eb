// A FAKE transport, for unit tests only: it talks to no Nacos. It implements the seam
// (src/transport/types.ts) with in-memory state that the test drives by hand — how each call
// answers (now, later, or with an error), which keep-alive event fires, which push arrives, which
// config changes — and records every call so the test can check what the registry, discovery or
// config center asked. Behaviour against a real server is the contract suite's job (test/contract).
import type {
  ConfigKey, ConfigTransport, InstanceSpec, KeepAliveEvents, NamingTransport, ServiceRef, ServiceSnapshot
} from '../../src/transport/types.ts'

/** A promise the test settles when it wants to. */
export interface Deferred<T> {
  promise: Promise<T>
  resolve: (value: T) => void
  reject: (err: Error) => void
}

export function deferred<T = void> (): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (err: Error) => void
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

export interface KeptAlive {
  instance: InstanceSpec
  events: KeepAliveEvents
  stopped: boolean
}

const refKey = (ref: Pick<ServiceRef, 'service' | 'group'>): string => `${ref.group}@@${ref.service}`

export class FakeNaming implements NamingTransport {
  readonly refreshIntervalMs = 5000
  readonly calls: string[] = []
  readonly kept: KeptAlive[] = []
  readonly #watchers = new Map<string, Set<(snapshot: ServiceSnapshot) => void>>()
  /** How the next register/deregister/query/probe answers; replace to make it fail or wait. */
  onRegister: (instance: InstanceSpec) => Promise<void> = async () => {}
  onDeregister: (instance: InstanceSpec) => Promise<void> = async () => {}
  onQuery: (ref: ServiceRef) => Promise<ServiceSnapshot> = async () => ({ hosts: [], lastRefTime: Date.now() })
  onProbe: () => Promise<void> = async () => {}

  register = async (instance: InstanceSpec): Promise<void> => {
    this.calls.push(`register ${instance.serviceName}`)
    await this.onRegister(instance)
  }

  deregister = async (instance: InstanceSpec): Promise<void> => {
    this.calls.push(`deregister ${instance.serviceName}`)
    await this.onDeregister(instance)
  }

  keepAlive = (instance: InstanceSpec, events: KeepAliveEvents): (() => void) => {
    this.calls.push(`keepAlive ${instance.serviceName}`)
    const entry: KeptAlive = { instance, events, stopped: false }
    this.kept.push(entry)
    return () => { entry.stopped = true }
  }

  /** The keep-alive most recently started. */
  get current (): KeptAlive {
    const last = this.kept.at(-1)
    if (last === undefined) throw new Error('no keepAlive was started')
    return last
  }

  query = async (ref: ServiceRef): Promise<ServiceSnapshot> => {
    this.calls.push(`query ${refKey(ref)}@@${ref.clusters.join(',')}`)
    return await this.onQuery(ref)
  }

  watch = (ref: ServiceRef, onChange: (snapshot: ServiceSnapshot) => void): (() => void) => {
    const key = refKey(ref)
    const set = this.#watchers.get(key) ?? new Set()
    set.add(onChange)
    this.#watchers.set(key, set)
    return () => { set.delete(onChange) }
  }

  /** Number of open watches of a service. */
  watching (service: string, group = 'DEFAULT_GROUP'): number {
    return this.#watchers.get(refKey({ service, group }))?.size ?? 0
  }

  /** Delivers a push to every watcher of the service, as Nacos would. */
  push (service: string, snapshot: ServiceSnapshot, group = 'DEFAULT_GROUP'): void {
    for (const onChange of this.#watchers.get(refKey({ service, group })) ?? []) onChange(snapshot)
  }

  probe = async (): Promise<void> => { await this.onProbe() }

  readonly #connected = new Set<() => void>()
  onConnected = (fn: () => void): (() => void) => {
    this.#connected.add(fn)
    return () => { this.#connected.delete(fn) }
  }

  /** Says the transport (re)connected, as the gRPC transport does. */
  connected (): void {
    for (const fn of [...this.#connected]) fn()
  }
}

export class FakeConfig implements ConfigTransport {
  readonly contents = new Map<string, string>()
  readonly published: Array<{ key: string, content: string, type: string }> = []
  readonly #watchers = new Map<string, Set<(content: string | null) => void>>()
  /** Replace to make reads fail or wait. */
  onGet: (key: ConfigKey) => Promise<string | null> = async (key) => this.contents.get(`${key.group}/${key.dataId}`) ?? null

  get = async (key: ConfigKey): Promise<string | null> => await this.onGet(key)

  publish = async (key: ConfigKey, content: string, type: string): Promise<void> => {
    this.published.push({ key: `${key.group}/${key.dataId}`, content, type })
    this.change(key.dataId, content, key.group)
  }

  remove = async (key: ConfigKey): Promise<void> => {
    this.change(key.dataId, null, key.group)
  }

  watch = (key: ConfigKey, onChange: (content: string | null) => void): (() => void) => {
    const id = `${key.group}/${key.dataId}`
    const set = this.#watchers.get(id) ?? new Set()
    set.add(onChange)
    this.#watchers.set(id, set)
    // Like the real transports: the current content first, when there is one.
    const now = this.contents.get(id)
    if (now !== undefined) queueMicrotask(() => { if (set.has(onChange)) onChange(now) })
    return () => { set.delete(onChange) }
  }

  /** Number of open watches, all configs together. */
  get watching (): number {
    return [...this.#watchers.values()].reduce((n, set) => n + set.size, 0)
  }

  /** Sets (or with null removes) a config and tells its watchers, as a change in Nacos would. */
  change (dataId: string, content: string | null, group = 'DEFAULT_GROUP'): void {
    const id = `${group}/${dataId}`
    if (content === null) this.contents.delete(id)
    else this.contents.set(id, content)
    for (const onChange of this.#watchers.get(id) ?? []) onChange(content)
  }
}
