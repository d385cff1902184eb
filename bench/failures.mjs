// Measures of issue 17, each taken for both transports and the official Java client (bench/java.mjs)
// at the same time (same machine load, same Nacos), at default settings, seen through Nacos's own
// HTTP API: a SIGKILLed app → gone; Nacos restarted → listed again; a change made through Nacos's
// API → in the app's discovery cache. Results are keyed by transport and `java`.
import Fastify from 'fastify'
import nacos from '../dist/index.js'
import { FIXTURE, summary } from './latency.mjs'
import { JavaPeer } from './java.mjs'
import { ranBeforeOutage } from './outage.mjs'
import {
  NACOS_ADDR, TRANSPORTS, apiInstance, freeNacosPort, listed, nacosScript, noHealthy, sleep, startChild,
  tcpListener, uniqueService, unlisted, waitFor
} from './lib.mjs'

const KILL_ROUNDS = 3
const CHANGE_ROUNDS = 5
const opts = { ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'warn' }
const COLUMNS = [...TRANSPORTS, 'java']

/** A Java client (naming only) registered as a new service (127.0.0.1 and a listening port) with `addr`. */
async function javaRegistered (prefix, addr = NACOS_ADDR) {
  const serviceName = uniqueService(`${prefix}-java`)
  const peer = new JavaPeer(addr, { namingOnly: true })
  const server = await tcpListener()
  const close = async () => { await peer.close(); await server.close() }
  try {
    await peer.ready()
    await peer.request(`register ${serviceName} ${server.port}`, 'registered')
  } catch (err) {
    await close()
    throw err
  }
  return { transport: 'java', serviceName, peer, close }
}

/** Resolves with ms since `t0` once `check` holds (polled every `interval` ms). */
async function elapsed (check, t0, timeout, interval = 5) {
  await waitFor(check, timeout, interval)
  return performance.now() - t0
}

/**
 * SIGKILL → no healthy instance (what consumers are routed to) and → gone from the list. One child
 * per transport (test/fixtures/app.mjs, default settings) and a Java client registered the same
 * way, all killed at the same moment.
 */
export async function sigkillToGone () {
  const out = Object.fromEntries(COLUMNS.map((t) => [t, { unhealthy: [], gone: [] }]))
  for (let round = 0; round < KILL_ROUNDS; round++) {
    const started = await Promise.allSettled([...TRANSPORTS.map(async (transport) => {
      const serviceName = uniqueService(`kill-${transport}`)
      const child = await startChild(FIXTURE, { NACOS_SERVER_ADDR: NACOS_ADDR, NACOS_SERVICE_NAME: serviceName, NACOS_TRANSPORT: transport })
      return { transport, serviceName, kill: () => child.proc.kill('SIGKILL'), close: async () => { child.proc.kill('SIGKILL'); await child.exited } }
    }), javaRegistered('kill').then((j) => ({ ...j, kill: () => j.peer.kill() }))])
    const apps = started.filter((r) => r.status === 'fulfilled').map((r) => r.value)
    try {
      const failed = started.find((r) => r.status === 'rejected')
      if (failed) throw failed.reason
      await Promise.all(apps.map(async ({ serviceName }) => await waitFor(listed(serviceName), 10_000)))
      // Past start-up: the HTTP transport's first beats are sent, the gRPC connection is settled.
      await sleep(2000)
      const t0 = performance.now()
      for (const { kill } of apps) kill()
      await Promise.all(apps.map(async ({ transport, serviceName }) => {
        out[transport].unhealthy.push(await elapsed(noHealthy(serviceName), t0, 60_000, 20))
        out[transport].gone.push(await elapsed(unlisted(serviceName), t0, 90_000, 20))
      }))
    } finally {
      await Promise.all(apps.map(async ({ close }) => await close()))
    }
  }
  return Object.fromEntries(COLUMNS.map((t) => [t, { unhealthy: summary(out[t].unhealthy), gone: summary(out[t].gone) }]))
}

/**
 * A private Nacos (on a port found free at run time) stopped and started under one registered app
 * per transport and a registered Java client, default settings: from the moment the start script
 * saw Nacos ready → listed again. In the same restart, issue 22's rows (bench/outage.mjs): apps
 * that ran before, restarted while Nacos is down → ready, and → listed once Nacos is ready.
 */
