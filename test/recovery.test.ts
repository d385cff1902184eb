// Recovery against a private Nacos that the test stops and starts: an app keeps serving while
// Nacos is away, and is registered again once Nacos is back.
import t from 'tap'
import Fastify from 'fastify'
import nacos from '../src/index.ts'
import { listInstances, uniqueService, waitFor } from './helpers/nacos-api.ts'
import { startNacos, stopNacos } from './helpers/private-nacos.ts'
import { freeNacosPort } from './helpers/ports.ts'

const PORT = await freeNacosPort()
const addr = `127.0.0.1:${PORT}`
const base = { serverAddr: addr, ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'silent' as const }

t.before(async () => { await stopNacos(PORT) })
t.teardown(async () => { await stopNacos(PORT) })

t.test('Nacos down at start-up: the app serves, and registers once Nacos answers', async (t) => {
  const serviceName = uniqueService('late-nacos')
  const app = Fastify()
  await app.register(nacos, { ...base, serviceName })
  app.get('/ping', async () => 'pong')
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  const res = await fetch(`http://127.0.0.1:${port}/ping`)
  t.equal(await res.text(), 'pong', 'serves while Nacos is down')
  await waitFor(() => app.nacos.status().state === 'retrying', 5000)
  t.match(app.nacos.status().lastError, /ECONNREFUSED|fetch failed/)
  const upAt = Date.now()
  await startNacos(PORT)
  const readyAfter = Date.now() - upAt
  await waitFor(async () => (await listInstances(serviceName, { addr })).length === 1, 15_000, 50)
  t.comment(`Nacos ready ${readyAfter} ms after start; registered ${Date.now() - upAt} ms after start (backoff ≤ 10 s)`)
  t.equal(app.nacos.status().state, 'registered')
})

t.test('fail-fast: start-up fails with a clear error when Nacos is unreachable', async (t) => {
  await stopNacos(PORT)
  const app = Fastify()
  await app.register(nacos, { ...base, serviceName: uniqueService('fail-fast'), failFast: true })
  await t.rejects(app.listen({ port: 0, host: '127.0.0.1' }), new RegExp(`Nacos is not usable at start-up \\(NACOS_FAIL_FAST=true\\): 127\\.0\\.0\\.1:${PORT}: .*ECONNREFUSED`))
  await app.close()
})

t.test('Nacos restarted while the app runs: registered again within two heartbeat intervals', async (t) => {
  await startNacos(PORT)
  const serviceName = uniqueService('restart')
  const app = Fastify()
  await app.register(nacos, { ...base, serviceName, heartbeatInterval: 1, deregisterTime: 3, metadata: { survived: 'yes' } })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  await waitFor(async () => (await listInstances(serviceName, { addr })).length === 1, 5000)
  await stopNacos(PORT)
  await waitFor(() => app.nacos.status().state === 'retrying', 5000)
  await startNacos(PORT)
  const upAt = Date.now()
  const [host] = await waitFor(async () => { const l = await listInstances(serviceName, { addr }); return l.length ? l : undefined }, 10_000, 20)
  const ms = Date.now() - upAt
  t.comment(`Nacos ready → re-registered and listed: ${ms} ms (heartbeat 1 s)`)
  t.ok(ms < 2000 + 600, `within two heartbeat intervals plus Nacos's publish delay (${ms} ms)`)
  t.equal(host?.metadata.survived, 'yes', 'with its metadata')
  t.equal(app.nacos.status().state, 'registered')
  t.ok(app.nacos.status().counts.failedBeats >= 1)
})
