// Discovery and the config center over the fake transport (no server) with a snapshot store in a
// temporary directory: what Nacos answered is kept, and read back when it cannot answer.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import { Discovery } from '../../src/naming/discovery.ts'
import { ConfigCenter } from '../../src/config/center.ts'
import { openSnapshots, type SnapshotStore } from '../../src/snapshot/store.ts'
import { FakeConfig, FakeNaming } from '../helpers/fake-transport.ts'
import { recordingLog } from '../helpers/instances.ts'

const down = async (): Promise<never> => { throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'FST_NACOS_REQUEST_FAILED' }) }

async function store (t: { teardown: (fn: () => void) => void }): Promise<SnapshotStore> {
  const root = mkdtempSync(join(tmpdir(), 'snapshot-use-'))
  t.teardown(() => { rmSync(root, { recursive: true, force: true }) })
  return await openSnapshots({ root, key: 'k', log: recordingLog().log, fallbackRoot: join(root, 'fallback') })
}

t.test('discovery: a service read before is served from its snapshot when Nacos cannot answer, until Nacos answers again', async (t) => {
  const snapshots = await store(t)
  const before = new FakeNaming()
  before.onQuery = async () => ({ hosts: [{ ip: '10.0.0.1', port: 1 }, { ip: '10.0.0.2', port: 2 }], lastRefTime: 5_000 })
  const first = new Discovery({ transport: before, log: recordingLog().log, snapshots })
  t.equal((await first.instances('svc')).length, 2)
  first.close()
  await snapshots.flush()

  const naming = new FakeNaming()
  naming.onQuery = down
  const { log, lines } = recordingLog()
  const discovery = new Discovery({ transport: naming, log, snapshots })
  t.teardown(() => { discovery.close() })
  t.same((await discovery.instances('svc')).map((i) => i.port), [1, 2], 'the snapshot answers')
  t.ok(await discovery.pick('svc'))
  t.same(discovery.snapshotted().map((s) => s.service), ['svc'])
  t.ok(lines.some((l) => l.msg === 'Nacos unreachable: serving the instances of a snapshot'))
  await t.rejects(discovery.instances('other'), /ECONNREFUSED/, 'no snapshot: the error as before')

  // A server whose clock is behind the snapshot's still replaces it.
  naming.push('svc', { hosts: [{ ip: '10.0.0.3', port: 3 }], lastRefTime: 1 })
  t.same(discovery.cached('svc')?.map((i) => i.port), [3])
  t.same(discovery.snapshotted(), [], 'no longer from a snapshot')
})

t.test('config center: preloaded configs come from the snapshot, validated; removed in Nacos, removed from the snapshot', async (t) => {
  const snapshots = await store(t)
  const schema = Type.Object({ port: Type.Integer() })
  const up = new FakeConfig()
  up.contents.set('DEFAULT_GROUP/app.json', '{"port":81}')
  up.contents.set('DEFAULT_GROUP/gone.json', '{"port":1}')
  const first = new ConfigCenter({ transport: up, log: recordingLog().log, snapshots })
  await first.preload([{ dataId: 'app.json', schema }, { dataId: 'gone.json', schema }])
  up.change('gone.json', null)
  first.close()
  await snapshots.flush()

  const config = new FakeConfig()
  config.onGet = down
  const { log, lines } = recordingLog()
  const center = new ConfigCenter({ transport: config, log, snapshots })
  t.teardown(() => { center.close() })
  const values = await center.preload([{ dataId: 'app.json', schema }])
  t.same(values.get('app.json'), { port: 81 })
  t.same(center.snapshotted().map((s) => s.dataId), ['app.json'])
  const warning = lines.find((l) => l.level === 'warn' && l.msg.includes('served from a snapshot'))
  t.match(warning?.msg, /^Nacos unreachable: config app\.json \(group DEFAULT_GROUP\) served from a snapshot written \d+ s ago$/)
  t.match(warning?.obj, { dataId: 'app.json', group: 'DEFAULT_GROUP' })

  const removed = new ConfigCenter({ transport: config, log, snapshots })
  t.teardown(() => { removed.close() })
  await t.rejects(removed.preload([{ dataId: 'gone.json', schema }]), { code: 'FST_NACOS_NO_SNAPSHOT', message: /gone\.json.*no snapshot of it exists/ })

  const invalid = new ConfigCenter({ transport: config, log, snapshots })
  t.teardown(() => { invalid.close() })
  await t.rejects(invalid.preload([{ dataId: 'app.json', key: 'x', schema: Type.Object({ port: Type.String() }) }]), { code: 'FST_NACOS_CONFIG_INVALID' }, 'validated like a fresh one')

  // Nacos answers again: the watch's first delivery replaces the snapshot's value.
  config.change('app.json', '{"port":82}')
  t.same(values.get('app.json'), { port: 82 })
  t.same(center.snapshotted(), [])
})

t.test('config center: an answer that says no (auth) is not hidden by a snapshot', async (t) => {
  const snapshots = await store(t)
  const config = new FakeConfig()
  config.contents.set('DEFAULT_GROUP/a.json', '{}')
  const first = new ConfigCenter({ transport: config, log: recordingLog().log, snapshots })
  await first.preload([{ dataId: 'a.json' }])
  first.close()
  config.onGet = async () => { throw Object.assign(new Error('forbidden'), { code: 'FST_NACOS_AUTH_FAILED' }) }
  const center = new ConfigCenter({ transport: config, log: recordingLog().log, snapshots })
  t.teardown(() => { center.close() })
  await t.rejects(center.preload([{ dataId: 'a.json' }]), { code: 'FST_NACOS_AUTH_FAILED' })
})
