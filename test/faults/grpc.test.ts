// The fault suite's other files prove the HTTP transport (beats, expiry, the Distro owner of an
// ip:port). Over gRPC an instance is bound to its connection: a SIGKILLed app leaves every node
// at once, and when the node it is connected to dies the transport moves to another node and
// registers again there.
import t from 'tap'
import Fastify from 'fastify'
import { Writable } from 'node:stream'
import nacos from '../../src/index.ts'
import { startApp } from '../helpers/child.ts'
import { uniqueService, waitFor } from '../helpers/nacos-api.ts'
import { ADDRS, PORTS, clusterStart, listEverywhere, listedEverywhere, signalNode } from '../helpers/cluster.ts'

t.teardown(async () => { await clusterStart() })

t.test('gRPC, SIGKILLed app: every node drops the instance within 3 s', async (t) => {
  const serviceName = uniqueService('grpc-sigkill')
  const child = await startApp({ NACOS_TRANSPORT: 'grpc', NACOS_SERVER_ADDR: ADDRS.join(','), NACOS_SERVICE_NAME: serviceName })
  t.teardown(() => { child.proc.kill('SIGKILL') })
  await waitFor(async () => await listedEverywhere(serviceName, 1), 10_000, 100)
  const killedAt = Date.now()
  child.proc.kill('SIGKILL')
  await child.exited
  await waitFor(async () => (await listEverywhere(serviceName)).every((hosts) => hosts.length === 0), 15_000, 50)
  const goneMs = Date.now() - killedAt
  t.comment(`gRPC: SIGKILL → gone from all three nodes: ${goneMs} ms (no heartbeat timeout involved)`)
  t.ok(goneMs <= 3000, `removed within 3 s (${goneMs} ms)`)
})

t.test('gRPC: the node the app is connected to is killed: registered again through another node; restarted, no duplicates', async (t) => {
  const serviceName = uniqueService('grpc-node-loss')
  let connectedTo: number | undefined
  const stream = new Writable({
    write (chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) {
        const m = /"server":"127\.0\.0\.1:(\d+)".*"msg":"nacos grpc connected"/.exec(line)
        if (m) connectedTo = Number(m[1]) - 1000
      }
      cb()
    }
  })
  const app = Fastify({ logger: { level: 'info', stream } })
  await app.register(nacos, { transport: 'grpc', serverAddr: ADDRS, serviceName, ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'info', requestTimeout: 2000, monitoring: false })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  await waitFor(async () => await listedEverywhere(serviceName, 1), 10_000, 100)
  const owner = connectedTo as number
  t.ok(PORTS.includes(owner as typeof PORTS[number]), `connected to node ${owner}`)
  const survivors = PORTS.filter((p) => p !== owner)
  signalNode(owner, 'SIGKILL')
  const killedAt = Date.now()
  await waitFor(() => connectedTo !== owner, 20_000, 50)
  const movedMs = Date.now() - killedAt
  // The survivors may still list the copy Distro gave them before the kill, so a listing alone
  // does not prove the redo: the plugin must also say 'registered' again (the redo answered).
  await waitFor(() => app.nacos.status().state === 'registered', 30_000, 20)
  const redoneMs = Date.now() - killedAt
  // The survivors may drop the instance when they find the node dead; then the redo lists it again.
  await waitFor(async () => await listedEverywhere(serviceName, 1, survivors), 30_000, 100)
  const listedMs = Date.now() - killedAt
  t.comment(`gRPC: node ${owner} killed → connected to ${connectedTo} after ${movedMs} ms → registered again ${redoneMs} ms → listed healthy on both survivors ${listedMs} ms after the kill`)
  t.ok(listedMs < 30_000)
  t.equal(app.nacos.status().state, 'registered')
  t.equal(app.nacos.status().counts.reRegistrations, 1, 'the redo counts as one re-registration')

  await clusterStart()
  await waitFor(async () => await listedEverywhere(serviceName, 1), 30_000, 200)
  for (let i = 0; i < 6; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500))
    const lists = await listEverywhere(serviceName)
    t.same(lists.map((hosts) => hosts.length), PORTS.map(() => 1), `round ${i}: each node lists it exactly once`)
  }
})
