// The snapshot store as the observer sees it: a snapshot read back is one served (discovery and
// the config center read one only to serve it while Nacos cannot answer).
import type { Saved, SnapshotKind, SnapshotStore } from '../snapshot/store.js'
import type { Observer } from './events.js'

export function observeSnapshots (store: SnapshotStore, observer: Observer): SnapshotStore {
  return {
    get dir () { return store.dir },
    save: (kind, name, data) => { store.save(kind, name, data) },
    flush: async () => { await store.flush() },
    load: async <T>(kind: SnapshotKind, name: string): Promise<Saved<T> | undefined> => {
      const saved = await store.load<T>(kind, name)
      if (saved !== undefined) observer.servedFromSnapshot(kind === 'services' ? 'naming' : 'config')
      return saved
    }
  }
}
