// failFast against the real server, both transports: a first registration that Nacos refuses
// (here a namespace id it rejects, as a namespace's name given for its id is) closes the app,
// logged at fatal, and app.nacos.registered() rejects with the reason; without failFast the app
// serves and keeps retrying. Through a proxy that lets the probe pass: a registration left
// unanswered fails after the request timeout, the same way. Nacos unreachable: a snapshot that
// could serve the configs does not hide it, listen() rejects. The registry's logic alone:
// test/unit/fail-fast.test.ts.
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { Writable } from 'node:stream'
import { createServer, request } from 'node:http'
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import nacos from '../src/index.ts'
import { NACOS_ADDR, publishConfig, readConfig, uniqueService, waitFor } from './helpers/nacos-api.ts'
import { closedPort } from './helpers/instances.ts'
import { TRANSPORTS } from './helpers/transports.ts'

const base = { serverAddr: NACOS_ADDR, ip: '127.0.0.1', dotenv: false, handleSignals: false, requestTimeout: 3000 }
// Nacos's parameter check refuses it (illegal characters), on both transports.
const REFUSED_NAMESPACE = 'dev env'

/** An app whose log lines (JSON) the test reads. */
function loggedApp (): { app: FastifyInstance, lines: Array<{ level: number, msg: string, err?: { code?: string, message?: string } }> } {
  const lines: Array<{ level: number, msg: string }> = []
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString())); done() } })
  return { app: Fastify({ logger: { level: 'error', stream } }), lines }
}

/** What app.nacos.registered() rejects with; a broken failFast fails here, not at tap's timeout. */
async function verdict (app: FastifyInstance): Promise<{ code?: string, message: string, cause?: unknown } | undefined> {
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error('registered() still pending after 15 s')) }, 15_000) })
  try {
    return await Promise.race([app.nacos.registered().then(() => undefined, (e: { code?: string, message: string }) => e), bound])
  } finally {
    clearTimeout(timer)
  }
}

