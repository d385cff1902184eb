// NACOS_SERVER_ADDR as users write it, against the real Nacos and over both transports:
// `http://host:port` with or without a trailing slash or the default context path, a context path
// of its own (behind a proxy that serves Nacos under /my-nacos), and https:// meaning TLS to Nacos
// (a listener that records the first bytes it gets sees a TLS ClientHello, not plain HTTP).
import t from 'tap'
import Fastify from 'fastify'
import { createServer as createHttpServer, request } from 'node:http'
import { createServer as createTcpServer, type Server, type Socket } from 'node:net'
import { once } from 'node:events'
import nacos from '../src/index.ts'
import { NACOS_ADDR, listInstances, uniqueService, waitFor } from './helpers/nacos-api.ts'
import { TRANSPORTS } from './helpers/transports.ts'

const base = { ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'silent' as const, requestTimeout: 1000 }

async function listening (server: Server | ReturnType<typeof createHttpServer>, port = 0): Promise<number> {
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as { port: number }).port
}

/** Serves Nacos's HTTP API under /my-nacos, as a gateway with its own context path does; records the paths. */
async function contextPathProxy (t: { teardown: (fn: () => Promise<void>) => void }): Promise<{ port: number, paths: string[] }> {
  const paths: string[] = []
  const [host, port] = NACOS_ADDR.split(':') as [string, string]
  const proxy = createHttpServer((req, res) => {
    paths.push(req.url ?? '')
    if (!req.url?.startsWith('/my-nacos/')) { res.writeHead(404).end(); return }
    const upstream = request({ host, port, method: req.method, path: `/nacos/${req.url.slice('/my-nacos/'.length)}`, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    upstream.on('error', () => { res.writeHead(502).end() })
    req.pipe(upstream)
  })
  const proxyPort = await listening(proxy)
  t.teardown(async () => { proxy.closeAllConnections(); proxy.close(); await once(proxy, 'close') })
  return { port: proxyPort, paths }
}

/** A port P, and P + 1000 for gRPC, both accepting connections and recording the first bytes each connection sends. */
async function recorder (t: { teardown: (fn: () => Promise<void>) => void }): Promise<{ port: number, first: Map<number, Buffer> }> {
  const first = new Map<number, Buffer>()
  const sockets = new Set<Socket>()
  for (;;) {
    const servers = [0, 1].map((index) => createTcpServer((socket) => {
      sockets.add(socket)
      socket.once('data', (chunk) => { if (!first.has(index)) first.set(index, chunk) })
      socket.on('error', () => {})
    }))
    const port = await listening(servers[0] as Server)
    try {
      await listening(servers[1] as Server, port + 1000)
    } catch {
      servers[0]?.close()
      continue
    }
    t.teardown(async () => {
      for (const socket of sockets) socket.destroy()
      for (const s of servers) s.close()
    })
    return { port, first }
  }
}

for (const transport of TRANSPORTS) {
  for (const written of [`http://${NACOS_ADDR}`, `http://${NACOS_ADDR}/`, `http://${NACOS_ADDR}/nacos/`]) {
    t.test(`${transport}: NACOS_SERVER_ADDR=${written} registers, discovers and reads configs`, async (t) => {
      const before = process.env.NACOS_SERVER_ADDR
      process.env.NACOS_SERVER_ADDR = written
      t.teardown(() => { process.env.NACOS_SERVER_ADDR = before })
      const serviceName = uniqueService('addr')
      const app = Fastify()
      await app.register(nacos, { ...base, transport, serviceName })
      t.teardown(() => app.close())
      t.same(app.nacos.settings.serverAddr.map((s) => `${s.host}:${s.port}${s.contextPath}`), [`${NACOS_ADDR}/nacos`])
      await app.listen({ port: 0, host: '127.0.0.1' })
      const port = (app.server.address() as { port: number }).port
      const [host] = await waitFor(async () => { const l = await listInstances(serviceName); return l.length > 0 ? l : undefined }, 10_000)
      t.match(host, { ip: '127.0.0.1', port })
      t.match(await app.nacos.instances(serviceName), [{ ip: '127.0.0.1', port }])
      const dataId = `${serviceName}.json`
      await app.nacos.config.publish(dataId, { ok: 1 })
      t.same(await waitFor(async () => await app.nacos.config.get(dataId, { type: 'json' }), 5000), { ok: 1 })
      await app.nacos.config.remove(dataId)
    })
  }
}

t.test('http: a context path of its own is where every request goes', async (t) => {
  const proxy = await contextPathProxy(t)
  const serviceName = uniqueService('ctx')
  const app = Fastify()
  await app.register(nacos, { ...base, transport: 'http', serviceName, serverAddr: `http://127.0.0.1:${proxy.port}/my-nacos/` })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  await waitFor(async () => { const l = await listInstances(serviceName); return l.length > 0 ? l : undefined }, 10_000)
  const dataId = `${serviceName}.json`
  await app.nacos.config.publish(dataId, { ok: 2 })
  t.same(await waitFor(async () => await app.nacos.config.get(dataId, { type: 'json' }), 5000), { ok: 2 })
  await app.nacos.config.remove(dataId)
  t.ok(proxy.paths.some((p) => p.startsWith('/my-nacos/v1/ns/instance')), 'registration went to /my-nacos/v1/ns/instance')
  t.ok(proxy.paths.some((p) => p.startsWith('/my-nacos/v1/cs/configs')), 'config calls went to /my-nacos/v1/cs/configs')
  t.same(proxy.paths.filter((p) => !p.startsWith('/my-nacos/')), [], 'nothing went to /nacos')
})

const TLS_HANDSHAKE = 0x16
for (const transport of TRANSPORTS) {
  // The HTTP transport talks to the HTTP port, the gRPC one to the HTTP port + 1000.
  const at = transport === 'http' ? 0 : 1
  t.test(`${transport}: https:// speaks TLS to Nacos, http:// does not`, async (t) => {
    for (const scheme of ['https', 'http']) {
      const { port, first } = await recorder(t)
      const app = Fastify()
      await app.register(nacos, { ...base, transport, serviceName: uniqueService('tls'), serverAddr: `${scheme}://127.0.0.1:${port}` })
      await app.listen({ port: 0, host: '127.0.0.1' })
      const bytes = await waitFor(() => first.get(at), 10_000)
      await app.close()
      if (scheme === 'https') t.equal(bytes[0], TLS_HANDSHAKE, 'a TLS ClientHello')
      else t.not(bytes[0], TLS_HANDSHAKE, `plain text: ${JSON.stringify(bytes.subarray(0, 4).toString('latin1'))}`)
    }
  })
}
