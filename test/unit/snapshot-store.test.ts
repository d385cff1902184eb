// The snapshot store on temporary directories (no server): atomic files readable by the user only,
// one directory per cluster key, bounded, a fallback when the root takes no file, and several
// processes' writers sharing one directory.
import t from 'tap'
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync, readFileSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fork } from 'node:child_process'
import { openSnapshots, MAX_SNAPSHOT_BYTES, MAX_SNAPSHOT_FILES, NO_SNAPSHOTS } from '../../src/snapshot/store.ts'
import { clusterKey, settingsKey } from '../../src/snapshot/key.ts'

function temp (t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'snapshot-test-'))
  t.teardown(() => {
    chmodSync(dir, 0o700)
    rmSync(dir, { recursive: true, force: true })
  })
  return dir
}

function log () {
  const warnings: Array<{ obj: object, msg: string }> = []
  const infos: string[] = []
  return { warnings, infos, log: { warn: (obj: object, msg: string) => { warnings.push({ obj, msg }) }, info: (_obj: object, msg: string) => { infos.push(msg) }, debug: () => {} } }
}

t.test('writes and reads back a value with when it was saved; null removes it', async (t) => {
  const root = temp(t)
  const { log: l, warnings } = log()
  const store = await openSnapshots({ root, key: 'k', log: l, fallbackRoot: '/unused', now: () => 42 })
  t.equal(store.dir, join(root, 'k'))
  store.save('configs', 'DEFAULT_GROUP@@a.json', { content: '{"a":1}' })
  t.same(await store.load('configs', 'DEFAULT_GROUP@@a.json'), { data: { content: '{"a":1}' }, savedAt: 42 }, 'read back after the write it waits for')
  t.equal(await store.load('configs', 'DEFAULT_GROUP@@b.json'), undefined, 'nothing for another name')
  t.equal(await store.load('services', 'DEFAULT_GROUP@@a.json'), undefined, 'kinds are apart')
  store.save('configs', 'DEFAULT_GROUP@@a.json', null)
  t.equal(await store.load('configs', 'DEFAULT_GROUP@@a.json'), undefined, 'removed')
  t.same(readdirSync(join(root, 'k', 'configs')), [], 'no file, no temp file left')
  t.same(warnings, [])
})

t.test('files are 0600 and directories 0700; nothing but the data is written', { skip: process.platform === 'win32' }, async (t) => {
  const root = temp(t)
  const store = await openSnapshots({ root, key: 'k', log: log().log, fallbackRoot: '/unused' })
  store.save('services', 'G@@orders@@', { hosts: [{ ip: '10.0.0.1', port: 80 }], lastRefTime: 1 })
  await store.flush()
  const [file] = readdirSync(join(root, 'k', 'services'))
  t.ok(file?.endsWith('.json'))
  const path = join(root, 'k', 'services', file as string)
  t.equal(statSync(path).mode & 0o777, 0o600)
  t.equal(statSync(join(root, 'k')).mode & 0o777, 0o700)
  t.equal(statSync(join(root, 'k', 'services')).mode & 0o777, 0o700)
  t.same(Object.keys(JSON.parse(readFileSync(path, 'utf8'))).sort(), ['data', 'name', 'savedAt', 'v'])
})

t.test('the last of many saves wins, and a file read back is never half-written', async (t) => {
  const root = temp(t)
  const store = await openSnapshots({ root, key: 'k', log: log().log, fallbackRoot: '/unused' })
  for (let i = 0; i < 50; i++) store.save('configs', 'x', { content: String(i).repeat(10_000) })
  t.same((await store.load<{ content: string }>('configs', 'x'))?.data.content, '49'.repeat(10_000))
})

t.test('a file that is not a snapshot of that name is not read back', async (t) => {
  const root = temp(t)
  const store = await openSnapshots({ root, key: 'k', log: log().log, fallbackRoot: '/unused' })
  store.save('configs', 'x', { content: 'a' })
  await store.flush()
  const [file] = readdirSync(join(root, 'k', 'configs'))
  writeFileSync(join(root, 'k', 'configs', file as string), '{"v":1,"name":"x","sav')
  t.equal(await store.load('configs', 'x'), undefined, 'truncated')
  writeFileSync(join(root, 'k', 'configs', file as string), JSON.stringify({ v: 1, name: 'y', savedAt: 1, data: {} }))
  t.equal(await store.load('configs', 'x'), undefined, 'another name')
})

t.test('size bound: a value over MAX_SNAPSHOT_BYTES is not kept, with one warning', async (t) => {
  const root = temp(t)
  const { log: l, warnings } = log()
  const store = await openSnapshots({ root, key: 'k', log: l, fallbackRoot: '/unused' })
  const big = { content: 'x'.repeat(MAX_SNAPSHOT_BYTES) }
  store.save('configs', 'big', big)
  store.save('configs', 'big', big)
  await store.flush()
  t.equal(await store.load('configs', 'big'), undefined)
  t.same(warnings.map((w) => w.msg), ['too large for a snapshot: not kept'])
})

