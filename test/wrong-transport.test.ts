// A server that does not speak the chosen transport's protocol. Nacos 3.2 removed the v1 HTTP API
// and answers every v1 call with 410 Gone (a stub HTTP server stands in for it, named as such; and
// the real Nacos 3.0.3 with that API switched off, when NACOS_SERVER_ADDR is one); the HTTP
// transport says so once, at warn, naming NACOS_TRANSPORT=grpc, never "Nacos unreachable". The gRPC side (no gRPC port: the error names
// NACOS_TRANSPORT=http) is in test/contract/naming.test.ts.
import t, { type Test } from 'tap'
import Fastify from 'fastify'
import { createServer } from 'node:http'
import { once } from 'node:events'
import { Writable } from 'node:stream'
import nacos from '../src/index.ts'
import { NACOS_ADDR, hasV1Api, isNacos3, waitFor } from './helpers/nacos-api.ts'

async function goneStub (t: { teardown: (fn: () => void) => void }): Promise<{ addr: string, hits: () => number }> {
  let hits = 0
  const server = createServer((req, res) => {
    hits++
    req.resume()
    res.writeHead(410, { 'content-type': 'text/plain' }).end('Gone')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return { addr: `127.0.0.1:${(server.address() as { port: number }).port}`, hits: () => hits }
}

async function saysWrongTransportOnce (t: Test, serverAddr: string, hits?: () => number): Promise<void> {
  const lines: Array<{ level: number, msg: string }> = []
  const stream = new Writable({ write (chunk, _enc, cb) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l)); cb() } })
  const app = Fastify({ logger: { level: 'info', stream } })
  await app.register(nacos, { transport: 'http', serverAddr, serviceName: 'wrong-transport', ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'info', monitoring: false })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  await waitFor(() => app.nacos.status().state === 'retrying', 5000)
  t.match(app.nacos.status().lastError, /does not serve the v1 HTTP API.*410.*set NACOS_TRANSPORT=grpc/)
  await t.rejects(app.nacos.instances('orders'), /NACOS_TRANSPORT=grpc/)
  await t.rejects(app.nacos.config.get('app.json'), { code: 'FST_NACOS_WRONG_TRANSPORT' })
  await t.rejects(app.nacos.instances('orders'), /NACOS_TRANSPORT=grpc/)
  if (hits) t.ok(hits() >= 3, `the stub was asked (${hits()} requests)`)
  const warnings = lines.filter((l) => l.level >= 40)
  t.equal(warnings.filter((l) => /NACOS_TRANSPORT=grpc/.test(l.msg)).length, 1, 'said once, at warn')
  t.notOk(lines.some((l) => /unreachable/i.test(l.msg)), 'never "Nacos unreachable"')
}

t.test('HTTP transport against a server without the v1 API: one warning naming NACOS_TRANSPORT=grpc, clear errors, no "unreachable"', async (t) => {
  const stub = await goneStub(t)
  await saysWrongTransportOnce(t, stub.addr, stub.hits)
})

const real = await isNacos3() && !await hasV1Api()
t.test('the same against the real Nacos 3 with its v1 API off', { skip: !real && `NACOS_SERVER_ADDR (${NACOS_ADDR}) is not a Nacos 3 with the v1 API off (npm run test:nacos3 runs one)` }, async (t) => {
  await saysWrongTransportOnce(t, NACOS_ADDR)
})
