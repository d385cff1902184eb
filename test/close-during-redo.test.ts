// Close (what SIGTERM's handler calls) while the registration is being done again: Nacos lists no
// instance before connections drain, and none after close. gRPC: the server resets the
// connection, and app.close() is called the moment the new connection is up, as the transport
// starts its redo on it (and, in a child process, a real SIGTERM then). HTTP: Nacos forgets the
// instance, and app.close() is called as the registry starts registering it again (the beat
// answered 20404). Against the shared server. The ordering alone: test/unit/grpc-redo.test.ts.
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import nacos from '../src/index.ts'
import { NACOS_ADDR, hasV1Api, instanceCall, isNacos3, listInstances, uniqueService, waitFor } from './helpers/nacos-api.ts'
import { settledList } from './helpers/instances.ts'
import { TRANSPORTS } from './helpers/transports.ts'
import { startApp } from './helpers/child.ts'

const DRAIN_MS = 4000
const base = { serverAddr: NACOS_ADDR, ip: '127.0.0.1', dotenv: false, handleSignals: false, drainDelay: DRAIN_MS / 1000 }

interface Line { level: number, msg: string, [field: string]: unknown }

/** An app logging at debug to `onLine`, called as each line is written (in the plugin's own call). */
function watchedApp (onLine: (line: Line) => void): FastifyInstance {
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { onLine(JSON.parse(chunk.toString()) as Line); done() } })
  return Fastify({ logger: { level: 'debug', stream } })
}

/** The gRPC connections the server holds for an application (named after the service). */
async function connectionsOf (appName: string): Promise<string[]> {
  const v3 = await isNacos3()
  const res = await fetch(`http://${NACOS_ADDR}/nacos/${v3 ? 'v3/admin' : 'v2'}/core/loader/current`)
  const body = await res.json() as Record<string, { metaInfo: { connectionId: string, appName: string } }> | { data: Record<string, { metaInfo: { connectionId: string, appName: string } }> }
  const all = v3 ? (body as { data: Record<string, { metaInfo: { connectionId: string, appName: string } }> }).data : body as Record<string, { metaInfo: { connectionId: string, appName: string } }>
  return Object.values(all).filter((c) => c.metaInfo.appName === appName).map((c) => c.metaInfo.connectionId)
}

async function resetConnection (connectionId: string): Promise<void> {
  const v3 = await isNacos3()
  const res = await fetch(`http://${NACOS_ADDR}/nacos/${v3 ? 'v3/admin' : 'v2'}/core/loader/reloadClient?connectionId=${encodeURIComponent(connectionId)}`, { method: v3 ? 'POST' : 'GET' })
  if (res.status !== 200) throw new Error(`reloadClient answered ${res.status}: ${await res.text()}`)
}

/** Closes `app` now; resolves once Nacos lists no instance, and says whether the server still listened then. */
async function closeAndWatch (t: Test, app: FastifyInstance, serviceName: string): Promise<void> {
  let serverClosed = false
  app.server.on('close', () => { serverClosed = true })
  const started = Date.now()
  const closing = app.close()
  await waitFor(async () => (await listInstances(serviceName)).length === 0, DRAIN_MS - 500, 20)
  const goneMs = Date.now() - started
  t.equal(serverClosed, false, `gone from Nacos ${goneMs} ms after close began, while the server still takes connections`)
  await closing
  t.same(await settledList(serviceName), [], 'and none after close')
}

