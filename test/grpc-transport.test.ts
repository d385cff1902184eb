// The native gRPC transport against a real Nacos, through the Transport interface only; what
// Nacos itself reports is read over its own HTTP API. An auth-enabled server that restarts:
// auth-restart.test.ts (its own server, run beside this file).
import t from 'tap'
import { spawn } from 'node:child_process'
import { createServer, connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { createGrpcTransport, GrpcTransportError } from '../src/transport/grpc/index.ts'
import { NACOS_ADDR, listInstances, uniqueService, waitFor, within, type NacosHost } from './helpers/nacos-api.ts'
import { closedPort, deregister, openPorts, register } from './helpers/instances.ts'
import { GROUP, byPort, instance, recordConfig, recordWatch, transport } from './helpers/grpc.ts'

const CHILD = fileURLToPath(new URL('./fixtures/grpc-child.ts', import.meta.url))

/** A child process running test/fixtures/grpc-child.ts with tap's TypeScript loader. */
function child (env: Record<string, string>) {
  const proc = spawn(process.execPath, [...process.execArgv, CHILD], { env: { ...process.env, NACOS_ADDR, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  proc.stdout.on('data', (d: Buffer) => { out += d.toString() })
  proc.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const exited = once(proc, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as string | null, at: Date.now() }))
  const line = (text: string, timeout = 20_000): Promise<number> => waitFor(() => out.includes(`${text}\n`) ? Date.now() : undefined, timeout)
    .catch((e: unknown) => { throw new Error(`${String(e)}; child stdout=${out} stderr=${err}`) })
  return { proc, exited, line, output: () => out + err }
}

t.test('register: listed by Nacos (healthy, metadata intact), keepAlive reports alive; deregister: gone', async (t) => {
  const tr = transport(t, { appName: 'grpc-test' })
  const service = uniqueService('grpc-reg')
  const inst = instance(service, 18_001, { weight: 2, metadata: { zone: 'z1', version: '1.2.3' } })
  await tr.naming.register(inst)
  const hosts = await waitFor(async () => { const h = await listInstances(service); return h.length === 1 ? h : undefined }, 5000)
  t.match(hosts[0], { ip: '127.0.0.1', port: 18_001, weight: 2, healthy: true, enabled: true, ephemeral: true, clusterName: 'DEFAULT', metadata: { zone: 'z1', version: '1.2.3' } } satisfies Partial<NacosHost>)

  let alive = 0
  const failed: Error[] = []
  const stop = tr.naming.keepAlive(inst, { alive: () => { alive++ }, lost: () => t.fail('lost'), failed: (e) => failed.push(e), registeredAgain: () => t.fail('registeredAgain') })
  await waitFor(() => alive === 1, 2000)
  stop()

  await tr.naming.deregister(inst)
  await waitFor(async () => (await listInstances(service)).length === 0, 5000)
  t.same(failed, [])
})

t.test('a registration and subscriptions made while the connection comes up go out once each, not again by the redo', async (t) => {
  const tr = transport(t, { redoIntervalMs: 200 })
  const open = await openPorts(1)
  t.teardown(open.close)
  const [port] = open.ports as [number]
  const service = uniqueService('grpc-once')
  const looked = [uniqueService('grpc-once-a'), uniqueService('grpc-once-b')]
  // All before the first connection exists: each call waits for it.
  const registered = tr.naming.register(instance(service, port))
  const watches = looked.map((s) => tr.naming.watch({ service: s, group: GROUP, clusters: [] }, () => {}))
  t.teardown(() => { for (const stop of watches) stop() })
  await registered
  await waitFor(async () => (await listInstances(service)).length === 1)
  // Several redo rounds.
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const sent = (type: string): number => tr.lines.filter((l) => l.msg === 'nacos grpc request' && (l.obj as { type?: string }).type === type).length
  t.equal(sent('InstanceRequest'), 1, 'registered once')
  t.equal(sent('SubscribeServiceRequest'), 2, 'subscribed once per service')
  t.notOk(tr.lines.some((l) => /redone/.test(l.msg)), 'nothing redone')
})

t.test('two instances of one service through one transport: both listed (one connection holds one registration per service)', async (t) => {
  const tr = transport(t)
  const service = uniqueService('grpc-batch')
  const a = instance(service, 18_011)
  const b = instance(service, 18_012, { metadata: { second: 'yes' } })
  await tr.naming.register(a)
  await tr.naming.register(b)
  await waitFor(async () => byPort(await listInstances(service)).join() === '18011,18012', 5000)
  await tr.naming.deregister(a)
  await waitFor(async () => byPort(await listInstances(service)).join() === '18012', 5000)
  t.match((await listInstances(service))[0], { metadata: { second: 'yes' } })
  await tr.naming.deregister(b)
  await waitFor(async () => (await listInstances(service)).length === 0, 5000)
  t.pass('both registered, then removed one by one')
})

t.test('persistent instance (ephemeral: false): registered and deregistered over gRPC', async (t) => {
  const tr = transport(t)
  const service = uniqueService('grpc-persistent')
  const inst = instance(service, 18_051, { ephemeral: false, metadata: { kind: 'persistent' } })
  await tr.naming.register(inst)
  const hosts = await waitFor(async () => { const h = await listInstances(service); return h.length === 1 ? h : undefined }, 5000)
  t.match(hosts[0], { port: 18_051, ephemeral: false, metadata: { kind: 'persistent' } })
  await tr.naming.deregister(inst)
  await waitFor(async () => (await listInstances(service)).length === 0, 5000)
})

t.test('failover: an unreachable first server is skipped', async (t) => {
  const dead = await closedPort()
  const tr = transport(t, { serverAddr: [`127.0.0.1:${dead - 1000}`, NACOS_ADDR, `127.0.0.1:${dead - 1000}`] })
  const service = uniqueService('grpc-failover')
  await tr.naming.register(instance(service, 18_061))
  await waitFor(async () => (await listInstances(service)).length === 1, 5000)
  await tr.naming.probe()
  t.pass('registered through the reachable server')
})

interface LoaderConnection { metaInfo: { connectionId: string, appName: string, labels: Record<string, string> } }
async function connectionsOf (appName: string, addr = NACOS_ADDR): Promise<string[]> {
  const res = await fetch(`http://${addr}/nacos/v2/core/loader/current`)
  const all = await res.json() as Record<string, LoaderConnection>
  return Object.values(all).filter((c) => c.metaInfo.appName === appName).map((c) => c.metaInfo.connectionId)
}

t.test('ConnectResetRequest from the server: reconnect, registration and watch redone', async (t) => {
  const appName = uniqueService('grpc-reset-app')
  const tr = transport(t, { appName })
  const service = uniqueService('grpc-reset')
  const inst = instance(service, 18_071)
  await tr.naming.register(inst)
  let alive = 0
  let again = 0
  tr.naming.keepAlive(inst, { alive: () => { alive++ }, lost: () => t.fail('lost'), failed: () => {}, registeredAgain: () => { again++ } })
  const w = recordWatch(tr, service)
  t.teardown(w.stop)
  await w.next((s) => s.hosts.length === 1)
  await waitFor(() => alive === 1, 2000)
  const [before] = await waitFor(async () => { const ids = await connectionsOf(appName); return ids.length === 1 ? ids : undefined }, 3000)
  t.ok(before, 'the server lists our connection, labelled with appName')

  const res = await fetch(`http://${NACOS_ADDR}/nacos/v2/core/loader/reloadClient?connectionId=${encodeURIComponent(before as string)}`)
  t.equal(res.status, 200, await res.text())
  const [after] = await waitFor(async () => { const ids = await connectionsOf(appName); return ids.length === 1 && ids[0] !== before ? ids : undefined }, 10_000)
  t.not(after, before, 'a new connection replaced the old one')
  await waitFor(() => again === 1, 5000)
  t.equal(alive, 1, 'the redo reports registeredAgain, not alive')
  await waitFor(async () => (await listInstances(service)).length === 1, 5000)
  t.ok(tr.lines.some((l) => /reconnecting/.test(l.msg) && /asked this client to reconnect/.test(JSON.stringify(l.obj))), 'logged why')

  // (The service is ephemeral: another application adds an ephemeral instance, over gRPC too.)
  const other = transport(t)
  await other.naming.register(instance(service, 18_072))
  await w.next((s) => byPort(s.hosts).join() === '18071,18072')
  t.pass('pushes arrive on the new connection')
})

t.test('ConnectResetRequest naming a server by host and port: the client moves to that one, not to another server on the same host', async (t) => {
  const appName = uniqueService('grpc-reset-port-app')
  const elsewhere = await closedPort()
  const [host, port] = NACOS_ADDR.split(':') as [string, string]
  // Two servers on one host: the first has nothing listening, so the connection is on the second.
  const tr = transport(t, { appName, serverAddr: [`${host}:${elsewhere}`, NACOS_ADDR] })
  await tr.naming.register(instance(uniqueService('grpc-reset-port'), 18_073))
  const [before] = await waitFor(async () => { const ids = await connectionsOf(appName); return ids.length === 1 ? ids : undefined }, 5000)
  const res = await fetch(`http://${NACOS_ADDR}/nacos/v2/core/loader/reloadClient?connectionId=${encodeURIComponent(before as string)}&redirectAddress=${encodeURIComponent(NACOS_ADDR)}`)
  t.equal(res.status, 200, await res.text())
  const [after] = await waitFor(async () => { const ids = await connectionsOf(appName); return ids.length === 1 && ids[0] !== before ? ids : undefined }, 10_000)
  t.not(after, before, 'a new connection replaced the old one')
  const why = tr.lines.filter((l) => /reconnecting/.test(l.msg)).map((l) => JSON.stringify(l.obj)).join('\n')
  t.match(why, `asked this client to reconnect to ${host}:${Number(port) + 1000}`, 'it moves to the server the request names, port and all')
})

/** A TCP proxy to Nacos's gRPC port whose open connections can be frozen (bytes no longer pass, sockets stay open). */
async function freezableProxy (target: number) {
  const frozen = new Set<Socket>()
  const pairs: Array<[Socket, Socket]> = []
  let freeze = false
  const server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1')
    pairs.push([client, upstream])
    const pass = (from: Socket, to: Socket): void => { from.on('data', (d: Buffer) => { if (!frozen.has(from)) to.write(d) }) }
    pass(client, upstream)
    pass(upstream, client)
    client.on('error', () => {})
    upstream.on('error', () => {})
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    if (freeze) { frozen.add(client); frozen.add(upstream) }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    /** Freezes the connections open now; new ones pass. */
    freezeOpen: () => { for (const [a, b] of pairs) { frozen.add(a); frozen.add(b) } },
    close: async () => { for (const [a, b] of pairs) { a.destroy(); b.destroy() } await new Promise((resolve) => server.close(resolve)) }
  }
}

t.test('a connection that stops answering (TCP still open) is detected by the health check, replaced, registration redone', async (t) => {
  const [host, httpPort] = NACOS_ADDR.split(':') as [string, string]
  const proxy = await freezableProxy(Number(httpPort) + 1000)
  t.teardown(proxy.close)
  const tr = transport(t, { serverAddr: [`${host}:${httpPort}`], grpcPortOffset: proxy.port - Number(httpPort), healthCheckIdleMs: 1000, healthCheckTimeoutMs: 500 })
  const service = uniqueService('grpc-frozen')
  const inst = instance(service, 18_081)
  await tr.naming.register(inst)
  let alive = 0
  const failures: Array<{ err: Error, at: number }> = []
  let again = 0
  tr.naming.keepAlive(inst, { alive: () => { alive++ }, lost: () => t.fail('lost'), failed: (err) => failures.push({ err, at: Date.now() }), registeredAgain: () => { again++ } })
  await waitFor(() => alive === 1, 2000)

  const frozenAt = Date.now()
  proxy.freezeOpen()
  await waitFor(() => failures.length > 0, 10_000)
  t.comment(`silent connection detected after ${failures[0]!.at - frozenAt} ms (idle 1000 ms + health check 2 x 500 ms)`)
  t.match(failures[0]!.err.message, /health check failed: DEADLINE_EXCEEDED/)
  await waitFor(() => again === 1, 10_000)
  t.pass('reconnected through a new connection and registered again')
  await waitFor(async () => (await listInstances(service)).some((h) => h.port === 18_081), 5000)
})

t.test('a SIGKILLed process that registered over gRPC leaves Nacos\'s list within ~2 s', async (t) => {
  const service = uniqueService('grpc-kill')
  const c = child({ SERVICE: service, PORT: '18021' })
  t.teardown(() => { c.proc.kill('SIGKILL') })
  await c.line('registered')
  await waitFor(async () => (await listInstances(service)).length === 1, 5000)
  const killedAt = Date.now()
  c.proc.kill('SIGKILL')
  await c.exited
  const goneAt = await waitFor(async () => (await listInstances(service)).length === 0 ? Date.now() : undefined, 10_000, 20)
  t.comment(`SIGKILL -> gone from Nacos's list: ${goneAt - killedAt} ms`)
  t.ok(goneAt - killedAt < 3000, `gone within 3 s (${goneAt - killedAt} ms)`)
})

t.test('watch: a push when another application registers an instance, and an empty list when the last one leaves', async (t) => {
  const open = await openPorts(1)
  t.teardown(open.close)
  const [port] = open.ports as [number]
  const service = uniqueService('grpc-watch')
  const tr = transport(t)
  const w = recordWatch(tr, service)
  t.teardown(w.stop)
  const other = recordWatch(tr, service, ['OTHER'])
  t.teardown(other.stop)
  await w.next((s) => s.hosts.length === 0, 5000) // the subscription's answer

  let start = Date.now()
  await register(service, { port, metadata: { from: 'http' } })
  const added = await w.next((s) => s.hosts.some((h) => h.port === port))
  t.comment(`push after an HTTP registration: ${added.at - start} ms`)
  t.match(added.snapshot.hosts.find((h) => h.port === port), { ip: '127.0.0.1', clusterName: 'DEFAULT', ephemeral: false, metadata: { from: 'http' } })
  t.ok(added.snapshot.lastRefTime > 0)
  t.ok(other.snapshots.every((s) => s.hosts.length === 0), 'a watcher of another cluster sees none of DEFAULT\'s hosts')

  const queries = (): number => tr.lines.filter((l) => l.msg === 'nacos grpc request' && (l.obj as { type?: string }).type === 'ServiceQueryRequest').length
  const queried = await tr.naming.query({ service, group: GROUP, clusters: [] })
  t.same(byPort(queried.hosts), [port], 'query answers the same')
  t.same((await tr.naming.query({ service, group: GROUP, clusters: ['OTHER'] })).hosts, [], 'query of another cluster: none')
  t.equal(queries(), 0, 'a service subscribed on this connection is answered from its pushes: no ServiceQueryRequest (discovery\'s re-read costs Nacos nothing)')
  await tr.naming.query({ service: uniqueService('grpc-unwatched'), group: GROUP, clusters: [] })
  t.equal(queries(), 1, 'a service not subscribed is asked of the server')

  start = Date.now()
  const count = w.snapshots.length
  await deregister(service, { port })
  const emptied = await w.next((s) => w.snapshots.indexOf(s) >= count && s.hosts.length === 0)
  t.comment(`push after the last instance left: ${emptied.at - start} ms`)
  t.ok(added.at - start < 5000 && emptied.at - start < 5000, 'both pushed within 5 s')
})

t.test('config: absent -> null; publish -> watch gets it; remove -> watch gets null', async (t) => {
  const tr = transport(t)
  const dataId = uniqueService('grpc-cfg')
  t.equal(await tr.config.get({ dataId, group: GROUP }), null, 'absent: null')
  const c = recordConfig(tr, dataId)
  t.teardown(c.stop)
  // The listen is in place once the server answered it (the line is logged with the answer).
  await waitFor(() => tr.lines.some((l) => l.msg === 'nacos grpc request' && (l.obj as { type?: string }).type === 'ConfigBatchListenRequest'))

  let start = Date.now()
  await tr.config.publish({ dataId, group: GROUP }, 'a: 1\n', 'yaml')
  const published = await c.next((v) => v === 'a: 1\n') - start
  t.comment(`config publish -> watch: ${published} ms`)
  t.equal(await waitFor(async () => await tr.config.get({ dataId, group: GROUP }), 3000), 'a: 1\n', 'get reads it')

  start = Date.now()
  await tr.config.publish({ dataId, group: GROUP }, 'a: 2\n', 'yaml')
  const changed = await c.next((v) => v === 'a: 2\n') - start
  t.comment(`config change -> watch: ${changed} ms`)

  start = Date.now()
  await tr.config.remove({ dataId, group: GROUP })
  const removed = await c.next((v) => v === null) - start
  t.comment(`config remove -> watch null: ${removed} ms`)
  t.same(c.values.map((v) => v.content), ['a: 1\n', 'a: 2\n', null], 'each change once, in order')
  t.ok(Math.max(published, changed, removed) < 5000, 'each one pushed within 5 s')
})

t.test('never connected and every server refuses: a request fails as soon as the round of servers is done, not at its deadline', async (t) => {
  const a = await closedPort()
  const b = await closedPort()
  const tr = transport(t, { serverAddr: [`127.0.0.1:${a - 1000}`, `127.0.0.1:${b - 1000}`], requestTimeoutMs: 60_000 })
  const start = Date.now()
  const outcome = await within(tr.config.get({ dataId: 'refused.json', group: GROUP }).then(() => 'answered', (e: unknown) => e),
    20_000, 'still waiting after 20 s of its 60 s')
  t.comment(`failed after ${Date.now() - start} ms`)
  t.match(outcome, { kind: 'unavailable', message: /no Nacos server answered on its gRPC port/ })
  const again = await tr.naming.query({ service: 'refused', group: GROUP, clusters: [] }).then(() => 'answered', (e: unknown) => e)
  t.match(again, { kind: 'unavailable' }, 'a request made later fails at once too')
})

t.test('probe: a closed gRPC port rejects, naming each server, its gRPC port, and the way out', async (t) => {
  const a = await closedPort()
  const b = await closedPort()
  const tr = transport(t, { serverAddr: [`127.0.0.1:${a - 1000}`, `127.0.0.1:${b - 1000}`] })
  const err = await tr.naming.probe().then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof GrpcTransportError)
  const message = (err as Error).message
  t.match(message, `127.0.0.1:${a}`)
  t.match(message, `127.0.0.1:${b}`)
  t.match(message, 'the gRPC port (HTTP port + 1000) must be reachable; or set NACOS_TRANSPORT=http')
  t.match(err, { kind: 'unavailable' })

  const start = Date.now()
  const reqErr = await createGrpcTransport({ serverAddr: [`127.0.0.1:${a - 1000}`], requestTimeoutMs: 800 }).naming.query({ service: 'x', group: GROUP, clusters: [] }).then(() => undefined, (e: unknown) => e)
  // Never connected, and the only server refused: it fails without waiting for its timeout.
  t.match(reqErr, { kind: 'unavailable', message: new RegExp(`no Nacos server answered on its gRPC port \\(127\\.0\\.0\\.1:${a}\\)`) })
  t.ok(Date.now() - start < 2500, 'a request gives up after requestTimeoutMs')

  const live = transport(t)
  await live.naming.probe()
  t.pass('the shared server answers the probe')
})

t.test('close: a process that registered, watched and closed exits by itself', async (t) => {
  const service = uniqueService('grpc-close')
  const c = child({ SERVICE: service, PORT: '18031', CLOSE: '1' })
  t.teardown(() => { c.proc.kill('SIGKILL') })
  const closedAt = await c.line('closed')
  const exit = await within(c.exited, 3000, undefined)
  t.ok(exit, `exited by itself (${c.output()})`)
  t.equal(exit?.code, 0)
  t.comment(`exit ${exit ? exit.at - closedAt : '>3000'} ms after close()`)
  // Its connection is gone, so is its instance.
  await waitFor(async () => (await listInstances(service)).length === 0, 5000)
})
