// Nacos 3 fuzzy watch through app.nacos.fuzzyWatch and app.nacos.config.fuzzyWatch, against the
// real server: the initial sync lists what already matches, later registrations and publishes
// reach the listener, removals too, and a cancelled watch hears nothing more. On a 2.x server and
// on the http transport it fails at once with FST_NACOS_FUZZY_WATCH_UNSUPPORTED.
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import nacos, { type FuzzyConfigEvent, type FuzzyServiceEvent } from '../src/index.ts'
import { NACOS_ADDR, isNacos3, publishConfig, uniqueService, waitFor } from './helpers/nacos-api.ts'
import { instance, transport } from './helpers/grpc.ts'

async function app (t: { teardown: (fn: () => Promise<void>) => void }, transportName: 'grpc' | 'http' = 'grpc', serviceName = 'fuzzy-watcher'): Promise<FastifyInstance> {
  const a = Fastify()
  await a.register(nacos, { transport: transportName, serverAddr: NACOS_ADDR, serviceName, ip: '127.0.0.1', dotenv: false, handleSignals: false, monitoring: false })
  await a.ready()
  t.teardown(async () => { await a.close() })
  return a
}

const has = <E extends { change: string }>(events: E[], change: string, match: (e: E) => boolean) => (): boolean => events.some((e) => e.change === change && match(e))

const nacos3 = await isNacos3()

t.test('the http transport: FST_NACOS_FUZZY_WATCH_UNSUPPORTED at once, for services and configs', async (t) => {
  const a = await app(t, 'http')
  await t.rejects(a.nacos.fuzzyWatch({ service: 'orders-*' }, () => {}), { code: 'FST_NACOS_FUZZY_WATCH_UNSUPPORTED', message: /Nacos 3\.x.*NACOS_TRANSPORT=grpc/ })
  await t.rejects(a.nacos.config.fuzzyWatch({ dataId: 'app-*' }, () => {}), { code: 'FST_NACOS_FUZZY_WATCH_UNSUPPORTED' })
})

t.test('a pattern Nacos cannot match: FST_NACOS_FUZZY_PATTERN before anything is sent', async (t) => {
  const a = await app(t)
  await t.rejects(a.nacos.fuzzyWatch({ service: 'a*b' }, () => {}), { code: 'FST_NACOS_FUZZY_PATTERN', message: /'\*' inside/ })
  await t.rejects(a.nacos.config.fuzzyWatch({ dataId: ' ' }, () => {}), { code: 'FST_NACOS_FUZZY_PATTERN', message: /empty/ })
})

t.test('Nacos 2.x over gRPC: FST_NACOS_FUZZY_WATCH_UNSUPPORTED, saying it needs Nacos 3', { skip: nacos3 && `NACOS_SERVER_ADDR (${NACOS_ADDR}) is a Nacos 3 (npm test's 2.x server runs this)` }, async (t) => {
  const a = await app(t)
  await t.rejects(a.nacos.fuzzyWatch({ service: 'orders-*' }, () => {}), { code: 'FST_NACOS_FUZZY_WATCH_UNSUPPORTED', message: /Nacos 3/ })
  await t.rejects(a.nacos.config.fuzzyWatch({ dataId: 'app-*' }, () => {}), { code: 'FST_NACOS_FUZZY_WATCH_UNSUPPORTED', message: /Nacos 3/ })
})

const skip3 = !nacos3 && `NACOS_SERVER_ADDR (${NACOS_ADDR}) is not a Nacos 3 (npm run test:nacos3 runs one)`

t.test('services: the initial sync lists what matches, registrations and removals follow, cancel stops them', { skip: skip3 }, async (t) => {
  const prefix = uniqueService('fuzzy')
  const other = transport(t)
  const first = instance(`${prefix}-a`, 7001)
  await other.naming.register(first)
  const a = await app(t)
  const events: FuzzyServiceEvent[] = []
  const watch = await a.nacos.fuzzyWatch({ service: `${prefix}-*` }, (e) => { events.push(e) })
  await waitFor(has(events, 'added', (e) => e.service === `${prefix}-a` && e.group === 'DEFAULT_GROUP'))
  const second = instance(`${prefix}-b`, 7002)
  await other.naming.register(second)
  await waitFor(has(events, 'added', (e) => e.service === `${prefix}-b`))
  await other.naming.deregister(first)
  await waitFor(has(events, 'removed', (e) => e.service === `${prefix}-a`), 90_000)
  t.notOk(events.some((e) => !e.service.startsWith(`${prefix}-`)), 'only matching services are told')

  // A second watch sees the next service; the cancelled one, by then, hears nothing of it.
  await watch.cancel()
  const later: FuzzyServiceEvent[] = []
  const still = await a.nacos.fuzzyWatch({ service: `*${prefix.slice(1)}-c` }, (e) => { later.push(e) })
  t.teardown(async () => { await still.cancel() })
  const seenBefore = events.length
  await other.naming.register(instance(`${prefix}-c`, 7003))
  await waitFor(has(later, 'added', (e) => e.service === `${prefix}-c`))
  t.equal(events.length, seenBefore, 'nothing after cancel')
})

