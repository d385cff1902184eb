// An auth token invalidated by a server restart, against a real auth-enabled Nacos that the test
// stops and starts: the HTTP transport logs in again and registers its instance again. (The
// token lifetime crossed with requests going on: test/token-expiry.test.ts.)
import t from 'tap'
import Fastify from 'fastify'
import nacos from '../src/index.ts'
import { loginPath, uniqueService, waitFor } from './helpers/nacos-api.ts'
import { startNacos, stopNacos } from './helpers/private-nacos.ts'
import { freeNacosPort } from './helpers/ports.ts'
import { TRANSPORTS } from './helpers/transports.ts'
import { spyFetch } from './helpers/spy-fetch.ts'

// The default (long) token lifetime: only the restart (a new token key) can invalidate the token.
const port = await freeNacosPort()
const base = { ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'silent' as const, username: 'nacos', password: 'nacos' }
t.teardown(async () => { await stopNacos(port) })

// Where the plugin logs in on this server (v3 on 3.x, v1 on 2.x): asked before the spy starts,
// since asking is itself a request to the server.
let login = ''
t.before(async () => {
  await startNacos(port, { auth: true })
  login = await loginPath(`127.0.0.1:${port}`)
})

// Over gRPC a restart drops the connection; test/grpc-transport.test.ts proves the new login and
// the redone registration on an auth server.
t.test('HTTP: a server restart that invalidates the token leads to a fresh login, and the instance is registered again', { skip: !TRANSPORTS.includes('http') && 'HTTP is not among NACOS_TRANSPORTS' }, async (t) => {
  const calls = spyFetch(t, port)
  const serviceName = uniqueService('token-restart')
  const app = Fastify()
  await app.register(nacos, { ...base, serverAddr: `127.0.0.1:${port}`, transport: 'http', serviceName, heartbeatInterval: 0.5, deregisterTime: 3 })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  await waitFor(() => app.nacos.status().state === 'registered', 10_000)
  const loginsBefore = calls.filter((c) => c.url.endsWith(login)).length
  const tokenBefore = calls.filter((c) => c.token !== undefined).at(-1)?.token
  t.ok(tokenBefore, 'requests carry a token before the restart')

  await stopNacos(port)
  const stopped = Date.now()
  await startNacos(port, { auth: true })
  const ready = Date.now()
  await waitFor(() => app.nacos.status().counts.reRegistrations >= 1 && app.nacos.status().state === 'registered', 15_000, 50)
  const after = calls.filter((c) => c.at >= stopped)
  const rejected = after.filter((c) => c.status === 403 && c.token === tokenBefore)
  const logins = calls.filter((c) => c.url.endsWith(login))
  t.comment(`registered again ${Date.now() - ready} ms after the restarted server was ready; ${rejected.length} request(s) refused with the old token, then ${logins.length - loginsBefore} login(s)`)
  t.ok(rejected.length >= 1, 'the old token was refused by the restarted server')
  t.ok(logins.length > loginsBefore, 'logged in again')
  t.not(calls.at(-1)?.token, tokenBefore, 'requests now carry a new token')
  t.equal(await app.nacos.config.get(`${serviceName}-absent.json`), undefined, 'config reads work with the new token')
})
