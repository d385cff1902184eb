// `app.nacos` end to end on the real Nacos: one app finds another through discovery and calls it,
// preloaded configs are read before ready and follow changes, and app.close() ends all of it.
import t from 'tap'
import Fastify from 'fastify'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import nacos, { NoInstanceError } from '../src/index.ts'
import { NACOS_ADDR, listInstances, nacosRequest, publishConfig, readConfig, uniqueService, waitFor, waitForChange } from './helpers/nacos-api.ts'

const cacheDir = mkdtempSync(join(tmpdir(), 'nacos-decorator-'))
t.teardown(() => { rmSync(cacheDir, { recursive: true, force: true }) })
const base = { serverAddr: NACOS_ADDR, ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'warn' as const, snapshotDir: cacheDir }

async function publish (dataId: string, content: string): Promise<void> {
  await publishConfig(dataId, content)
  t.pass(`published ${dataId}`)
}

t.test('a service found with pick() answers through pickUrl(); round-robin alternates between two instances', async (t) => {
  const echo = uniqueService('echo')
  const servers = await Promise.all([1, 2].map(async (n) => {
    const app = Fastify()
    await app.register(nacos, { ...base, serviceName: echo, metadata: { n: String(n) } })
    app.get('/who', async () => ({ n }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    t.teardown(() => app.close())
    return app
  }))
  await waitFor(async () => (await listInstances(echo)).length === 2)

  const caller = Fastify()
  await caller.register(nacos, { ...base, serviceName: uniqueService('caller'), registerEnabled: false })
  t.teardown(() => caller.close())
  const found = await waitFor(async () => { const l = await caller.nacos.instances(echo, { healthyOnly: true }); return l.length === 2 ? l : undefined })
  t.same(found.map((i) => i.port).sort(), servers.map((s) => (s.server.address() as { port: number }).port).sort())

  const answers: number[] = []
  for (let i = 0; i < 4; i++) {
    const url = await caller.nacos.pickUrl(echo, { strategy: 'round-robin' })
    t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
    answers.push(((await (await fetch(`${url}/who`)).json()) as { n: number }).n)
  }
  t.same(new Set(answers), new Set([1, 2]), `answers: ${answers.join(',')}`)
  t.not(answers[0], answers[1], 'round-robin alternates')
  t.equal(caller.nacos.pickCached(echo)?.serviceName, echo)

  const seen: number[] = []
  const off = caller.nacos.subscribe(echo, (list) => { seen.push(list.length) })
  await servers[1]?.close()
  await waitFor(() => seen.at(-1) === 1, 8000)
  off()
  t.equal((await caller.nacos.pick(echo)).metadata.n, '1', 'only the remaining instance is picked')
})

t.test('pick() of a service nobody provides rejects with FST_NACOS_NO_INSTANCE (503)', async (t) => {
  const app = Fastify()
  await app.register(nacos, { ...base, registerEnabled: false })
  t.teardown(() => app.close())
  const err = await app.nacos.pick(uniqueService('nobody')).catch((e: unknown) => e)
  t.ok(err instanceof NoInstanceError)
  t.match(err, { code: 'FST_NACOS_NO_INSTANCE', statusCode: 503 })
})

t.test('configs are loaded before ready, typed by their schema, and kept current', async (t) => {
  const dataId = `${uniqueService('settings')}.yaml`
  await publish(dataId, 'greeting: hello\nlimit: 3\n')
  await waitFor(async () => (await readConfig(dataId) ?? '').includes('hello'))
  const Settings = Type.Object({ greeting: Type.String(), limit: Type.Integer({ default: 10 }) })
  const entry = { dataId, key: 'settings', schema: Settings }
  const app = Fastify()
  await app.register(nacos, { ...base, registerEnabled: false, configs: [entry] })
  t.teardown(() => app.close())
  await app.ready()
  t.same(app.nacos.configs.get('settings'), { greeting: 'hello', limit: 3 })
  t.same(app.nacos.configs.get(entry), { greeting: 'hello', limit: 3 }, 'read by its entry, the same value (typed by the schema)')

  const start = Date.now()
  await publish(dataId, 'greeting: bonjour\n')
  await waitForChange(() => app.nacos.configs.get(entry)?.greeting === 'bonjour', 10)
  t.comment(`config publish → app.nacos.configs updated: ${Date.now() - start} ms`)
  t.same(app.nacos.configs.get(entry), { greeting: 'bonjour', limit: 10 }, 'schema defaults applied to the new value')
  t.equal(await app.nacos.config.get(dataId, { schema: Settings }).then((v) => v?.greeting), 'bonjour')

  const seen: unknown[] = []
  const unwatch = app.nacos.config.watch(dataId, { schema: Settings }, (value) => { seen.push(value) })
  t.teardown(unwatch)
  await waitFor(() => seen.length > 0)
  await nacosRequest('/v1/cs/configs', { dataId, group: 'DEFAULT_GROUP' }, 'DELETE')
  await waitForChange(() => app.nacos.configs.has('settings') && app.nacos.configs.get(entry) === undefined, 10)
  t.equal(app.nacos.configs.get(entry), undefined, 'removed in Nacos: the map holds undefined under its key')
  await waitForChange(() => seen.at(-1) === undefined && seen.length > 1, 10)
  t.equal(seen.at(-1), undefined, 'and the watchers get undefined')
})

t.test('an invalid preloaded config fails start-up with a message naming it, and nothing stays open', async (t) => {
  const dataId = `${uniqueService('bad')}.json`
  await publish(dataId, '{"port": "eighty"}')
  await waitFor(async () => (await readConfig(dataId) ?? '').includes('eighty'))
  const app = Fastify()
  app.register(nacos, { ...base, registerEnabled: false, configs: [{ dataId, schema: Type.Object({ port: Type.Integer() }) }] })
  const err = await app.ready().then(() => undefined, (e: unknown) => e as Error & { code?: string })
  t.equal(err?.code, 'FST_NACOS_CONFIG_INVALID')
  t.match(err?.message, new RegExp(`Config ${dataId.replace(/\./g, '\\.')} \\(group DEFAULT_GROUP\\) is invalid at /port`))
  await app.close()
})

t.test('app.close() ends discovery and config watches: the app closes promptly and the decorator refuses afterwards', async (t) => {
  const app = Fastify()
  await app.register(nacos, { ...base, registerEnabled: false })
  const service = uniqueService('watched')
  const off = app.nacos.subscribe(service, () => {})
  const unwatch = app.nacos.config.watch(`${service}.json`, {}, () => {})
  await app.nacos.instances(service)
  const start = Date.now()
  await app.close()
  const took = Date.now() - start
  t.ok(took < 1000, `close took ${took} ms with a subscription and a config long poll open`)
  off()
  unwatch()
  await t.rejects(app.nacos.instances(service), /closed/)
})
