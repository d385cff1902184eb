// The registration lifecycle against the real Nacos: register once listening, heartbeat on our
// schedule, re-register when Nacos forgets us, deregister on close and on signals.
import t from 'tap'
import Fastify from 'fastify'
import nacos from '../src/index.ts'
import { NACOS_ADDR, hasV1Api, instanceCall, listInstances, now, uniqueService, waitFor, within } from './helpers/nacos-api.ts'
import { startApp } from './helpers/child.ts'
import { settledList } from './helpers/instances.ts'
import { SUITE_TRANSPORT, TRANSPORTS } from './helpers/transports.ts'
import { promisify } from 'node:util'

const base = { serverAddr: NACOS_ADDR, ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'warn' as const }

// The tests that name the HTTP transport need the v1 HTTP API (Nacos 3 may have it off; 3.2 has none).
const NO_V1 = !await hasV1Api() && 'the server has no v1 HTTP API (Nacos 3 with it off): the HTTP transport cannot run there'

t.test('registers once listening, with ip, port and metadata visible in Nacos', async (t) => {
  const serviceName = uniqueService('lifecycle')
  const app = Fastify()
  await app.register(nacos, { ...base, serviceName, metadata: { zone: 'z1' }, weight: 3 })
  t.teardown(() => app.close())
  t.equal(app.nacos.status().state, 'idle')
  const listenedAt = now()
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  const [host] = await waitFor(async () => { const l = await listInstances(serviceName); return l.length ? l : undefined }, 5000, 5)
  t.comment(`listen() → visible in Nacos: ${now() - listenedAt} ms`)
  t.match(host, { ip: '127.0.0.1', port, weight: 3, healthy: true, ephemeral: true })
  t.match(host?.metadata, {
    zone: 'z1',
    'preserved.heart.beat.interval': '5000',
    'preserved.heart.beat.timeout': '10000',
    'preserved.ip.delete.timeout': '10000',
    'fastify-nacos.version': /^fastify-nacos@/,
    'node.version': process.version
  })
  // Nacos may list the instance a moment before its answer to the registration arrives.
  await waitFor(() => app.nacos.status().state === 'registered', 2000, 5)
  t.equal(app.nacos.status().instance?.port, port)
})

t.test('an app that is only inject()ed never registers', async (t) => {
  const serviceName = uniqueService('inject-only')
  const app = Fastify()
  await app.register(nacos, { ...base, serviceName })
  app.get('/', async () => 'ok')
  t.equal((await app.inject('/')).body, 'ok')
  // Registration starts when the server listens: after ready() and a request, nothing has begun.
  t.equal(app.nacos.status().state, 'idle')
  t.same(await listInstances(serviceName), [])
  await t.rejects(app.nacos.register(), { code: 'FST_NACOS_NOT_LISTENING' })
  await app.close()
})

t.test('HTTP: heartbeats on our schedule keep an instance alive past a short deregister time', { skip: NO_V1 }, async (t) => {
  // The SDK's own beat loop would first beat after ~10 s, long after Nacos expired us (3 s).
  const serviceName = uniqueService('beats')
  const app = Fastify()
  await app.register(nacos, { ...base, transport: 'http', serviceName, heartbeatInterval: 0.5, deregisterTime: 2 })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  await waitFor(async () => (await listInstances(serviceName)).length === 1)
  // Ten beats, 0.5 s apart: 5 s since the registration, 2.5× the deregister time, and at least
  // one of Nacos's expiry checks (every 5 s).
  await waitFor(() => app.nacos.status().counts.beats >= 10, 15_000)
  const hosts = await listInstances(serviceName)
  t.equal(hosts.length, 1, 'still registered after 2.5× the deregister time')
  t.equal(hosts[0]?.healthy, true)
  t.ok(app.nacos.status().counts.beats >= 6, `beats sent: ${app.nacos.status().counts.beats}`)
})