t.test('count bound: a full directory makes room for a new name by removing the file written longest ago, said once', async (t) => {
  const root = temp(t)
  const { log: l, warnings, infos } = log()
  const store = await openSnapshots({ root, key: 'k', log: l, fallbackRoot: '/unused' })
  for (let i = 0; i < MAX_SNAPSHOT_FILES; i++) store.save('services', `s${i}`, { hosts: [] })
  await store.flush()
  const dir = join(root, 'k', 'services')
  // s0 written longest ago.
  const [oldest] = readdirSync(dir).filter((f) => f.endsWith('.json')).filter((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')).name === 's0')
  utimesSync(join(dir, oldest as string), new Date(1000), new Date(1000))
  store.save('services', 'new-1', { hosts: [1] })
  store.save('services', 's5', { hosts: [5] })
  store.save('services', 'new-2', { hosts: [2] })
  await store.flush()
  t.equal(readdirSync(dir).filter((f) => f.endsWith('.json')).length, MAX_SNAPSHOT_FILES, 'still at the bound')
  t.same((await store.load('services', 'new-1'))?.data, { hosts: [1] }, 'the new name is kept')
  t.same((await store.load('services', 'new-2'))?.data, { hosts: [2] })
  t.equal(await store.load('services', 's0'), undefined, 'the oldest made room')
  t.same((await store.load('services', 's5'))?.data, { hosts: [5] }, 'a name already there is rewritten in place')
  t.same(infos, ['snapshot directory full: the oldest snapshots make room for new ones'], 'said once')
  t.same(warnings, [])
})

t.test('a root that takes no file falls back with one warning; when the fallback fails too, snapshots are off', { skip: process.platform === 'win32' }, async (t) => {
  const base = temp(t)
  const fallback = join(base, 'fallback')
  writeFileSync(join(base, 'file'), '')
  const { log: l, warnings } = log()
  // A path under a plain file can never be made.
  const store = await openSnapshots({ root: join(base, 'file', 'x'), key: 'k', log: l, fallbackRoot: fallback })
  t.equal(store.dir, join(fallback, 'k'))
  t.equal(warnings.length, 1)
  t.match(warnings[0]?.msg, /snapshot directory not writable: falling back to /)
  const off = await openSnapshots({ root: join(base, 'file', 'x'), key: 'k', log: l, fallbackRoot: join(base, 'file', 'y') })
  t.equal(off, NO_SNAPSHOTS)
  t.match(warnings[2]?.msg, /snapshots are off/)
})

t.test('several processes writing one directory: each file read back whole', async (t) => {
  const root = temp(t)
  const script = join(root, 'writer.mjs')
  const storeUrl = new URL('../../src/snapshot/store.ts', import.meta.url).href
  writeFileSync(script, `
    const { openSnapshots } = await import(${JSON.stringify(storeUrl)})
    const log = { warn: (o, m) => { console.error(m); process.exitCode = 1 }, debug: () => {} }
    const store = await openSnapshots({ root: process.argv[2], key: 'k', log, fallbackRoot: '/x' })
    for (let i = 0; i < 200; i++) store.save('services', 'shared', { writer: process.pid, i, pad: 'p'.repeat(5000) })
    await store.flush()
  `)
  const exits = await Promise.all([1, 2, 3].map(async () => await new Promise<number | null>((resolve) => {
    fork(script, [root], { execArgv: process.execArgv }).on('exit', resolve)
  })))
  t.same(exits, [0, 0, 0])
  const store = await openSnapshots({ root, key: 'k', log: log().log, fallbackRoot: '/x' })
  const saved = await store.load<{ i: number }>('services', 'shared')
  t.equal(saved?.data.i, 199, 'a whole document, the last of one of the writers')
  t.same(readdirSync(join(root, 'k', 'services')).filter((f) => f.endsWith('.tmp')), [], 'no temp file left')
})

t.test('cluster key: apart per cluster and namespace, the same whatever joins the list after the first server', async (t) => {
  t.not(clusterKey('nacos-prod:8848', 'public'), clusterKey('nacos-dev:8848', 'public'))
  t.not(clusterKey('nacos:8848', 'dev'), clusterKey('nacos:8848', 'prod'))
  const one = settingsKey({ snapshotCluster: undefined, serverAddr: [{ host: 'n1', port: 8848 }], namespace: 'public' })
  const three = settingsKey({ snapshotCluster: undefined, serverAddr: [{ host: 'n1', port: 8848 }, { host: 'n2', port: 8848 }, { host: 'n3', port: 8848 }], namespace: 'public' })
  t.equal(one, three, 'a node added to the list keeps the key')
  t.equal(settingsKey({ snapshotCluster: 'prod', serverAddr: [{ host: 'n9', port: 1 }], namespace: 'public' }), clusterKey('prod', 'public'), 'the cluster name given wins')
  t.match(clusterKey('../../etc', 'x/y'), /^[A-Za-z0-9._-]+$/, 'a file name, never a path')
  t.notMatch(clusterKey('..', '..'), /\//)
})
