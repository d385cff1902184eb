// Local snapshots of what the app read from Nacos (service lists, configs), so that it keeps
// serving and can start while Nacos cannot be reached (as the Java client's failover cache).
// Layout: <root>/<cluster key>/{services,configs}/<sha256 of the name>.json, one JSON document per
// file ({ v, name, savedAt, data }). Each write goes to a uniquely named temp file that is renamed
// over the target: a crash mid-write or several processes writing at once never leave a file that
// reads back half-written. Files 0600, directories 0700. Only what Nacos answered is written:
// never a credential or a token.
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, readdir, rename, rm, stat, writeFile, chmod } from 'node:fs/promises'
import { join } from 'node:path'

/** Bound of one snapshot file; a larger service list or config is not kept (one warning). */
export const MAX_SNAPSHOT_BYTES = 4 * 1024 * 1024
/** Bound of files per kind (services, configs) per cluster key; beyond it the oldest make room. */
export const MAX_SNAPSHOT_FILES = 1000

export type SnapshotKind = 'services' | 'configs'

/** A value read back, with when it was written (ms since the epoch). */
export interface Saved<T> {
  data: T
  savedAt: number
}

/** pino-like. */
type Logger = Record<'warn' | 'info' | 'debug', (obj: object, msg: string) => void>

export interface SnapshotStore {
  /** Where the files go; undefined when snapshots are off. */
  readonly dir: string | undefined
  /** Keeps `data` under `name`; null removes it. Never throws: a failure is logged. */
  save: (kind: SnapshotKind, name: string, data: unknown) => void
  load: <T>(kind: SnapshotKind, name: string) => Promise<Saved<T> | undefined>
  /** Resolves when every save asked so far is on disk (or failed). */
  flush: () => Promise<void>
}

/** No snapshots: nothing written, nothing read back. */
export const NO_SNAPSHOTS: SnapshotStore = {
  dir: undefined,
  save: () => {},
  load: async () => undefined,
  flush: async () => {}
}

const fileOf = (name: string): string => `${createHash('sha256').update(name).digest('hex').slice(0, 40)}.json`

interface StoreOptions {
  /** The cluster key's directory (see snapshotDirectory()). */
  dir: string
  log: Logger
  now?: () => number
}

class FileSnapshotStore implements SnapshotStore {
  readonly dir: string
  readonly #log: Logger
  readonly #now: () => number
  /** Per file: the write in progress, so that a process's writes land in the order asked. */
  readonly #writes = new Map<string, Promise<void>>()
  readonly #counts = new Map<SnapshotKind, Promise<Set<string>>>()
  readonly #warned = new Set<string>()
  /** Per kind: the new name being counted in (see #admit). */
  readonly #admitting = new Map<SnapshotKind, Promise<void>>()

  constructor (options: StoreOptions) {
    this.dir = options.dir
    this.#log = options.log
    this.#now = options.now ?? Date.now
  }

