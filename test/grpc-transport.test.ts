// The native gRPC transport against a real Nacos, through the Transport interface only; what
// Nacos itself reports is read over its own HTTP API. Private servers (auth, restart) run on
// ports the OS hands out.
import t from 'tap'
import { spawn } from 'node:child_process'
import { createServer, connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { createGrpcTransport, GrpcTransportError, type GrpcTransportOptions } from '../src/transport/grpc/index.ts'
import type { InstanceSpec, ServiceSnapshot, Transport } from '../src/transport/types.ts'
import { NACOS_ADDR, listInstances, uniqueService, waitFor, type NacosHost } from './helpers/nacos-api.ts'
import { closedPort, deregister, openPorts, recordingLog, register } from './helpers/instances.ts'
import { startNacos, stopNacos } from './helpers/private-nacos.ts'
import { freeNacosPort } from './helpers/ports.ts'

const CHILD = fileURLToPath(new URL('./fixtures/grpc-child.ts', import.meta.url))
const GROUP = 'DEFAULT_GROUP'

function transport (t: { teardown: (fn: () => Promise<void>) => void }, opts: Partial<GrpcTransportOptions> = {}): Transport & { lines: ReturnType<typeof recordingLog>['lines'] } {
  const { log, lines } = recordingLog()
  const tr = createGrpcTransport({ serverAddr: [NACOS_ADDR], log, ...opts })
  t.teardown(async () => { await tr.close() })
  return Object.assign(tr, { lines })
}

function instance (service: string, port: number, extra: Partial<InstanceSpec> = {}): InstanceSpec {
  return { serviceName: service, groupName: GROUP, ip: '127.0.0.1', port, clusterName: 'DEFAULT', weight: 1, ephemeral: true, enabled: true, metadata: {}, ...extra }
}

/** Resolves with the first snapshot `watch` delivers that satisfies `check`, and when. */
function nextSnapshot (snapshots: ServiceSnapshot[], listeners: Set<() => void>, check: (s: ServiceSnapshot) => boolean, timeout = 8000): Promise<{ snapshot: ServiceSnapshot, at: number }> {
  return new Promise((resolve, reject) => {
    const seen = (): boolean => {
      const hit = snapshots.find(check)
      if (!hit) return false
      clearTimeout(timer)
      listeners.delete(seen)
      resolve({ snapshot: hit, at: Date.now() })
      return true
    }
    const timer = setTimeout(() => { listeners.delete(seen); reject(new Error(`no such snapshot within ${timeout} ms; got ${JSON.stringify(snapshots.map((s) => s.hosts.map((h) => h.port)))}`)) }, timeout)
    listeners.add(seen)
    seen()
  })
}

function recordWatch (tr: Transport, service: string, clusters: string[] = []) {
  const snapshots: ServiceSnapshot[] = []
  const listeners = new Set<() => void>()
  const stop = tr.naming.watch({ service, group: GROUP, clusters }, (s) => {
    snapshots.push(s)
    for (const l of [...listeners]) l()
  })
  return { snapshots, stop, next: (check: (s: ServiceSnapshot) => boolean, timeout?: number) => nextSnapshot(snapshots, listeners, check, timeout) }
}

function recordConfig (tr: Transport, dataId: string) {
  const values: Array<{ content: string | null, at: number }> = []
  const listeners = new Set<() => void>()
  const stop = tr.config.watch({ dataId, group: GROUP }, (content) => {
    values.push({ content, at: Date.now() })
    for (const l of [...listeners]) l()
  })
  const next = (check: (c: string | null) => boolean, timeout = 8000): Promise<number> => new Promise((resolve, reject) => {
    const seen = (): void => {
      const hit = values.find((v) => check(v.content))
      if (!hit) return
      clearTimeout(timer)
      listeners.delete(seen)
      resolve(hit.at)
    }
    const timer = setTimeout(() => { listeners.delete(seen); reject(new Error(`config value not seen within ${timeout} ms; got ${JSON.stringify(values)}`)) }, timeout)
    listeners.add(seen)
    seen()
  })
  return { values, stop, next }
}

const byPort = (hosts: Array<{ port: number }>): number[] => hosts.map((h) => h.port).sort((a, b) => a - b)

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

  const queried = await tr.naming.query({ service, group: GROUP, clusters: [] })
  t.same(byPort(queried.hosts), [port], 'query answers the same')
  t.same((await tr.naming.query({ service, group: GROUP, clusters: ['OTHER'] })).hosts, [], 'query of another cluster: none')

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
  const published = await c.next((v) => v === 'a: 1\n')
  t.comment(`config publish -> watch: ${published - start} ms`)
  t.equal(await waitFor(async () => await tr.config.get({ dataId, group: GROUP }), 3000), 'a: 1\n', 'get reads it')

  start = Date.now()
  await tr.config.publish({ dataId, group: GROUP }, 'a: 2\n', 'yaml')
  const changed = await c.next((v) => v === 'a: 2\n')
  t.comment(`config change -> watch: ${changed - start} ms`)

  start = Date.now()
  await tr.config.remove({ dataId, group: GROUP })
  const removed = await c.next((v) => v === null)
  t.comment(`config remove -> watch null: ${removed - start} ms`)
  t.same(c.values.map((v) => v.content), ['a: 1\n', 'a: 2\n', null], 'each change once, in order')
  t.ok(published - start < 5000)
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
  t.match(reqErr, { kind: 'unavailable', message: new RegExp(`no gRPC connection to Nacos within 800 ms .*127\\.0\\.0\\.1:${a}`) })
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
  const exit = await Promise.race([c.exited, new Promise<undefined>((resolve) => setTimeout(() => { resolve(undefined) }, 3000))])
  t.ok(exit, `exited by itself (${c.output()})`)
  t.equal(exit?.code, 0)
  t.comment(`exit ${exit ? exit.at - closedAt : '>3000'} ms after close()`)
  // Its connection is gone, so is its instance.
  await waitFor(async () => (await listInstances(service)).length === 0, 5000)
})


async function tokenFor (addr: string): Promise<string> {
  const res = await fetch(`http://${addr}/nacos/v1/auth/login`, { method: 'POST', body: new URLSearchParams({ username: 'nacos', password: 'nacos' }) })
  return (await res.json() as { accessToken: string }).accessToken
}

async function listAuthed (addr: string, service: string): Promise<NacosHost[]> {
  const res = await fetch(`http://${addr}/nacos/v1/ns/instance/list?serviceName=${service}&accessToken=${await tokenFor(addr)}`)
  if (res.status !== 200) throw new Error(`list: ${res.status}`)
  return (await res.json() as { hosts: NacosHost[] }).hosts
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
  t.match(refusedLogin, { kind: 'auth', message: /Nacos login as "nacos" failed: 127\.0\.0\.1:\d+ answered 403/ })
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
