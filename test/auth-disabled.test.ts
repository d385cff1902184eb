// Credentials this server does not know, on a Nacos without auth (one env file for every
// environment): the login fails, requests go without a token as the Java client's do, and the app
// registers, discovers and reads configs; the failed login is warned about once, with why.
import t from 'tap'
import Fastify from 'fastify'
import { Writable } from 'node:stream'
import nacos from '../src/index.ts'
import { NACOS_ADDR, listInstances, uniqueService, waitFor } from './helpers/nacos-api.ts'
import { TRANSPORTS } from './helpers/transports.ts'

const base = { serverAddr: NACOS_ADDR, ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'warn' as const }
const SECRET = 'not-this-servers-password'

function capture (): { stream: Writable, text: () => string, warnings: () => string[] } {
  let text = ''
  const stream = new Writable({ write (chunk, _enc, cb) { text += String(chunk); cb() } })
  const warnings = (): string[] => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number, msg: string }).filter((l) => l.level === 40).map((l) => l.msg)
  return { stream, text: () => text, warnings }
}

for (const transport of TRANSPORTS) {
  t.test(`${transport}: unknown credentials on a server without auth: registers and works, one warning says the login failed and why`, async (t) => {
    const logs = capture()
    const serviceName = uniqueService('noauth')
    const app = Fastify({ logger: { level: 'warn', stream: logs.stream } })
    await app.register(nacos, { ...base, transport, serviceName, username: 'ghost', password: SECRET, heartbeatInterval: 0.3, deregisterTime: 3, failFast: true })
    t.teardown(() => app.close())
    await app.listen({ port: 0, host: '127.0.0.1' })
    // Nacos can list the instance before its answer to the registration reaches the app (gRPC):
    // the app's own registration is awaited, then the listing.
    await app.nacos.registered()
    t.equal(app.nacos.status().state, 'registered')
    await waitFor(async () => (await listInstances(serviceName)).length === 1, 10_000)
    t.match(await app.nacos.instances(serviceName), [{ ip: '127.0.0.1' }])
    const dataId = `${serviceName}.json`
    await app.nacos.config.publish(dataId, { v: 1 })
    t.same(await waitFor(async () => await app.nacos.config.get(dataId), 5000), { v: 1 })
    await app.nacos.config.remove(dataId)
    // HTTP: several beats, each a request without a token.
    await waitFor(() => transport === 'grpc' || app.nacos.status().counts.beats >= 3, 5000)
    const failed = logs.warnings().filter((m) => m.includes('login as "ghost" failed'))
    t.equal(failed.length, 1, 'warned once')
    t.match(failed[0], /Nacos login as "ghost" failed.*User ghost not found.*the server answers without a token \(auth disabled\): going on without one/)
    t.notMatch(logs.text(), SECRET, 'the password is in no log line')
  })
}
