// Against a private Nacos with authentication on: log in once, send the token (never the
// password) on every call, and fail clearly — without echoing the secret — on bad credentials.
import t from 'tap'
import Fastify from 'fastify'
import { Writable } from 'node:stream'
import nacos from '../src/index.ts'
import { isNacos3, listInstances, loginPath, nacosRequest, tokenFor, uniqueService, waitFor } from './helpers/nacos-api.ts'
import { startNacos, stopNacos } from './helpers/private-nacos.ts'
import { freeNacosPort } from './helpers/ports.ts'
import { TRANSPORTS } from './helpers/transports.ts'

// gRPC needs PORT + 1000 and + 1001 free too: take a port whose neighbours were free a moment ago.
const PORT = await freeNacosPort()
const addr = `127.0.0.1:${PORT}`
const SECRET = 'nacos'
const base = { serverAddr: addr, ip: '127.0.0.1', dotenv: false, handleSignals: false, username: 'nacos' }

t.before(async () => { await startNacos(PORT, { auth: true }) })
t.teardown(async () => { await stopNacos(PORT) })

interface Seen { url: string, body: string }
function spyFetch (t: { teardown: (fn: () => void) => void }): Seen[] {
  const seen: Seen[] = []
  const real = globalThis.fetch
  globalThis.fetch = async (input, init) => {
    seen.push({ url: String(input), body: typeof init?.body === 'string' ? init.body : '' })
    return await real(input, init)
  }
  t.teardown(() => { globalThis.fetch = real })
  return seen
}

function capture (): { stream: Writable, text: () => string } {
  let text = ''
  return { stream: new Writable({ write (chunk, _enc, cb) { text += String(chunk); cb() } }), text: () => text }
}

async function listAuthed (serviceName: string): Promise<unknown[]> {
  return await listInstances(serviceName, { addr, token: await tokenFor(addr, 'nacos', SECRET) })
}

t.test('the auth server refuses anonymous registration', async (t) => {
  const path = await isNacos3(addr) ? '/v3/admin/ns/instance' : '/v1/ns/instance'
  const res = await nacosRequest(path, { serviceName: 'x', ip: '1.1.1.1', port: '1' }, 'POST', addr)
  t.equal(res.status, 403)
})

for (const transport of TRANSPORTS) {
  t.test(`${transport}: registers with NACOS_USERNAME/NACOS_PASSWORD; the password only ever goes to the login call`, async (t) => {
    const seen = spyFetch(t)
    const serviceName = uniqueService('auth-ok')
    const logs = capture()
    const app = Fastify({ logger: { level: 'debug', stream: logs.stream } })
    await app.register(nacos, { ...base, transport, serviceName, password: SECRET, heartbeatInterval: 0.3, deregisterTime: 3, logLevel: 'debug' })
    t.teardown(() => app.close())
    await app.listen({ port: 0, host: '127.0.0.1' })
    // HTTP: a few beats, each an authenticated call; gRPC: the registration on the connection.
    await waitFor(() => app.nacos.status().state === 'registered' && (transport === 'grpc' || app.nacos.status().counts.beats >= 2), 10_000)
    const ours = seen.filter((s) => s.url.includes(`:${PORT}/`))
    await waitFor(async () => (await listAuthed(serviceName)).length === 1, 5000)
    t.pass('registered, as an authenticated query sees it')
    // gRPC logs in over node:http, not fetch: its logins are counted in its log.
    const login = await loginPath(addr)
    const logins = transport === 'http' ? ours.filter((s) => s.url.endsWith(`/nacos${login}`)).length : logs.text().split('nacos login succeeded').length - 1
    t.equal(logins, 1, 'logged in once for registration and every later call')
    if (transport === 'http') t.ok(ours.length >= 3)
    t.notOk(ours.some((s) => /password|username/.test(new URL(s.url).search)), 'no credentials in any query string')
    t.notOk(ours.some((s) => !/\/auth\/(user\/)?login$/.test(s.url) && s.body.includes('password')), 'no password in any other body')
    t.notMatch(logs.text(), /"password":"nacos"|password=nacos/, 'the password is not logged')
    t.equal(app.nacos.settings.password, '****')
  })

  // The server answers a refused login with 403 "user not found!" (older assemblies: status 0;
  // Nacos 3.0.3 answers a wrong password of an existing user with 500 "No message available").
  // Either way the error says the login was refused, not only the server's words.
  const loginFailed = new RegExp(`Nacos login as "nacos" failed.*127\\.0\\.0\\.1:${PORT}.*(credentials rejected|refused the login \\(wrong username or password\\?\\): answered (403|500))`)

  t.test(`${transport}: wrong password: a clear error naming the user and the server, never the password`, async (t) => {
    const serviceName = uniqueService('auth-bad')
    const wrong = 'S3cr3t-wrong'
    const logs = capture()
    const app = Fastify({ logger: { level: 'debug', stream: logs.stream } })
    await app.register(nacos, { ...base, transport, serviceName, password: wrong, logLevel: 'debug' })
    t.teardown(() => app.close())
    await app.listen({ port: 0, host: '127.0.0.1' })
    await waitFor(() => app.nacos.status().state === 'retrying', 10_000)
    t.match(app.nacos.status().lastError, loginFailed)
    await t.rejects(app.nacos.register(), { code: 'FST_NACOS_REGISTRATION_FAILED', message: /login as "nacos" failed/ })
    t.notMatch(logs.text(), wrong, 'the password is in no log line')
    t.notMatch(JSON.stringify(app.nacos.status()), wrong)
  })

  t.test(`${transport}: wrong password with fail-fast: start-up fails with the login error`, async (t) => {
    const app = Fastify()
    await app.register(nacos, { ...base, transport, serviceName: uniqueService('auth-ff'), password: 'nope', failFast: true })
    await t.rejects(app.listen({ port: 0, host: '127.0.0.1' }), new RegExp(`NACOS_FAIL_FAST=true.*${loginFailed.source}`))
    await app.close()
  })
}