export async function restartToListed () {
  // BENCH_RESTART_NACOS_PORT: a port of one's own on a shared machine (its +1000 and +1001 too).
  const port = process.env.BENCH_RESTART_NACOS_PORT ? Number(process.env.BENCH_RESTART_NACOS_PORT) : await freeNacosPort()
  const addr = `127.0.0.1:${port}`
  await nacosScript('start', port)
  const apps = []
  let outage
  try {
    outage = await ranBeforeOutage(addr)
    for (const transport of TRANSPORTS) {
      const serviceName = uniqueService(`restart-${transport}`)
      const app = Fastify()
      apps.push({ transport, serviceName, close: async () => await app.close() })
      await app.register(nacos, { ...opts, transport, serverAddr: addr, serviceName })
      await app.listen({ port: 0, host: '127.0.0.1' })
    }
    apps.push(await javaRegistered('restart', addr))
    await Promise.all(apps.map(async ({ serviceName }) => await waitFor(listed(serviceName, addr), 10_000)))
    await nacosScript('stop', port)
    const ready = await outage.restart()
    const down = performance.now()
    await nacosScript('start', port)
    const t0 = performance.now()
    const ms = {}
    const [registered] = await Promise.all([outage.registered(t0), ...apps.map(async ({ transport, serviceName }) => {
      ms[transport] = await elapsed(listed(serviceName, addr), t0, 120_000)
    })])
    return { port, ms, downMs: t0 - down, outage: { ready, registered } }
  } finally {
    await outage?.close()
    await Promise.all(apps.map(async ({ close }) => await close()))
    await nacosScript('stop', port)
  }
}

/**
 * Another instance registered through Nacos's HTTP API → in the app's discovery cache (the
 * `app.nacos.subscribe` listener sees it). One app per transport, subscribed to the same service,
 * and a Java client subscribed to it too: its "instances" event's wall-clock time minus a
 * Date.now() taken with the round's t0.
 */
export async function changeToCache () {
  const serviceName = uniqueService('change')
  const base = await tcpListener()
  await apiInstance('POST', serviceName, base.port)
  const apps = []
  const out = Object.fromEntries(COLUMNS.map((t) => [t, []]))
  const java = new JavaPeer(NACOS_ADDR, { namingOnly: true })
  /** The Java client's first "instances" event from index `from` on whose ports satisfy `match`. */
  const javaSees = async (match, from) => await java.next((e) => e.event === 'instances' && match(new Set(e.instances.map((i) => i.port))), 30_000, from)
  try {
    await java.ready()
    await java.request(`subscribe ${serviceName}`, 'subscribed')
    for (const transport of TRANSPORTS) {
      const app = Fastify()
      await app.register(nacos, { ...opts, transport, serverAddr: NACOS_ADDR, serviceName: `bench-watcher-${transport}`, registerEnabled: false })
      await app.ready()
      const seen = { ports: new Set(), at: 0 }
      const unsubscribe = app.nacos.subscribe(serviceName, (instances) => {
        seen.ports = new Set(instances.map((i) => i.port))
        seen.at = performance.now()
      })
      apps.push({ transport, app, seen, unsubscribe })
    }
    await waitFor(async () => apps.every(({ seen }) => seen.ports.has(base.port)), 10_000)
    await javaSees((ports) => ports.has(base.port), 0)
    await sleep(1000)
    for (let round = 0; round < CHANGE_ROUNDS; round++) {
      const added = await tcpListener()
      const port = added.port
      let from = java.events.length
      const t0 = performance.now()
      const wall0 = Date.now()
      await apiInstance('POST', serviceName, port)
      await Promise.all([...apps.map(async ({ transport, seen }) => {
        await waitFor(async () => seen.ports.has(port), 30_000, 1)
        out[transport].push(seen.at - t0)
      }), javaSees((ports) => ports.has(port), from).then((e) => out.java.push(e.at - wall0))])
      from = java.events.length
      await apiInstance('DELETE', serviceName, port)
      await waitFor(async () => apps.every(({ seen }) => !seen.ports.has(port)), 30_000)
      await javaSees((ports) => !ports.has(port), from)
      await added.close()
      await sleep(300)
    }
  } finally {
    for (const { app, unsubscribe } of apps) {
      unsubscribe()
      await app.close()
    }
    await java.close()
    await apiInstance('DELETE', serviceName, base.port).catch(() => {})
    await base.close()
  }
  return Object.fromEntries(COLUMNS.map((t) => [t, summary(out[t])]))
}
