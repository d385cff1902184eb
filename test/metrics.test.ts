// Prometheus metrics against the real Nacos, on both transports: each metric moves when its event
// happens (a registration, a lookup, a push, a config change, an attempt, a retry, an ejection, a
// failure), the route serves them, /watches lists what the app follows, and they leave the registry when the last app sharing it closes.
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { createServer, type Server } from 'node:http'
import { Registry } from 'prom-client'
import nacos, { type MonitoringWatches, type NacosPluginOptions } from '../src/index.ts'
import { NACOS_ADDR, publishConfig, uniqueService, waitFor, waitForChange } from './helpers/nacos-api.ts'
import { register } from './helpers/instances.ts'
import { TRANSPORTS, type TransportName } from './helpers/transports.ts'
import { metricValue as value } from './helpers/metrics.ts'

type Test = { teardown: (fn: () => unknown) => void }
const TOKEN = 'metrics-test-token-0123456789'

async function app (t: Test, transport: TransportName, registry: Registry, options: NacosPluginOptions = {}): Promise<FastifyInstance> {
  const a = Fastify()
  await a.register(nacos, {
    serverAddr: NACOS_ADDR, transport, handleSignals: false, dotenv: false, heartbeatInterval: 1, discoveryRefreshInterval: 60_000,
    metrics: { registry }, monitoring: { token: TOKEN, protectReads: true }, ...options
  })
  t.teardown(async () => { await a.close() })
  return a
}

async function answering (t: Test, status: number): Promise<number> {
  const server: Server = createServer((_req, res) => { res.statusCode = status; res.end('x') })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { await new Promise((resolve) => server.close(resolve)) })
  return (server.address() as { port: number }).port
}

