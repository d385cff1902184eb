// Interop with the official Nacos Java client (the one Spring Cloud Alibaba services use), over
// each transport: what one side registers or publishes, the other side sees through its own API.
// Figures are printed as comments; the goals (deregistration < 1 s, a killed Java service gone
// from our cache < 2 s) are asserted with head-room for a loaded CI machine.
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import nacos from '../src/index.ts'
import type { Instance } from '../src/naming/balancer.ts'
import { NACOS_ADDR, uniqueService, waitFor, within } from './helpers/nacos-api.ts'
import { startApp } from './helpers/child.ts'
import { freePort } from './helpers/ports.ts'
import { JavaPeer, buildPeer, hostsOf, type PeerEvent } from './helpers/java-peer.ts'
import { TRANSPORTS, type TransportName } from './helpers/transports.ts'

interface Teardown { teardown: (fn: () => unknown) => void }

// Java's subscriber after our SIGTERM; our cache after the Java process is SIGKILLed.
const DEREGISTER_LIMIT = 3000
const KILLED_LIMIT = 4000

const classpath = buildPeer()
// NACOS_USERNAME/NACOS_PASSWORD: the compat run (scripts/test-compat.sh) also runs this with auth on.
const auth = process.env.NACOS_USERNAME && process.env.NACOS_PASSWORD ? [process.env.NACOS_USERNAME, process.env.NACOS_PASSWORD] : []

async function peer (t: Teardown): Promise<JavaPeer> {
  const p = new JavaPeer(classpath, auth)
  t.teardown(() => p.close())
  await p.next((e) => e.event === 'ready', 30_000)
  return p
}

async function ourApp (t: Teardown, transport: TransportName): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(nacos, { serverAddr: NACOS_ADDR, transport, serviceName: uniqueService('interop-us'), registerEnabled: false, dotenv: false, handleSignals: false, logLevel: 'warn' })
  t.teardown(() => app.close())
  await app.ready()
  return app
}

const has = (list: readonly { port: number }[], port: number): boolean => list.some((h) => h.port === port)

/** Publishes until the other side's listener shows it has reached the server (its registration is asynchronous). */
async function warmUp (publish: (content: string) => Promise<unknown>, seen: (content: string) => boolean): Promise<void> {
  for (let i = 0; ; i++) {
    const content = `warm-up-${i}`
    await publish(content)
    try {
      await waitFor(() => seen(content), 1000)
      return
    } catch (err) {
      if (i >= 14) throw err
    }
  }
}

for (const transport of TRANSPORTS) {
  t.test(`${transport} transport with the Java client`, async (t) => {
    await t.test('Java discovers our instance, healthy, with our metadata, and sees our SIGTERM deregistration', async (t) => {
      const service = uniqueService('interop-ours')
      const java = await peer(t)
      await java.request(`subscribe ${service}`, 'subscribed')
      const app = await startApp({ NACOS_SERVER_ADDR: NACOS_ADDR, NACOS_TRANSPORT: transport, NACOS_SERVICE_NAME: service, NACOS_METADATA: '{"zone":"z1","lang":"node"}' })
      t.teardown(() => { app.proc.kill('SIGKILL') })
      const pushed = await java.next((e) => e.event === 'instances' && has(hostsOf(e), app.port))
      t.match(hostsOf(pushed).find((h) => h.port === app.port), { ip: '127.0.0.1', healthy: true, enabled: true, metadata: { zone: 'z1', lang: 'node' } }, 'pushed to the subscriber')
      const listed = await java.request(`list ${service}`, 'list')
      t.match(hostsOf(listed), [{ ip: '127.0.0.1', port: app.port, healthy: true, metadata: { zone: 'z1', 'fastify-nacos.version': /^fastify-nacos@/ } }], 'getAllInstances')

      const from = java.events.length
      const signalled = Date.now()
      app.proc.kill('SIGTERM')
      const gone = await java.next((e) => e.event === 'instances' && !has(hostsOf(e), app.port), 10_000, from)
      const ms = gone.at - signalled
      t.comment(`${transport}: SIGTERM → Java subscriber sees the instance gone: ${ms} ms (goal < 1000)`)
      t.ok(ms < DEREGISTER_LIMIT, `within ${DEREGISTER_LIMIT} ms`)
      t.equal((await app.exited).code, 0)
    })

    await t.test('we see a Java-registered instance; when the Java process is SIGKILLed it leaves our cache', async (t) => {
      const service = uniqueService('interop-java')
      const port = await freePort()
      const app = await ourApp(t, transport)
      const java = await peer(t)
      await java.request(`register ${service} ${port} zone=j1,lang=java`, 'registered')
      const list = await waitFor(async () => { const l = await app.nacos.instances(service); return has(l, port) ? l : undefined }, 10_000)
      t.match(list, [{ ip: '127.0.0.1', port, healthy: true, enabled: true, metadata: { zone: 'j1', lang: 'java' } }])
      t.match(await app.nacos.pick(service), { ip: '127.0.0.1', port })

      const left = new Promise<number>((resolve) => {
        const off = app.nacos.subscribe(service, (l: readonly Instance[]) => { if (!has(l, port)) { off(); resolve(Date.now()) } })
      })
      const killed = Date.now()
      java.kill('SIGKILL')
      const ms = await within(left, 10_000, -1) - killed
      t.comment(`${transport}: Java SIGKILLed → gone from our cache: ${ms} ms (goal < 2000)`)
      t.ok(ms >= 0 && ms < KILLED_LIMIT, `within ${KILLED_LIMIT} ms`)
      t.same(await app.nacos.instances(service), [])
      await t.rejects(app.nacos.pick(service), { code: 'FST_NACOS_NO_INSTANCE' })
    })

    await t.test('a config Java publishes reaches our watch; one we publish reaches a Java listener', async (t) => {
      const app = await ourApp(t, transport)
      const java = await peer(t)
      const fromJava = `${uniqueService('interop-from-java')}.txt`
      const seen: Array<{ value: string | undefined, at: number }> = []
      const off = app.nacos.config.watch(fromJava, { type: 'text' }, (value) => seen.push({ value, at: Date.now() }))
      t.teardown(off)
      await warmUp(async (c) => await java.request(`publish ${fromJava} DEFAULT_GROUP ${c}`, 'published'), (c) => seen.some((s) => s.value === c))
      let sent = Date.now()
      await java.request(`publish ${fromJava} DEFAULT_GROUP from java`, 'published')
      const got = await waitFor(() => seen.find((s) => s.value === 'from java'), 10_000)
      t.comment(`${transport}: Java publishConfig → our watch: ${got.at - sent} ms`)

      const fromUs = `${uniqueService('interop-from-us')}.txt`
      await java.request(`listen ${fromUs} DEFAULT_GROUP`, 'listening')
      const javaSaw = (content: string) => (e: PeerEvent): boolean => e.event === 'config' && e.dataId === fromUs && e.content === content
      await warmUp(async (c) => await app.nacos.config.publish(fromUs, c), (c) => java.events.some(javaSaw(c)))
      sent = Date.now()
      await app.nacos.config.publish(fromUs, 'from node')
      const heard = await java.next(javaSaw('from node'))
      t.comment(`${transport}: our publish → Java listener: ${heard.at - sent} ms`)
      t.equal(heard.content, 'from node')
    })
  })
}