t.test('HTTP: re-registers, metadata and all, when Nacos forgets the instance (beat answered 20404)', { skip: NO_V1 }, async (t) => {
  const serviceName = uniqueService('forgotten')
  const app = Fastify()
  await app.register(nacos, { ...base, transport: 'http', serviceName, heartbeatInterval: 0.5, deregisterTime: 5, metadata: { keep: 'me' } })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  await waitFor(async () => (await listInstances(serviceName)).length === 1)
  await instanceCall('DELETE', { serviceName, ip: '127.0.0.1', port: String(port), ephemeral: 'true' })
  const removedAt = now()
  await waitFor(() => app.nacos.status().counts.reRegistrations >= 1, 3000, 5)
  t.comment(`removed behind our back → registered again: ${now() - removedAt} ms (heartbeat 0.5 s)`)
  // Nacos publishes both changes after a delay; once they are published, listed again with its metadata.
  const [host, ...more] = await settledList(serviceName)
  t.equal(more.length, 0, 'listed once')
  t.equal(host?.port, port)
  t.equal(host?.metadata.keep, 'me')
  t.ok(app.nacos.status().counts.reRegistrations >= 1)
})

t.test('register() and deregister() are idempotent and safe to call concurrently', async (t) => {
  const serviceName = uniqueService('idempotent')
  const app = Fastify()
  await app.register(nacos, { ...base, serviceName })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  await waitFor(async () => (await listInstances(serviceName)).length === 1)
  const downs = await Promise.all(Array.from({ length: 20 }, async () => await app.nacos.deregister()))
  t.ok(downs.every((s) => s.state === 'deregistered'))
  t.equal(downs[0]?.counts.deregistrations, 1, 'twenty calls, one deregistration')
  // Nacos applies instance changes to its list after a short delay (~0.5 s): poll.
  await waitFor(async () => (await listInstances(serviceName)).length === 0)
  const ups = await Promise.all(Array.from({ length: 20 }, async () => await app.nacos.register()))
  t.ok(ups.every((s) => s.state === 'registered'))
  t.equal(ups[0]?.counts.registrations, 2, 'twenty calls, one more registration')
  await waitFor(async () => (await listInstances(serviceName)).length === 1)
  const mixed = await Promise.all(Array.from({ length: 30 }, async (_, i) => await (i % 2 === 0 ? app.nacos.deregister() : app.nacos.register())))
  t.equal(mixed.length, 30)
  const last = await app.nacos.deregister()
  t.equal(last.state, 'deregistered')
  t.same(await settledList(serviceName), [], 'final state in Nacos matches the last call')
})

t.test('app.close() deregisters before connections drain, then a drain delay applies', async (t) => {
  // Nacos needs ~0.5 s to publish a change; a 1.5 s drain delay outlasts that, so Nacos reports
  // the instance gone while the server still takes connections.
  const serviceName = uniqueService('drain')
  const app = Fastify()
  await app.register(nacos, { ...base, serviceName, drainDelay: 1.5 })
  await app.listen({ port: 0, host: '127.0.0.1' })
  await waitFor(async () => (await listInstances(serviceName)).length === 1)
  let goneBeforeServerClosed = false
  app.server.on('close', () => { goneBeforeServerClosed = true })
  const started = now()
  const closing = app.close()
  await waitFor(async () => (await listInstances(serviceName)).length === 0, 1400, 10)
  t.equal(goneBeforeServerClosed, false, 'gone from Nacos while the server still accepts connections')
  await closing
  t.ok(now() - started >= 1400, 'the drain delay held the close back')
})

