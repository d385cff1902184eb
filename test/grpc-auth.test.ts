// The native gRPC transport against a private auth-enabled Nacos: credentials work, none or wrong
// ones fail clearly, and after a restart the transport reconnects, logs in again and redoes its
// registration, its watch and its config follow.
import t from 'tap'
import { listInstances, tokenFor, uniqueService, waitFor, type NacosHost } from './helpers/nacos-api.ts'
import { startNacos, stopNacos } from './helpers/private-nacos.ts'
import { freeNacosPort } from './helpers/ports.ts'
import { GROUP, byPort, instance, recordConfig, recordWatch, transport } from './helpers/grpc.ts'

/** The instances Nacos lists, asked with a token (the server has auth on). */
async function listAuthed (addr: string, service: string): Promise<NacosHost[]> {
  return await listInstances(service, { addr, token: await tokenFor(addr) })
}

t.test('private auth-enabled server: credentials work, none or wrong ones fail clearly; restarted: reconnect, redo, pushes again', { timeout: 300_000 }, async (t) => {
  const port = await freeNacosPort()
  const addr = await startNacos(port, { auth: true })
  t.teardown(async () => { await stopNacos(port) })

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

  await stopNacos(port)
  await waitFor(() => failures.length > 0, 10_000)
  t.match(failures[0], { kind: 'unavailable', message: /lost/ })
  await startNacos(port, { auth: true })
  const ready = Date.now()
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
})