  save (kind: SnapshotKind, name: string, data: unknown): void {
    const file = join(this.dir, kind, fileOf(name))
    const previous = this.#writes.get(file) ?? Promise.resolve()
    const next = previous.then(async () => { await this.#write(kind, name, file, data) }).catch((err: NodeJS.ErrnoException) => {
      this.#warnOnce(`write:${err.code ?? 'error'}`, { dir: this.dir, err: { message: err.message } }, 'a snapshot could not be written: serving while Nacos is down may use older values')
    }).finally(() => {
      if (this.#writes.get(file) === next) this.#writes.delete(file)
    })
    this.#writes.set(file, next)
  }

  async load<T> (kind: SnapshotKind, name: string): Promise<Saved<T> | undefined> {
    const file = join(this.dir, kind, fileOf(name))
    await this.#writes.get(file)
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch {
      return undefined
    }
    try {
      const doc = JSON.parse(text) as { v?: unknown, name?: unknown, savedAt?: unknown, data?: unknown }
      // Another name with the same hash prefix, or a file of another version: not ours.
      if (doc.v !== 1 || doc.name !== name || typeof doc.savedAt !== 'number' || doc.data === undefined) return undefined
      return { data: doc.data as T, savedAt: doc.savedAt }
    } catch {
      return undefined
    }
  }

  async flush (): Promise<void> {
    await Promise.all([...this.#writes.values()])
  }

  async #write (kind: SnapshotKind, name: string, file: string, data: unknown): Promise<void> {
    const names = await this.#names(kind)
    const base = fileOf(name)
    if (data === null) {
      await rm(file, { force: true })
      names.delete(base)
      return
    }
    const text = JSON.stringify({ v: 1, name, savedAt: this.#now(), data })
    if (Buffer.byteLength(text) > MAX_SNAPSHOT_BYTES) {
      this.#warnOnce(`size:${name}`, { name, bytes: Buffer.byteLength(text), max: MAX_SNAPSHOT_BYTES }, 'too large for a snapshot: not kept')
      return
    }
    if (!names.has(base)) await this.#admit(kind, names, base)
    const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
    try {
      await writeFile(temp, text, { mode: 0o600 })
      await rename(temp, file)
    } catch (err) {
      await rm(temp, { force: true })
      names.delete(base)
      throw err
    }
  }

  /** Counts a new name in, one at a time per kind, making room first when the directory is full. */
  async #admit (kind: SnapshotKind, names: Set<string>, base: string): Promise<void> {
    const run = (this.#admitting.get(kind) ?? Promise.resolve()).then(async () => {
      if (names.has(base)) return
      if (names.size >= MAX_SNAPSHOT_FILES) await this.#evictOldest(kind, names)
      names.add(base)
    })
    const settled = run.catch(() => {})
    this.#admitting.set(kind, settled)
    await run
  }

  /**
   * A full directory makes room by removing the file written longest ago (what is new is what a
   * restart during an outage needs; a name looked up once long ago is not), said once at info.
   */
  async #evictOldest (kind: SnapshotKind, names: Set<string>): Promise<void> {
    const dir = join(this.dir, kind)
    let oldest: { file: string, at: number } | undefined
    for (const file of await readdir(dir)) {
      if (!file.endsWith('.json')) continue
      const at = await stat(join(dir, file)).then((s) => s.mtimeMs, () => undefined)
      if (at === undefined) { names.delete(file); continue }
      if (oldest === undefined || at < oldest.at) oldest = { file, at }
    }
    if (oldest === undefined) return
    await rm(join(dir, oldest.file), { force: true })
    names.delete(oldest.file)
    if (!this.#warned.has(`count:${kind}`)) {
      this.#warned.add(`count:${kind}`)
      this.#log.info({ kind, max: MAX_SNAPSHOT_FILES, dir: this.dir }, 'snapshot directory full: the oldest snapshots make room for new ones')
    }
  }

  /** The files of a kind already there (made on first use, with the directory). */
  async #names (kind: SnapshotKind): Promise<Set<string>> {
    let names = this.#counts.get(kind)
    if (names === undefined) {
      names = (async () => {
        const dir = join(this.dir, kind)
        await mkdir(dir, { recursive: true, mode: 0o700 })
        return new Set((await readdir(dir)).filter((f) => f.endsWith('.json')))
      })()
      // A failure (unwritable) is tried again next time.
      names.catch(() => { this.#counts.delete(kind) })
      this.#counts.set(kind, names)
    }
    return await names
  }

  #warnOnce (key: string, obj: object, msg: string): void {
    if (this.#warned.has(key)) return
    this.#warned.add(key)
    this.#log.warn(obj, msg)
  }
}

export interface OpenSnapshotsOptions {
  /** The root the settings name (NACOS_SNAPSHOT_DIR or its per-user default). */
  root: string
  /** Names the Nacos cluster + namespace (see clusterKey()). */
  key: string
  log: Logger
  /** Where to go when `root` takes no file. */
  fallbackRoot: string
  now?: () => number
}

/** Makes `dir` (0700) and checks it takes a file; the error when it does not. */
async function writable (dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await chmod(dir, 0o700)
  const probe = join(dir, `.probe.${process.pid}.${randomBytes(6).toString('hex')}`)
  await writeFile(probe, '', { mode: 0o600 })
  await rm(probe, { force: true })
}

/**
 * The store for one cluster key under the chosen root; a root that takes no file falls back to
 * `fallbackRoot` with one warning, and when that fails too snapshots are off (one more warning).
 */
export async function openSnapshots (options: OpenSnapshotsOptions): Promise<SnapshotStore> {
  const roots = [options.root, options.fallbackRoot]
  for (const [i, root] of roots.entries()) {
    const dir = join(root, options.key)
    try {
      await writable(dir)
      return new FileSnapshotStore({ dir, log: options.log, ...(options.now === undefined ? {} : { now: options.now }) })
    } catch (err) {
      const next = i === 0 ? `falling back to ${options.fallbackRoot}` : 'snapshots are off: a start while Nacos is down will fail'
      options.log.warn({ dir, err: { message: (err as Error).message } }, `snapshot directory not writable: ${next}`)
    }
  }
  return NO_SNAPSHOTS
}
