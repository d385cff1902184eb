// The advertised address answers, against the real Nacos over both transports: a server bound to
// one address advertises that address (IPv4 or IPv6) and callers that discover it reach it; an IP
// set by the user that the server does not listen on is advertised as set, with one warning that
// says what to do.
import t from 'tap'
import Fastify from 'fastify'
import { Writable } from 'node:stream'
import nacos from '../src/index.ts'
import { NACOS_ADDR, listInstances, uniqueService, waitFor } from './helpers/nacos-api.ts'
import { TRANSPORTS } from './helpers/transports.ts'

const base = { serverAddr: NACOS_ADDR, dotenv: false, handleSignals: false, logLevel: 'warn' as const }

function capture (): { stream: Writable, warnings: () => string[] } {
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _enc, cb) { lines.push(...String(chunk).split('\n').filter(Boolean)); cb() } })
  const warnings = (): string[] => lines.map((l) => JSON.parse(l) as { level: number, msg: string }).filter((l) => l.level === 40).map((l) => l.msg)
  return { stream, warnings }
}

async function listed (serviceName: string): Promise<{ ip: string, port: number }> {
  const [host] = await waitFor(async () => { const l = await listInstances(serviceName); return l.length > 0 ? l : undefined }, 10_000)
  return host as { ip: string, port: number }
}

for (const transport of TRANSPORTS) {
  for (const host of ['127.0.0.1', '::1']) {
    t.test(`${transport}: bound to ${host} only, no NACOS_SERVICE_IP: ${host} is advertised, answers, and one warning says other hosts cannot reach it`, async (t) => {
      const log = capture()
      const serviceName = uniqueService('bound')
      const app = Fastify({ logger: { level: 'warn', stream: log.stream } })
      await app.register(nacos, { ...base, transport, serviceName, ...(host === '::1' ? { ipType: 'IPv6' as const } : {}) })
      app.get('/who', async () => 'me')
      t.teardown(() => app.close())
      await app.listen({ port: 0, host })
      const port = (app.server.address() as { port: number }).port
      t.match(await listed(serviceName), { ip: host, port })
      const url = await app.nacos.pickUrl(serviceName)
      t.equal(await (await fetch(`${url}/who`)).text(), 'me', `${url} answers`)
      t.equal(log.warnings().filter((m) => m.startsWith(`advertising ${host}:`)).length, 1, 'warned once')
      t.match(log.warnings().join('\n'), /listen on all interfaces \(app\.listen\(\{ port, host: '0\.0\.0\.0' \}\) or '::'\)/)
    })
  }

  t.test(`${transport}: NACOS_SERVICE_IP the server does not listen on: advertised as set, one warning with what to do`, async (t) => {
    const log = capture()
    const serviceName = uniqueService('unbound')
    const app = Fastify({ logger: { level: 'warn', stream: log.stream } })
    await app.register(nacos, { ...base, transport, serviceName, ip: '198.51.100.7' })
    t.teardown(() => app.close())
    await app.listen({ port: 0, host: '127.0.0.1' })
    t.match(await listed(serviceName), { ip: '198.51.100.7' })
    t.same(log.warnings().filter((m) => m.startsWith('NACOS_SERVICE_IP')), [
      "NACOS_SERVICE_IP is 198.51.100.7 but the server listens only on 127.0.0.1: callers of 198.51.100.7 are refused; listen on all interfaces (app.listen({ port, host: '0.0.0.0' }) or '::'), or set NACOS_SERVICE_IP to an address it listens on"
    ])
  })
}
