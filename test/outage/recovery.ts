// Nacos restarted while an app runs: the app is registered again once Nacos is back, with its
// metadata (the suite's transport, NACOS_TRANSPORT).
import Fastify from 'fastify'
import type { Test } from 'tap'
import nacos from '../../src/index.ts'
import { listInstances, uniqueService, waitFor } from '../helpers/nacos-api.ts'
import type { OutageParty } from '../helpers/outage.ts'
import { SUITE_TRANSPORT } from '../helpers/transports.ts'

export const title = 'Nacos restarted while the app runs: registered again promptly (HTTP: within two heartbeat intervals)'

export async function scenario (t: Test, { addr, down, up }: OutageParty): Promise<void> {
  const serviceName = uniqueService('restart')
  const app = Fastify()
  await app.register(nacos, { serverAddr: addr, ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'silent', serviceName, heartbeatInterval: 1, deregisterTime: 3, metadata: { survived: 'yes' } })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  await waitFor(async () => (await listInstances(serviceName, { addr })).length === 1, 5000)
  await down()
  await waitFor(() => app.nacos.status().state === 'retrying', 5000)
  const upAt = await up()
  const [host] = await waitFor(async () => { const l = await listInstances(serviceName, { addr }); return l.length ? l : undefined }, 10_000, 20)
  const ms = Date.now() - upAt
  t.comment(`${SUITE_TRANSPORT}: Nacos ready → re-registered and listed: ${ms} ms (HTTP heartbeat 1 s; gRPC reconnect backoff ≤ 5 s)`)
  if (SUITE_TRANSPORT === 'http') {
    t.ok(ms < 2000 + 600, `within two heartbeat intervals plus Nacos's publish delay (${ms} ms)`)
    t.ok(app.nacos.status().counts.failedBeats >= 1)
  } else {
    t.ok(ms < 5000 + 600, `within the longest reconnect backoff plus Nacos's publish delay (${ms} ms)`)
  }
  t.equal(host?.metadata.survived, 'yes', 'with its metadata')
  await waitFor(() => app.nacos.status().state === 'registered', 2000)
}
