// Recovery against a private Nacos that the test starts late: an app keeps serving while Nacos
// is away, and registers once Nacos answers; fail-fast fails start-up instead. A Nacos restarted
// while the app runs: test/outage/recovery.ts (in test/acceptance/outage.test.ts's shared outage).
import t from 'tap'
import Fastify from 'fastify'
import nacos from '../src/index.ts'
import { listInstances, uniqueService, waitFor } from './helpers/nacos-api.ts'
import { startNacos, stopNacos } from './helpers/private-nacos.ts'
import { freeNacosPort } from './helpers/ports.ts'
import { SUITE_TRANSPORT } from './helpers/transports.ts'

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
  await waitFor(() => app.nacos.status().state === 'registered', 2000)
})

t.test('fail-fast: start-up fails with a clear error when Nacos is unreachable', async (t) => {
  // A port no Nacos runs on (ours stays up: stopping it again would only cost time).
  const NONE = await freeNacosPort([PORT])
  const app = Fastify()
  await app.register(nacos, { ...base, serverAddr: `127.0.0.1:${NONE}`, serviceName: uniqueService('fail-fast'), failFast: true })
  // gRPC names the port it tried: the HTTP port + 1000.
  const tried = SUITE_TRANSPORT === 'grpc' ? NONE + 1000 : NONE
  await t.rejects(app.listen({ port: 0, host: '127.0.0.1' }), new RegExp(`Nacos is not usable at start-up \\(NACOS_FAIL_FAST=true\\): .*127\\.0\\.0\\.1:${tried}: .*ECONNREFUSED`))
  await app.close()
})