/** An HTTP proxy to Nacos that never answers a registration (POST /nacos/v1/ns/instance); the rest passes. */
async function silentOnRegister (t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const [host, port] = NACOS_ADDR.split(':') as [string, string]
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url?.split('?')[0] === '/nacos/v1/ns/instance') return
    req.pipe(request({ host, port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers)
      up.pipe(res)
    }).on('error', () => { res.destroy() }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { server.closeAllConnections(); await new Promise((resolve) => server.close(resolve)) })
  return `127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** Listens, then: registered() rejects once the request timeout (1 s) passed, the app closes itself, fatal logged. */
async function expectUnansweredToClose (t: Test, app: FastifyInstance, lines: Array<{ level: number }>): Promise<void> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const started = Date.now()
  const err = await verdict(app)
  t.comment(`rejected after ${Date.now() - started} ms (request timeout 1000 ms): ${err?.message ?? ''}`)
  t.match(err, { code: 'FST_NACOS_REGISTRATION_FAILED', cause: { code: 'FST_NACOS_REQUEST_FAILED' } }, 'unanswered: the cause says so')
  await waitFor(() => !app.server.listening, 10_000)
  t.ok(lines.some((l) => l.level === 60), 'logged at fatal')
}

/** A TCP proxy to Nacos's gRPC port that passes bytes until `silence()`, then none (sockets stay open). */
async function silenceableGrpc (t: { teardown: (fn: () => Promise<void>) => void }): Promise<{ offset: number, silence: () => void }> {
  const httpPort = Number(NACOS_ADDR.split(':')[1])
  let silent = false
  const sockets = new Set<Socket>()
  const server = createTcpServer((client) => {
    const upstream = connect(httpPort + 1000, '127.0.0.1')
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      sockets.add(from)
      from.on('data', (d: Buffer) => { if (!silent) to.write(d) })
      from.on('error', () => {})
      from.on('close', () => { to.destroy() })
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { for (const s of sockets) s.destroy(); await new Promise((resolve) => server.close(resolve)) })
  return { offset: (server.address() as AddressInfo).port - httpPort, silence: () => { silent = true } }
}

if (TRANSPORTS.includes('grpc')) {
  t.test('grpc: failFast, Nacos answers the probe, then nothing more: registered() rejects after the request timeout, the app closes itself', async (t) => {
    const proxy = await silenceableGrpc(t)
    const { app, lines } = loggedApp()
    t.teardown(() => app.close())
    // Before the plugin's own onListen hook, which registers: the probe has passed by then.
    app.addHook('onListen', async () => { proxy.silence() })
    await app.register(nacos, { ...base, transport: 'grpc', grpcPortOffset: proxy.offset, serviceName: uniqueService('ff-silent-grpc'), requestTimeout: 1000, failFast: true })
    await expectUnansweredToClose(t, app, lines)
  })
}

if (TRANSPORTS.includes('http')) {
  t.test('http: failFast, Nacos answers the probe but not the first registration: registered() rejects after the request timeout, the app closes itself', async (t) => {
    const { app, lines } = loggedApp()
    t.teardown(() => app.close())
    await app.register(nacos, { ...base, transport: 'http', serverAddr: await silentOnRegister(t), serviceName: uniqueService('ff-silent'), requestTimeout: 1000, failFast: true })
    await expectUnansweredToClose(t, app, lines)
  })
}

for (const transport of TRANSPORTS) {
  t.test(`${transport}: failFast, Nacos refuses the first registration: registered() rejects with the reason, the app closes itself, logged at fatal`, async (t) => {
    const { app, lines } = loggedApp()
    t.teardown(() => app.close())
    let closed = false
    app.addHook('onClose', async () => { closed = true })
    await app.register(nacos, { ...base, transport, serviceName: uniqueService('ff-refused'), namespace: REFUSED_NAMESPACE, failFast: true })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const err = await verdict(app)
    t.match(err, { code: 'FST_NACOS_REGISTRATION_FAILED', message: /Registration of ff-refused-\w+ with Nacos failed: .*namespaceId/, cause: { code: 'FST_NACOS_SERVER_ERROR' } })
    await waitFor(() => closed, 10_000)
    t.equal(app.server.listening, false, 'the server no longer listens')
    const fatal = lines.find((l) => l.level === 60)
    t.match(fatal, { msg: /first registration failed \(NACOS_FAIL_FAST=true\); closing the app/, err: { code: 'FST_NACOS_REGISTRATION_FAILED' } })
  })

  t.test(`${transport}: without failFast the same refusal leaves the app serving, registration retrying`, async (t) => {
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(nacos, { ...base, transport, serviceName: uniqueService('ff-off'), namespace: REFUSED_NAMESPACE, logLevel: 'silent' })
    app.get('/ping', async () => 'pong')
    await app.listen({ port: 0, host: '127.0.0.1' })
    await waitFor(() => app.nacos.status().state === 'retrying', 10_000)
    t.match(app.nacos.status().lastError, /namespaceId/)
    const port = (app.server.address() as { port: number }).port
    t.equal(await (await fetch(`http://127.0.0.1:${port}/ping`)).text(), 'pong')
  })

  t.test(`${transport}: failFast with Nacos unreachable: listen() rejects, though a snapshot could serve the configs`, async (t) => {
    const snapshotDir = mkdtempSync(join(tmpdir(), 'fail-fast-'))
    t.teardown(() => { rmSync(snapshotDir, { recursive: true, force: true }) })
    const dataId = `${uniqueService('ff-snap')}.json`
    await publishConfig(dataId, '{"n":1}')
    await waitFor(async () => await readConfig(dataId))
    // One snapshot place for both apps, whatever server they name.
    const snap = { snapshotDir, snapshotCluster: 'fail-fast', configs: [{ dataId }], logLevel: 'silent' as const }
    const before = Fastify()
    await before.register(nacos, { ...base, ...snap, transport, registerEnabled: false })
    await before.ready()
    await before.close()

    const down = `127.0.0.1:${await closedPort()}`
    const served = Fastify()
    t.teardown(() => served.close())
    await served.register(nacos, { ...base, ...snap, transport, serverAddr: down, serviceName: uniqueService('ff-served') })
    await served.listen({ port: 0, host: '127.0.0.1' })
    t.same(served.nacos.configs.get(dataId), { n: 1 }, 'without failFast: ready from the snapshot')

    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(nacos, { ...base, ...snap, transport, serverAddr: down, serviceName: uniqueService('ff-down'), failFast: true })
    await t.rejects(app.listen({ port: 0, host: '127.0.0.1' }), { code: 'FST_NACOS_NOT_USABLE', message: /Nacos is not usable at start-up \(NACOS_FAIL_FAST=true\): .*ECONNREFUSED/ })
  })
}