for (const transport of TRANSPORTS) {
  t.test(`${transport}: registration, requests, lookups, pushes and config changes move their metrics`, async (t) => {
    const registry = new Registry()
    const a = await app(t, transport, registry, { serviceName: uniqueService('metrics-self') })
    await a.listen({ port: 0, host: '127.0.0.1' })
    await waitFor(async () => (await value(registry, 'nacos_client_registration_state', { state: 'registered' })) === 1)
    t.ok(await value(registry, 'nacos_client_request', { module: 'naming', method: 'register', code: '200' }) >= 1, 'the registration is a request, in ms')
    if (transport === 'grpc') t.equal(await value(registry, 'nacos_client_connection_up'), 1, 'the gRPC connection is up')

    const other = uniqueService('metrics-other')
    const port = await answering(t, 200)
    await register(other, { port })
    await waitFor(async () => (await a.nacos.instances(other)).length === 1)
    t.equal(await value(registry, 'nacos_monitor', { module: 'naming', name: 'serviceInfoMapSize' }), 1, 'one service cached (Java name)')
    t.equal(await value(registry, 'nacos_client_naming_service_instances', { service: other }), 1)
    const pushes = await value(registry, 'nacos_client_naming_push_received_total')
    await register(other, { port: await answering(t, 200) })
    await waitFor(async () => (await value(registry, 'nacos_client_naming_service_instances', { service: other })) === 2)
    t.ok(await value(registry, 'nacos_client_naming_push_received_total') > pushes, 'the change came as a push')
    t.ok(await value(registry, 'nacos_client_naming_push_delay_ms') > 0, 'its delay is observed')

    const dataId = uniqueService('metrics-config')
    await publishConfig(dataId, 'a=1')
    const seen: unknown[] = []
    a.nacos.config.watch(dataId, {}, (v) => { seen.push(v) })
    t.equal(await value(registry, 'nacos_monitor', { module: 'config', name: 'listenConfigCount' }), 1, 'one config listener (Java name)')
    await waitFor(() => seen.length > 0)
    await publishConfig(dataId, 'a=2')
    // The watcher has the change: every delivery the metric and the route count has happened.
    await waitForChange(() => seen.some((v) => /a\W*2/.test(JSON.stringify(v))))
    const changes = await value(registry, 'nacos_client_config_changes_total')
    t.ok(changes >= 1, `config changes counted (${changes})`)

    const scrape = await a.inject({ url: '/monitoring/nacos/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
    t.equal(scrape.statusCode, 200)
    t.match(scrape.headers['content-type'], /^text\/plain/)
    t.match(scrape.body, /nacos_client_request_bucket\{le="1",module="naming",method="register"/)
    t.equal((await a.inject('/monitoring/nacos/metrics')).statusCode, 401, 'protected like the other read routes')

    const watched = await a.inject({ url: '/monitoring/nacos/watches', headers: { authorization: `Bearer ${TOKEN}` } })
    t.equal(watched.statusCode, 200)
    const body = watched.json() as MonitoringWatches
    t.match(body.services.find((w) => w.service === other), { group: 'DEFAULT_GROUP', instances: 2, lastRefTime: /^\d{4}-/ }, 'the followed service, its count and last change')
    t.match(body.configs, [{ dataId, group: 'DEFAULT_GROUP', listeners: 1, changes, lastChangeAt: /^\d{4}-/ }], 'the watched config')
    t.match(body.history[0], { dataId, group: 'DEFAULT_GROUP' }, 'its change, newest first')
    t.notMatch(watched.body, /a=2|a=1/, 'no config content')
    t.equal((await a.inject('/monitoring/nacos/watches')).statusCode, 401)
  })

  t.test(`${transport}: calls by name count attempts, retries, ejections and failures by service`, async (t) => {
    const registry = new Registry()
    const a = await app(t, transport, registry, { registerEnabled: false, serviceName: 'metrics-caller', fetch: { ejection: { failures: 1, baseMs: 60_000, maxMs: 60_000 } } })
    await a.ready()
    const mixed = uniqueService('metrics-mixed')
    await register(mixed, { port: await answering(t, 503) })
    await register(mixed, { port: await answering(t, 200) })
    await waitFor(async () => (await a.nacos.instances(mixed)).length === 2)
    // Weighted-random picks the failing one sooner or later: its 503 is retried on the other and ejects it.
    await waitFor(async () => {
      const res = await a.nacos.fetch(`http://${mixed}/`)
      t.equal(res.status, 200)
      await res.arrayBuffer()
      return (await value(registry, 'nacos_client_call_retries_total', { service: mixed })) > 0
    })
    t.equal(await value(registry, 'nacos_client_call_ejections_total', { service: mixed }), 1)
    t.equal(await value(registry, 'nacos_client_call_attempts_total', { service: mixed, outcome: 'failed' }), 1)
    t.ok(await value(registry, 'nacos_client_call_attempts_total', { service: mixed, outcome: 'ok' }) >= 1)
    t.equal(await value(registry, 'nacos_client_call_failures_total', { service: mixed }), 0, 'every call got its answer')

    const failing = uniqueService('metrics-failing')
    await register(failing, { port: await answering(t, 503) })
    await waitFor(async () => (await a.nacos.instances(failing)).length === 1)
    const res = await a.nacos.fetch(`http://${failing}/`, { nacos: { attempts: 1 } })
    t.equal(res.status, 503)
    await res.arrayBuffer()
    t.equal(await value(registry, 'nacos_client_call_failures_total', { service: failing }), 1)
  })
}

t.test('two apps sharing a registry add up, and the metrics leave it when the last one closes', async (t) => {
  const registry = new Registry()
  const transport = TRANSPORTS[0] as TransportName
  const first = await app(t, transport, registry, { serviceName: uniqueService('metrics-a') })
  const second = await app(t, transport, registry, { serviceName: uniqueService('metrics-b') })
  await first.listen({ port: 0, host: '127.0.0.1' })
  await second.listen({ port: 0, host: '127.0.0.1' })
  await waitFor(async () => (await value(registry, 'nacos_client_registration_state', { state: 'registered' })) === 2)
  await first.close()
  t.equal(await value(registry, 'nacos_client_registration_state', { state: 'registered' }), 1, 'the closed app no longer counts')
  await second.close()
  t.equal(registry.getSingleMetric('nacos_monitor'), undefined)
  t.equal(await registry.metrics(), '\n', 'nothing left in the registry')
})

t.test('metrics off: no route, nothing in the default registry', async (t) => {
  const { register: defaultRegistry } = await import('prom-client')
  const a = Fastify()
  await a.register(nacos, { serverAddr: NACOS_ADDR, registerEnabled: false, serviceName: 'metrics-off', handleSignals: false, dotenv: false })
  t.teardown(async () => { await a.close() })
  t.equal((await a.inject('/monitoring/nacos/metrics')).statusCode, 404)
  t.equal(defaultRegistry.getSingleMetric('nacos_monitor'), undefined)
})
