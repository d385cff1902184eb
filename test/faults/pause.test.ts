// A Nacos JVM frozen with SIGSTOP answers nothing, yet accepts connections (the kernel still
// completes the handshake): the worst kind of slow. Requests to it must end at the request
// timeout, the app must keep serving its own routes at full speed, and registration must recover
// once the JVM resumes. Over HTTP the heartbeats show the hang; over gRPC (no heartbeats, and a
// pause shorter than the health check's idle time plus its timeouts) a lookup made meanwhile does.
import t from 'tap'
import Fastify from 'fastify'
import nacos from '../../src/index.ts'
import { uniqueService, waitFor } from '../helpers/nacos-api.ts'
import { ADDRS, PORTS, listedEverywhere, signalNode } from '../helpers/cluster.ts'
import { TRANSPORTS } from '../helpers/transports.ts'

const base = { ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'silent' as const }
const PAUSE_MS = 6000
const REQUEST_TIMEOUT = 1000
const paused = PORTS[0]

t.teardown(() => { signalNode(paused, 'SIGCONT') })

for (const transport of TRANSPORTS) {
  t.test(`${transport}: the JVM of the node an app talks to is paused longer than the request timeout, then resumed`, async (t) => {
    const serviceName = uniqueService('paused')
    const app = Fastify()
    app.get('/ping', async () => 'pong')
    // This app knows only the node that will be paused; a second app knows all three.
    await app.register(nacos, { ...base, transport, serverAddr: `127.0.0.1:${paused}`, serviceName, heartbeatInterval: 1, deregisterTime: 3, requestTimeout: REQUEST_TIMEOUT })
    t.teardown(() => app.close())
    const otherService = uniqueService('paused-peer')
    const other = Fastify()
    await other.register(nacos, { ...base, transport, serverAddr: ADDRS, serviceName: otherService, heartbeatInterval: 1, deregisterTime: 3, requestTimeout: REQUEST_TIMEOUT })
    t.teardown(() => other.close())
    await app.listen({ port: 0, host: '127.0.0.1' })
    await other.listen({ port: 0, host: '127.0.0.1' })
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/ping`
    await waitFor(async () => await listedEverywhere(serviceName, 1) && await listedEverywhere(otherService, 1), 10_000, 100)

    signalNode(paused, 'SIGSTOP')
    const pausedAt = Date.now()
    // A lookup of a service not cached yet has to ask the frozen node.
    const lookup = app.nacos.instances(uniqueService('paused-lookup')).then(() => 'answered', (err: Error) => err.message)
    const lookupEnded = lookup.then(() => Date.now() - pausedAt)
    let slowest = 0
    let served = 0
    let wrong = 0
    while (Date.now() - pausedAt < PAUSE_MS) {
      const sent = performance.now()
      const res = await fetch(url)
      if (await res.text() !== 'pong') wrong++
      slowest = Math.max(slowest, performance.now() - sent)
      served++
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const during = app.nacos.status()
    const peerListed = await listedEverywhere(otherService, 1, PORTS.filter((p) => p !== paused))
    signalNode(paused, 'SIGCONT')
    const resumedAt = Date.now()
    t.comment(`paused ${resumedAt - pausedAt} ms: ${served} requests to the app's own route, slowest ${slowest.toFixed(1)} ms; ` +
      `plugin state ${during.state}, failed beats ${during.counts.failedBeats}, last error "${during.lastError}"`)
    t.equal(wrong, 0, `every one of the ${served} requests answered 'pong'`)
    t.ok(slowest < 100, `the app's own route stayed fast while Nacos hung (slowest ${slowest.toFixed(1)} ms)`)
    t.comment(`a lookup sent at the pause ended after ${await lookupEnded} ms: ${await lookup}`)
    t.match(await lookup, new RegExp(`(within|after) ${REQUEST_TIMEOUT} ms`), 'the lookup failed at the request timeout, naming it')
    t.ok(await lookupEnded < REQUEST_TIMEOUT + 1000, 'and did not hang')
    if (transport === 'http') {
      t.equal(during.state, 'retrying', 'the plugin noticed')
      t.match(during.lastError, `timed out after ${REQUEST_TIMEOUT} ms`, 'requests ended at the request timeout')
      // Beats go out every second and each hangs 1 s at most: a stuck request would stop the count.
      t.ok(during.counts.failedBeats >= 2, `heartbeats kept being tried (${during.counts.failedBeats} failed)`)
    } else {
      // The connection was not condemned for a pause this short: nothing to register again.
      t.equal(during.state, 'registered', 'still registered: the frozen node lost nothing')
    }

    // Recovered means: a heartbeat (or a registration) answered after the resume, and every node
    // listing the instance. Which of the two it takes depends on whether the paused node owned the
    // instance (then nothing expired) or another node expired it meanwhile (then 20404, register).
    // Over gRPC nothing is sent unasked after a pause this short: registered and listed is recovered.
    const answeredSinceResume = (): boolean => {
      const s = app.nacos.status()
      return s.state === 'registered' && (transport === 'grpc' || Math.max(Date.parse(s.lastBeatAt ?? ''), Date.parse(s.registeredAt ?? '')) > resumedAt)
    }
    await waitFor(async () => answeredSinceResume() && await listedEverywhere(serviceName, 1), 20_000, 50)
    t.comment(`resumed → answered again and listed healthy on every node: ${Date.now() - resumedAt} ms; re-registrations ${app.nacos.status().counts.reRegistrations}`)
    t.ok(answeredSinceResume(), 'registered, with Nacos answering since the resume')
    t.ok(peerListed, 'meanwhile, the app that knows all three nodes stayed listed and healthy on the other two')
    // The resumed node catches up with the others by Distro sync; bounded, not instant.
    await waitFor(async () => await listedEverywhere(otherService, 1), 10_000, 50)
    t.comment(`resumed → the app that knows all three nodes listed once on every node: ${Date.now() - resumedAt} ms`)
    t.equal(other.nacos.status().state, 'registered')
  })
}
