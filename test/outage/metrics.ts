// The metrics that need Nacos to go away and come back, with two apps running (one per
// transport). gRPC: the connection gauge drops to 0 while Nacos is down; once it is back the
// reconnect and the transport's redo of the registration are counted and the gauge is 1 again.
// HTTP: no connection gauge, no reconnect nor redo; the registration state goes to retrying and
// back, and the registry's registration is sent again. Both: an app started while Nacos is down
// counts the config and the instances it serves from the snapshots an app before it left.
import Fastify, { type FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import nacos from '../../src/index.ts'
import { listInstances, readConfig, uniqueService, waitFor } from '../helpers/nacos-api.ts'
import type { OutageParty } from '../helpers/outage.ts'
import { TRANSPORTS, type TransportName } from '../helpers/transports.ts'
import { hasSamples, metricValue as value } from '../helpers/metrics.ts'

interface Running { transport: TransportName, app: FastifyInstance, registry: Registry, serviceName: string }

const state = async (r: Running, s: string): Promise<number> => await value(r.registry, 'nacos_client_registration_state', { state: s })
const registers = async (r: Running): Promise<number> => await value(r.registry, 'nacos_client_request', { method: 'register', code: '200' })

export const title = 'Nacos restarted: reconnect, redo, connection and registration state metrics move (gRPC), the registration is sent again (HTTP), snapshots served are counted (both)'

export async function scenario (t: Test, { addr, down, up, publish }: OutageParty): Promise<void> {
  const snapshotDir = mkdtempSync(join(tmpdir(), 'metrics-restart-'))
  t.teardown(() => { rmSync(snapshotDir, { recursive: true, force: true }) })
  const listed = async (r: Running): Promise<boolean> => (await listInstances(r.serviceName, { addr })).length === 1
  const base = { serverAddr: addr, ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'silent', snapshotDir, requestTimeout: 2000 } as const
  const running: Running[] = []
  for (const transport of TRANSPORTS) {
    const registry = new Registry()
    const serviceName = uniqueService(`metrics-restart-${transport}`)
    const app = Fastify()
    await app.register(nacos, { ...base, transport, serviceName, heartbeatInterval: 1, deregisterTime: 3, metrics: { registry } })
    t.teardown(async () => { await app.close() })
    await app.listen({ port: 0, host: '127.0.0.1' })
    running.push({ transport, app, registry, serviceName })
  }
  for (const r of running) {
    await waitFor(async () => (await state(r, 'registered')) === 1 && await listed(r), 10_000)
    t.equal(await registers(r), 1, `${r.transport}: one registration so far`)
    t.equal(await value(r.registry, 'nacos_client_reconnects_total'), 0, `${r.transport}: no reconnect yet`)
    t.equal(await value(r.registry, 'nacos_client_naming_redo_total'), 0, `${r.transport}: no redo yet`)
    if (r.transport === 'grpc') t.equal(await value(r.registry, 'nacos_client_connection_up'), 1, 'grpc: the connection is up')
    else t.notOk(await hasSamples(r.registry, 'nacos_client_connection_up'), 'http: no connection gauge')
  }

  // Snapshots for the apps started while Nacos is down: a preloaded config and a looked-up service.
  const dataId = `${uniqueService('metrics-restart')}.properties`
  await publish(dataId, 'a=1')
  await waitFor(async () => await readConfig(dataId, { addr }))
  const looked = running[0]?.serviceName as string
  for (const transport of TRANSPORTS) {
    const before = Fastify()
    await before.register(nacos, { ...base, transport, serviceName: `snapshots-${transport}`, registerEnabled: false, configs: [{ dataId }] })
    t.equal((await before.nacos.instances(looked)).length, 1, `${transport}: a service looked up before the outage`)
    await before.close()
  }

  await down()
  for (const transport of TRANSPORTS) {
    const registry = new Registry()
    const after = Fastify()
    t.teardown(async () => { await after.close() })
    await after.register(nacos, { ...base, transport, serviceName: `snapshots-${transport}`, registerEnabled: false, configs: [{ dataId }], metrics: { registry } })
    t.equal(await value(registry, 'nacos_client_snapshot_served_total', { module: 'config' }), 1, `${transport}: the preloaded config served from its snapshot`)
    t.equal((await after.nacos.instances(looked)).length, 1, `${transport}: its instance, with Nacos down`)
    t.equal(await value(registry, 'nacos_client_snapshot_served_total', { module: 'naming' }), 1, `${transport}: the looked-up service served from its snapshot`)
  }
  for (const r of running) {
    await waitFor(async () => (await state(r, 'retrying')) === 1, 15_000)
    t.pass(`${r.transport}: registration state retrying while Nacos is down`)
    if (r.transport === 'grpc') t.equal(await value(r.registry, 'nacos_client_connection_up'), 0, 'grpc: the connection is down')
  }

  await up()
  for (const r of running) {
    await waitFor(async () => (await state(r, 'registered')) === 1 && await listed(r), 30_000)
    t.pass(`${r.transport}: registered and listed again`)
    if (r.transport === 'grpc') {
      // The redo is reported once its answer is in: the counters may trail the state by a moment.
      await waitFor(async () => (await value(r.registry, 'nacos_client_naming_redo_total')) >= 1, 10_000)
      t.equal(await value(r.registry, 'nacos_client_reconnects_total'), 1, 'grpc: one reconnect counted')
      t.equal(await value(r.registry, 'nacos_client_naming_redo_total'), 1, 'grpc: the registration redone once by the transport')
      t.equal(await value(r.registry, 'nacos_client_connection_up'), 1, 'grpc: the connection is up again')
      const scrape = await r.app.inject('/monitoring/nacos/metrics')
      t.match(scrape.body, /^nacos_client_connection_up\{transport="grpc"\} 1$/m, 'grpc: the route serves the connection')
      t.match(scrape.body, /^nacos_client_reconnects_total 1$/m, 'grpc: the reconnect')
      t.match(scrape.body, /^nacos_client_naming_redo_total 1$/m, 'grpc: and the redo')
    } else {
      t.ok(await registers(r) >= 2, `http: the registry registered again (${await registers(r)} registrations)`)
      t.equal(await value(r.registry, 'nacos_client_reconnects_total'), 0, 'http: no reconnect counted')
      t.equal(await value(r.registry, 'nacos_client_naming_redo_total'), 0, 'http: no redo counted')
      t.notOk(await hasSamples(r.registry, 'nacos_client_connection_up'), 'http: still no connection gauge')
    }
  }
}
