// A private auth-enabled Nacos, restarted (a new token key invalidates every token):
// - the native gRPC transport: credentials work, none or wrong ones fail clearly, and after the
//   restart it reconnects, logs in again and redoes its registration; its watch and its config
//   follow;
// - an app on the HTTP transport, through the same restart: the old token is refused, it logs in
//   again and registers its instance again.
// (Token lifetimes crossed with requests going on: test/auth-token-expiry.test.ts.)
import t from 'tap'
import Fastify from 'fastify'
import nacos from '../src/index.ts'
import { listInstances, loginPath, tokenFor, uniqueService, waitFor, type NacosHost } from './helpers/nacos-api.ts'
import { startNacos, stopNacos } from './helpers/private-nacos.ts'
import { freeNacosPort } from './helpers/ports.ts'
import { GROUP, byPort, instance, recordConfig, recordWatch, transport } from './helpers/grpc.ts'
import { spyFetch } from './helpers/spy-fetch.ts'
import { TRANSPORTS } from './helpers/transports.ts'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

/** The instances Nacos lists, asked with a token (the server has auth on). */
async function listAuthed (addr: string, service: string): Promise<NacosHost[]> {
  return await listInstances(service, { addr, token: await tokenFor(addr) })
}

t.test('private auth-enabled server: credentials work, none or wrong ones fail clearly; restarted: gRPC reconnects, redoes, pushes again; HTTP logs in again and registers again', { timeout: 300_000 }, async (t) => {
  const port = await freeNacosPort()
  const addr = await startNacos(port, { auth: true })
  t.teardown(async () => { await stopNacos(port) })
  // Where the plugin logs in on this server (v3 on 3.x, v1 on 2.x): asked before the spy starts,
  // since asking is itself a request to the server.
  const login = await loginPath(addr)

  const service = uniqueService('grpc-auth')
  const tr = transport(t, { serverAddr: [addr], username: 'nacos', password: 'nacos', reconnectMaxMs: 2000 })
  const inst = instance(service, 18_041, { metadata: { auth: 'on' } })
  await tr.naming.register(inst)
  await waitFor(async () => (await listAuthed(addr, service)).length === 1, 5000)
  const dataId = uniqueService('grpc-auth-cfg')
  await tr.config.publish({ dataId, group: GROUP }, 'v=1', 'properties')
  t.equal(await waitFor(async () => await tr.config.get({ dataId, group: GROUP }), 3000), 'v=1', 'config with a token')
  t.ok(tr.lines.every((l) => !JSON.stringify(l).includes('accessToken')), 'no token logged')

  const anonymous = transport(t, { serverAddr: [addr] })
  const denied = await anonymous.naming.register(instance(service, 18_042)).then(() => undefined, (e: unknown) => e)
  t.match(denied, { kind: 'auth', errorCode: 403, message: /refused InstanceRequest \(error 403.*requires authentication: set username\/password/ })

  const WRONG = 'not-the-password-9f3k'
  const wrong = transport(t, { serverAddr: [addr], username: 'nacos', password: WRONG })
  const refusedLogin = await wrong.config.get({ dataId, group: GROUP }).then(() => undefined, (e: unknown) => e)
  t.match(refusedLogin, { kind: 'auth', message: /Nacos login as "nacos" failed: 127\.0\.0\.1:\d+ refused the login \(wrong username or password\?\): answered 403/ })
  t.notMatch((refusedLogin as Error).message, WRONG, 'the password is not in the message')
  t.ok(wrong.lines.every((l) => !JSON.stringify(l).includes(WRONG)), 'nor in any log line')

  // Restart: the instance is registered again by the transport, the watch and the config follow resume.
  let alive = 0
  const failures: Error[] = []
  let again = 0
  tr.naming.keepAlive(inst, { alive: () => { alive++ }, lost: () => t.fail('lost'), failed: (e) => failures.push(e), registeredAgain: () => { again++ } })
  const w = recordWatch(tr, service)
  t.teardown(w.stop)
  await w.next((s) => s.hosts.some((h) => h.port === 18_041))
  const c = recordConfig(tr, dataId)
  t.teardown(c.stop)
  await waitFor(() => alive >= 1, 2000)
  const http = TRANSPORTS.includes('http') ? await httpApp(t, addr, login) : undefined

  await stopNacos(port)
  const stopped = Date.now()
  await waitFor(() => failures.length > 0, 10_000)
  t.match(failures[0], { kind: 'unavailable', message: /lost/ })
  await startNacos(port, { auth: true })
  const ready = Date.now()
  // The HTTP app's checks go on beside the gRPC ones (a failure is kept, and thrown at the end).
  const httpDone = http?.afterRestart(stopped, ready).then(() => undefined, (err: unknown) => err)
  const relisted = await waitFor(async () => (await listAuthed(addr, service)).some((h) => h.port === 18_041) ? Date.now() : undefined, 30_000, 50)
  t.comment(`restart: instance listed again ${relisted - ready} ms after the server was ready`)
  t.ok(relisted - ready < 15_000, 're-listed within 15 s')
  await waitFor(() => again >= 1, 5000)
  t.pass('keepAlive reported registeredAgain after the redo')

  const second = transport(t, { serverAddr: [addr], username: 'nacos', password: 'nacos' })
  const pushStart = Date.now()
  await second.naming.register(instance(service, 18_043))
  const pushed = await w.next((s) => byPort(s.hosts).join() === '18041,18043', 10_000)
  t.comment(`after the restart, push of a new instance: ${pushed.at - pushStart} ms`)

  const cfgStart = Date.now()
  await second.config.publish({ dataId, group: GROUP }, 'v=2', 'properties')
  const cfgAt = await c.next((v) => v === 'v=2', 10_000)
  t.comment(`after the restart, config change -> watch: ${cfgAt - cfgStart} ms`)
  const httpFailed = await httpDone
  if (httpFailed !== undefined) throw httpFailed
})

/** An app on the HTTP transport registered on the auth server; after the restart, it must log in again. */
async function httpApp (t: Test, addr: string, login: string): Promise<{ afterRestart: (stopped: number, ready: number) => Promise<void> }> {
  const calls = spyFetch(t, Number(addr.split(':')[1]))
  const serviceName = uniqueService('token-restart')
  const app = Fastify()
  await app.register(nacos, { serverAddr: addr, ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'silent', username: 'nacos', password: 'nacos', transport: 'http', serviceName, heartbeatInterval: 0.5, deregisterTime: 3 })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  await waitFor(() => app.nacos.status().state === 'registered', 10_000)
  const loginsBefore = calls.filter((c) => c.url.endsWith(login)).length
  const tokenBefore = calls.filter((c) => c.token !== undefined).at(-1)?.token
  t.ok(tokenBefore, 'http: requests carry a token before the restart')
  return {
    afterRestart: async (stopped, ready) => {
      await waitFor(() => app.nacos.status().counts.reRegistrations >= 1 && app.nacos.status().state === 'registered', 15_000, 50)
      const rejected = calls.filter((c) => c.at >= stopped && c.status === 403 && c.token === tokenBefore)
      const logins = calls.filter((c) => c.url.endsWith(login))
      t.comment(`http: registered again ${Date.now() - ready} ms after the restarted server was ready; ${rejected.length} request(s) refused with the old token, then ${logins.length - loginsBefore} login(s)`)
      t.ok(rejected.length >= 1, 'http: the old token was refused by the restarted server')
      t.ok(logins.length > loginsBefore, 'http: logged in again')
      t.not(calls.at(-1)?.token, tokenBefore, 'http: requests now carry a new token')
      t.equal(await app.nacos.config.get(`${serviceName}-absent.json`), undefined, 'http: config reads work with the new token')
    }
  }
}