if (TRANSPORTS.includes('grpc')) {
  t.test('grpc: close while the registration is redone on a new connection: no instance in Nacos before connections drain', async (t) => {
    const serviceName = uniqueService('close-redo')
    let connected = 0
    let closeDuringRedo: (() => void) | undefined
    const lines: Line[] = []
    const app = watchedApp((line) => {
      lines.push(line)
      if (line.msg !== 'nacos grpc connected') return
      // The transport logs this just before it starts the redo on the new connection.
      if (++connected === 2) closeDuringRedo?.()
    })
    t.teardown(() => app.close())
    await app.register(nacos, { ...base, transport: 'grpc', serviceName })
    await app.listen({ port: 0, host: '127.0.0.1' })
    await waitFor(async () => (await listInstances(serviceName)).length === 1)
    const [before] = await waitFor(async () => { const ids = await connectionsOf(serviceName); return ids.length === 1 ? ids : undefined })
    const closed = new Promise<void>((resolve, reject) => { closeDuringRedo = () => { closeAndWatch(t, app, serviceName).then(resolve, reject) } })
    await resetConnection(before as string)
    await closed
    const redo = lines.findLastIndex((l) => l.msg === 'nacos grpc connected')
    t.comment(`after the new connection: ${lines.slice(redo + 1).filter((l) => l.plugin === 'nacos').map((l) => l.type ?? l.msg).join(' → ')}`)
    t.equal(connected, 2, 'the close came on the second connection')
  })
}

if (TRANSPORTS.includes('grpc')) {
  t.test('grpc: a real SIGTERM during the redo on a new connection: gone from Nacos before the drain ends, exit code 0', async (t) => {
    const serviceName = uniqueService('sigterm-redo')
    const child = await startApp({ NACOS_SERVER_ADDR: NACOS_ADDR, NACOS_SERVICE_NAME: serviceName, NACOS_DRAIN_DELAY: String(DRAIN_MS / 1000) }, fileURLToPath(new URL('fixtures/redo-sigterm.mjs', import.meta.url)))
    t.teardown(() => { child.proc.kill('SIGKILL') })
    let exitedAt: number | undefined
    void child.exited.then(({ at }) => { exitedAt = at })
    await waitFor(async () => (await listInstances(serviceName)).length === 1)
    const [before] = await waitFor(async () => { const ids = await connectionsOf(serviceName); return ids.length === 1 ? ids : undefined })
    // The fixture sends itself SIGTERM as its new connection comes up.
    await resetConnection(before as string)
    await waitFor(() => /signal received/.test(child.output()), 10_000)
    await waitFor(async () => (await listInstances(serviceName)).length === 0, DRAIN_MS - 500, 20)
    t.equal(exitedAt, undefined, 'gone from Nacos while the app still drains')
    const { code } = await child.exited
    t.equal(code, 0, code === 0 ? 'exit code 0' : child.output())
    t.match(child.output(), /nacos grpc connected[^]*nacos grpc connected[^]*signal received[^]*nacos deregistered/, 'the signal came on the second connection')
  })
}

if (TRANSPORTS.includes('http')) {
  t.test('http: close while the registry registers a forgotten instance again: no instance in Nacos before connections drain', { skip: !await hasV1Api() && 'the server has no v1 API' }, async (t) => {
    const serviceName = uniqueService('close-rereg')
    let closeDuringRedo: (() => void) | undefined
    const app = watchedApp((line) => {
      if (/no longer knows this instance; registering again/.test(line.msg)) closeDuringRedo?.()
    })
    t.teardown(() => app.close())
    await app.register(nacos, { ...base, transport: 'http', serviceName, heartbeatInterval: 0.5, deregisterTime: 5 })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const port = (app.server.address() as { port: number }).port
    await waitFor(async () => (await listInstances(serviceName)).length === 1)
    const closed = new Promise<void>((resolve, reject) => { closeDuringRedo = () => { closeDuringRedo = undefined; closeAndWatch(t, app, serviceName).then(resolve, reject) } })
    await instanceCall('DELETE', { serviceName, ip: '127.0.0.1', port: String(port), ephemeral: 'true' })
    // Over HTTP nothing else takes away a registration that lands behind the deregistration (no
    // connection; beats stop): "none after close" would fail until NACOS_DEREGISTER_TIME.
    await closed
    t.equal(app.nacos.status().state, 'deregistered')
  })
}
