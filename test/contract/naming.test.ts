// Contract suite, the naming side of each transport against the real Nacos: what the registry and
// discovery rely on — register, query, keepAlive's events, deregister, probe — said the same way
// by every transport.
import t from 'tap'
import type { InstanceSpec } from '../../src/transport/types.ts'
import { instanceCall, listInstances, uniqueService, waitFor } from '../helpers/nacos-api.ts'
import { closedPort, recordingLog } from '../helpers/instances.ts'
import { TRANSPORTS, openTransport, type TransportName } from '../helpers/transports.ts'

function spec (serviceName: string, port: number): InstanceSpec {
  return {
    serviceName,
    groupName: 'DEFAULT_GROUP',
    ip: '127.0.0.1',
    port,
    clusterName: 'DEFAULT',
    weight: 2,
    ephemeral: true,
    enabled: true,
    metadata: { zone: 'z1', 'preserved.heart.beat.interval': '500', 'preserved.heart.beat.timeout': '3000', 'preserved.ip.delete.timeout': '5000' }
  }
}

/** A transport beating every `heartbeat` seconds, and an instance of a fresh service registered through it. */
async function registered (t: { teardown: (fn: () => Promise<void>) => void }, name: TransportName, prefix: string, heartbeat: number) {
  const { log } = recordingLog()
  const transport = await openTransport(name, log, { heartbeatInterval: heartbeat, deregisterTime: 5 })
  t.teardown(async () => { await transport.close() })
  const service = uniqueService(prefix)
  const instance = spec(service, await closedPort())
  await transport.naming.register(instance)
  return { transport, service, instance }
}

for (const name of TRANSPORTS) {
  t.test(`${name} transport`, async (t) => {
    await t.test('register, query, keepAlive says alive, deregister: the instance comes and goes with its fields', async (t) => {
      const { transport, service, instance } = await registered(t, name, 'contract-naming', 0.5)
      const events: string[] = []
      const stop = transport.naming.keepAlive(instance, { alive: () => events.push('alive'), lost: () => events.push('lost'), failed: () => events.push('failed'), registeredAgain: () => events.push('registeredAgain') })
      // HTTP says alive at every beat; gRPC once the instance is registered on the current connection.
      await waitFor(() => events.length >= (name === 'http' ? 2 : 1), 5000)
      t.same([...new Set(events)], ['alive'], 'every report says alive')

      const snapshot = await waitFor(async () => { const s = await transport.naming.query({ service, group: 'DEFAULT_GROUP', clusters: [] }); return s.hosts.length === 1 ? s : undefined })
      t.match(snapshot.hosts[0], { ip: '127.0.0.1', port: instance.port, weight: 2, metadata: { zone: 'z1' } })
      t.ok(snapshot.lastRefTime > 0, 'the snapshot is dated')

      stop()
      const after = events.length
      await transport.naming.deregister(instance)
      await waitFor(async () => (await listInstances(service)).length === 0, 5000)
      await new Promise((resolve) => setTimeout(resolve, 800))
      t.equal(events.length, after, 'no event after the keep-alive was stopped')
    })

    // A gRPC instance is bound to its connection: Nacos forgets it only with the connection, which
    // the transport redoes itself (test/grpc-transport.test.ts: reset, frozen connection, restart).
    await t.test('keepAlive says lost when Nacos no longer knows the instance', { skip: name === 'grpc' && 'gRPC never reports lost: it redoes the registration on a new connection' }, async (t) => {
      const { transport, service, instance } = await registered(t, name, 'contract-lost', 0.3)
      let lost = 0
      const stop = transport.naming.keepAlive(instance, { alive: () => {}, lost: () => { lost++ }, failed: () => {}, registeredAgain: () => {} })
      t.teardown(stop)
      // Removed behind its back, as an operator (or an expiry on a restarted Nacos) would.
      await instanceCall('DELETE', { serviceName: service, ip: '127.0.0.1', port: String(instance.port), ephemeral: 'true' })
      await waitFor(() => lost >= 1, 5000)
      t.pass('lost() reported')
    })

    await t.test('an unreachable server: register rejects with the cause, keepAlive says failed, probe names the server', async (t) => {
      const { log } = recordingLog()
      const port = await closedPort()
      const transport = await openTransport(name, log, { serverAddr: `127.0.0.1:${port}`, heartbeatInterval: 0.2, deregisterTime: 5 })
      t.teardown(async () => { await transport.close() })
      const instance = spec(uniqueService('contract-down'), 1234)
      await t.rejects(transport.naming.register(instance), /ECONNREFUSED/)
      const failures: Error[] = []
      const stop = transport.naming.keepAlive(instance, { alive: () => {}, lost: () => {}, failed: (err) => failures.push(err), registeredAgain: () => {} })
      t.teardown(stop)
      await waitFor(() => failures.length >= 1, 5000)
      t.match(failures[0]?.message, /ECONNREFUSED/, 'the failure carries its own cause')
      // gRPC talks to the HTTP port + 1000 and names the way out.
      const named = name === 'grpc' ? `127\\.0\\.0\\.1:${port + 1000}: .*ECONNREFUSED.*NACOS_TRANSPORT=http` : `127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`
      await t.rejects(transport.naming.probe(), new RegExp(named))
    })

    await t.test('probe resolves when a server answers; close() is idempotent', async (t) => {
      const { log } = recordingLog()
      const transport = await openTransport(name, log)
      await transport.naming.probe()
      await transport.close()
      await transport.close()
      t.pass()
    })
  })
}