t.test('configs: the initial sync lists what matches, new configs and removals follow, cancel stops them', { skip: skip3 }, async (t) => {
  const prefix = uniqueService('fuzzycfg')
  await publishConfig(`${prefix}-a.json`, '{"a":1}')
  const a = await app(t)
  const events: FuzzyConfigEvent[] = []
  const watch = await a.nacos.config.fuzzyWatch({ dataId: `${prefix}-*` }, (e) => { events.push(e) })
  await waitFor(has(events, 'added', (e) => e.dataId === `${prefix}-a.json` && e.group === 'DEFAULT_GROUP'))
  await a.nacos.config.publish(`${prefix}-b.json`, { b: 1 })
  await waitFor(has(events, 'added', (e) => e.dataId === `${prefix}-b.json`))
  await a.nacos.config.remove(`${prefix}-b.json`)
  await waitFor(has(events, 'removed', (e) => e.dataId === `${prefix}-b.json`))

  await watch.cancel()
  const later: FuzzyConfigEvent[] = []
  const still = await a.nacos.config.fuzzyWatch({ dataId: `${prefix}-c*` }, (e) => { later.push(e) })
  t.teardown(async () => { await still.cancel() })
  const seenBefore = events.length
  await a.nacos.config.publish(`${prefix}-c.json`, { c: 1 })
  await waitFor(has(later, 'added', (e) => e.dataId === `${prefix}-c.json`))
  t.equal(events.length, seenBefore, 'nothing after cancel')
})

/** The gRPC connections the server holds for an application (Nacos 3's admin API). */
async function connectionsOf (appName: string): Promise<string[]> {
  const res = await fetch(`http://${NACOS_ADDR}/nacos/v3/admin/core/loader/current`)
  const all = (await res.json() as { data: Record<string, { metaInfo: { connectionId: string, appName: string } }> }).data
  return Object.values(all).filter((c) => c.metaInfo.appName === appName).map((c) => c.metaInfo.connectionId)
}

t.test('after the server resets the connection, the watch is redone: later changes arrive, what was known is not told again', { skip: skip3 }, async (t) => {
  const prefix = uniqueService('fuzzyredo')
  const appName = uniqueService('fuzzy-redo-app')
  const other = transport(t)
  const first = instance(`${prefix}-a`, 7011)
  await other.naming.register(first)
  const a = await app(t, 'grpc', appName)
  const events: FuzzyServiceEvent[] = []
  const watch = await a.nacos.fuzzyWatch({ service: `${prefix}-*` }, (e) => { events.push(e) })
  t.teardown(async () => { await watch.cancel() })
  await waitFor(has(events, 'added', (e) => e.service === `${prefix}-a`))
  const [before] = await waitFor(async () => { const ids = await connectionsOf(appName); return ids.length === 1 ? ids : undefined })

  const res = await fetch(`http://${NACOS_ADDR}/nacos/v3/admin/core/loader/reloadClient?connectionId=${encodeURIComponent(before as string)}`, { method: 'POST' })
  t.equal(res.status, 200, 'the server was asked to reset our connection')
  await waitFor(async () => { const ids = await connectionsOf(appName); return ids.length === 1 && ids[0] !== before })

  await other.naming.register(instance(`${prefix}-b`, 7012))
  await waitFor(has(events, 'added', (e) => e.service === `${prefix}-b`))
  await other.naming.deregister(first)
  await waitFor(has(events, 'removed', (e) => e.service === `${prefix}-a`), 90_000)
  t.equal(events.filter((e) => e.service === `${prefix}-a` && e.change === 'added').length, 1, 'the redo told only the difference')
})
