// The snapshot metric's feed (src/observe/snapshots.ts) on a store in memory: a snapshot read back
// counts as served, by module; a miss and a write do not.
import t from 'tap'
import { observeSnapshots } from '../../src/observe/snapshots.ts'
import { NO_OBSERVER } from '../../src/observe/events.ts'
import type { SnapshotStore } from '../../src/snapshot/store.ts'

t.test('a snapshot read back is counted as served, by module; a miss or a save is not', async (t) => {
  const kept = new Map<string, unknown>()
  const store: SnapshotStore = {
    dir: '/mem',
    save: (kind, name, data) => { kept.set(`${kind}/${name}`, data) },
    load: async <T>(kind: string, name: string) => (kept.has(`${kind}/${name}`) ? { data: kept.get(`${kind}/${name}`) as T, savedAt: 1 } : undefined),
    flush: async () => {}
  }
  const served: string[] = []
  const observed = observeSnapshots(store, { ...NO_OBSERVER, servedFromSnapshot: (module) => { served.push(module) } })
  t.equal(observed.dir, '/mem')
  observed.save('services', 'a', { hosts: [] })
  observed.save('configs', 'c', { content: 'x' })
  t.same(served, [], 'saving serves nothing')
  t.same(await observed.load('services', 'a'), { data: { hosts: [] }, savedAt: 1 })
  t.same(await observed.load('configs', 'c'), { data: { content: 'x' }, savedAt: 1 })
  t.equal(await observed.load('configs', 'missing'), undefined)
  t.same(served, ['naming', 'config'], 'one per snapshot read back')
})