// Nacos checks a persistent instance over TCP and keeps each check's connection open until the
// next check; after the deregistration no next check comes. Node's server.close() waits for a
// connection that never sent a request, so the app's close waited until close-with-grace gave up
// (10 s, exit code 1, every time on both transports) before the plugin closed such connections.
t.test('a persistent instance closes at once although Nacos\'s TCP health check holds a connection to it', { jobs: TRANSPORTS.length }, async (t) => {
  for (const transport of TRANSPORTS) {
    t.test(transport, { skip: transport === 'http' && NO_V1 }, async (t) => {
      const serviceName = uniqueService('persistent')
      const app = Fastify()
      await app.register(nacos, { ...base, transport, serviceName, ephemeral: false })
      t.teardown(() => app.close())
      await app.listen({ port: 0, host: '127.0.0.1' })
      const connections = promisify(app.server.getConnections.bind(app.server))
      await waitFor(async () => await connections() > 0, 15_000, 50)
      const started = now()
      const closed = await within(app.close().then(() => true), 3000, false)
      t.ok(closed, `app.close() returned (${now() - started} ms) with Nacos's health-check connection open`)
      t.ok(await waitFor(async () => (await listInstances(serviceName)).length === 0, 5000), 'and deregistered')
    })
  }
})

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`${signal}: deregistered within 1 s, process exits 0 within 2 s`, async (t) => {
    const serviceName = uniqueService(signal.toLowerCase())
    const child = await startApp({ NACOS_SERVER_ADDR: NACOS_ADDR, NACOS_SERVICE_NAME: serviceName })
    t.teardown(() => { child.proc.kill('SIGKILL') })
    await waitFor(async () => (await listInstances(serviceName)).length === 1)
    const sentAt = now()
    child.proc.kill(signal)
    await waitFor(async () => (await listInstances(serviceName)).length === 0, 3000, 5)
    const goneMs = now() - sentAt
    const { code, at } = await child.exited
    t.comment(`${signal} → gone from Nacos ${goneMs} ms, → exited ${at - sentAt} ms`)
    t.equal(code, 0, child.output())
    t.ok(goneMs < 1000, `gone within 1 s (${goneMs} ms)`)
    t.ok(at - sentAt < 2000, `exited within 2 s (${at - sentAt} ms)`)
  })
}

t.test('after app.close() nothing keeps the event loop alive: the process exits on its own', async (t) => {
  const serviceName = uniqueService('exit')
  const child = await startApp({ NACOS_SERVER_ADDR: NACOS_ADDR, NACOS_SERVICE_NAME: serviceName, CLOSE_AFTER_LISTEN: '1' })
  const startedAt = now()
  const { code, at } = await child.exited
  t.comment(`close → exit: ${at - startedAt} ms`)
  t.equal(code, 0)
  // What is measured is whether anything holds the process: the SDK's beat loop would for 10 s. Half
  // of that tells the two apart however slow the machine (a 1.5 s bound failed at 1.73 s, load 19).
  t.ok(at - startedAt < 5000, `exited within 5 s (${at - startedAt} ms); the SDK's beat loop would hold it 10 s`)
})

if (SUITE_TRANSPORT === 'http') {
  t.test('HTTP, SIGKILL: Nacos marks the instance unhealthy, then removes it, within the configured times', async (t) => {
    const serviceName = uniqueService('sigkill')
    const child = await startApp({
      NACOS_SERVER_ADDR: NACOS_ADDR, NACOS_SERVICE_NAME: serviceName, NACOS_HEARTBEAT_INTERVAL: '1', NACOS_DEREGISTER_TIME: '3'
    })
    await waitFor(async () => (await listInstances(serviceName)).length === 1)
    const killedAt = now()
    child.proc.kill('SIGKILL')
    await waitFor(async () => (await listInstances(serviceName))[0]?.healthy === false || (await listInstances(serviceName)).length === 0, 10_000, 50)
    const unhealthyMs = now() - killedAt
    await waitFor(async () => (await listInstances(serviceName)).length === 0, 15_000, 50)
    const goneMs = now() - killedAt
    t.comment(`SIGKILL → unhealthy ${unhealthyMs} ms, → removed ${goneMs} ms (timeout 3 s; Nacos checks every 5 s)`)
    // Nacos's expiry checker runs every 5 s, so its verdict may lag the configured time by up to 5 s.
    t.ok(unhealthyMs <= 3000 + 5500, `unhealthy within timeout + one check period (${unhealthyMs} ms)`)
    t.ok(goneMs <= 3000 + 5500, `removed within delete timeout + one check period (${goneMs} ms)`)
  })
} else {
  t.test('gRPC, SIGKILL: the instance leaves Nacos with its connection, within 3 s', async (t) => {
    const serviceName = uniqueService('sigkill')
    const child = await startApp({ NACOS_SERVER_ADDR: NACOS_ADDR, NACOS_SERVICE_NAME: serviceName })
    await waitFor(async () => (await listInstances(serviceName)).length === 1)
    const killedAt = now()
    child.proc.kill('SIGKILL')
    await waitFor(async () => (await listInstances(serviceName)).length === 0, 10_000, 20)
    const goneMs = now() - killedAt
    t.comment(`SIGKILL → removed ${goneMs} ms (default settings; no heartbeat timeout involved)`)
    t.ok(goneMs <= 3000, `removed within 3 s (${goneMs} ms)`)
  })
}
