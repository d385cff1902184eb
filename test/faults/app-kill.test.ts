// An app registered with the cluster over HTTP is SIGKILLed: no deregistration is ever sent, so
// the cluster itself must expire the instance on the schedule the app registered with. (Over gRPC
// the instance goes with its connection, at once: test/faults/grpc.test.ts.)
import t from 'tap'
import { startApp } from '../helpers/child.ts'
import { waitFor, uniqueService } from '../helpers/nacos-api.ts'
import { ADDRS, listEverywhere, listedEverywhere } from '../helpers/cluster.ts'

t.test('HTTP, SIGKILLed app: every node drops the instance within the deregister time plus one expiry check', async (t) => {
  const serviceName = uniqueService('cluster-sigkill')
  const child = await startApp({
    NACOS_TRANSPORT: 'http', NACOS_SERVER_ADDR: ADDRS.join(','), NACOS_SERVICE_NAME: serviceName, NACOS_HEARTBEAT_INTERVAL: '1', NACOS_DEREGISTER_TIME: '3'
  })
  t.teardown(() => { child.proc.kill('SIGKILL') })
  await waitFor(async () => await listedEverywhere(serviceName, 1), 10_000, 100)
  // Beating for a while first: the instance must expire because beats stop, not because it is new.
  await new Promise((resolve) => setTimeout(resolve, 3000))
  t.ok(await listedEverywhere(serviceName, 1), 'kept alive by heartbeats before the kill')
  const killedAt = Date.now()
  child.proc.kill('SIGKILL')
  await child.exited
  await waitFor(async () => (await listEverywhere(serviceName)).every((hosts) => hosts.length === 0), 15_000, 50)
  const goneMs = Date.now() - killedAt
  t.comment(`SIGKILL → gone from all three nodes: ${goneMs} ms (deregister time 3 s; Nacos checks every 5 s)`)
  // The owning node's expiry check runs every 5 s, so its verdict may lag the configured time by up to 5 s.
  t.ok(goneMs <= 3000 + 5500, `removed within the deregister time + one check period (${goneMs} ms)`)
  t.ok(goneMs >= 2500, `not before the deregister time (${goneMs} ms)`)
})
