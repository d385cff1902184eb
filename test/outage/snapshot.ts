// Nacos down, app restarted: an app that ran before (looked up a service, read its preloaded
// configs) restarts while Nacos is stopped and becomes ready from its snapshots: preloaded configs,
// app.nacos.fetch to the last known instances, /health UP (degraded). Nacos started again:
// registered and refreshed. Both transports, side by side, each with its own services, config and
// snapshot folder.
import Fastify, { type FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import nacos from '../../src/index.ts'
import { listInstances, readConfig, uniqueService, waitFor } from '../helpers/nacos-api.ts'
import type { OutageParty } from '../helpers/outage.ts'
import { refused } from '../helpers/ports.ts'
import { TRANSPORTS } from '../helpers/transports.ts'

const schema = Type.Object({ port: Type.Integer() })

async function app (options: Parameters<typeof nacos>[1]): Promise<FastifyInstance> {
  const a = Fastify()
  a.get('/who', async () => ({ port: (a.server.address() as { port: number }).port }))
  await a.register(nacos, options)
  return a
}

interface Side { transport: typeof TRANSPORTS[number], callee: string, serviceName: string, dataId: string, targetPort: number, after?: FastifyInstance }

/** Runs `fn` for every side at once and waits for all of them (a failed side fails the test only once
 * the others are done, so that no app is left running after the test's teardown). */
async function eachSide<T, R> (items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = await Promise.allSettled(items.map(fn))
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  return results.map((r) => (r as PromiseFulfilledResult<R>).value)
}

export const title = 'restarted while Nacos is down, the app becomes ready from its snapshots; Nacos back, registered and refreshed (both transports, one outage)'

export async function scenario (t: Test, { addr, port, down, up, publish }: OutageParty): Promise<void> {
  const snapshotDir = mkdtempSync(join(tmpdir(), 'outage-snapshot-'))
  t.teardown(() => { rmSync(snapshotDir, { recursive: true, force: true }) })
  const base = { serverAddr: addr, ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'silent' as const, snapshotDir, requestTimeout: 2000 }
  const options = (transport: typeof TRANSPORTS[number], serviceName: string, dataId: string): Parameters<typeof nacos>[1] =>
    ({ ...base, transport, serviceName, snapshotDir: join(snapshotDir, transport), configs: [{ dataId, schema }] })
  const names = TRANSPORTS.map((transport) => ({ transport, serviceName: uniqueService(`outage-${transport}`) }))
  for (const { serviceName } of names) {
    await publish(`${serviceName}.json`, '{"port":81}')
    await waitFor(async () => await readConfig(`${serviceName}.json`, { addr }))
  }
  const sides: Side[] = await eachSide(names, async ({ transport, serviceName }) => {
    const callee = uniqueService(`callee-${transport}`)
    const dataId = `${serviceName}.json`

    // The service this app calls, registered with Nacos and kept up throughout.
    const target = await app({ ...base, transport, serviceName: callee, snapshotDir: join(snapshotDir, `callee-${transport}`) })
    t.teardown(() => target.close())
    await target.listen({ port: 0, host: '127.0.0.1' })
    const targetPort = (target.server.address() as { port: number }).port
    await waitFor(async () => (await listInstances(callee, { addr })).length === 1, 10_000)

    const before = await app(options(transport, serviceName, dataId))
    t.same(before.nacos.configs.get(dataId), { port: 81 }, `${transport}: the config, from Nacos`)
    await before.listen({ port: 0, host: '127.0.0.1' })
    t.equal((await before.nacos.instances(callee)).length, 1, `${transport}: the callee looked up`)
    await waitFor(() => before.nacos.status().state === 'registered', 10_000)
    await before.close()
    return { transport, callee, serviceName, dataId, targetPort }
  })

  await down()
  t.ok(await refused(port), 'Nacos is stopped')
  await eachSide(sides, async (side) => {
    const { transport, callee, serviceName, dataId, targetPort } = side
    const startedAt = Date.now()
    const after = await app(options(transport, serviceName, dataId))
    side.after = after
    t.teardown(() => after.close())
    await after.ready()
    const readyMs = Date.now() - startedAt
    t.comment(`${transport}: ready with Nacos down after ${readyMs} ms`)
    t.same(after.nacos.configs.get(dataId), { port: 81 }, `${transport}: the preloaded config, from the snapshot`)
    t.match(after.nacos.status().snapshots.configs, [{ dataId, group: 'DEFAULT_GROUP' }])
    await after.listen({ port: 0, host: '127.0.0.1' })
    const answer = await after.nacos.fetch(`http://${callee}/who`)
    t.same(await answer.json(), { port: targetPort }, `${transport}: app.nacos.fetch reaches the last known instance`)
    t.match(after.nacos.status().snapshots.services, [{ service: callee, group: 'DEFAULT_GROUP' }])
    await waitFor(() => after.nacos.status().state === 'retrying', 15_000)
    const health = await after.inject('/monitoring/nacos/health')
    t.equal(health.statusCode, 200)
    t.match(health.json(), { status: 'UP', state: 'retrying', degraded: true }, `${transport}: /health UP, degraded`)
  })

  const upAt = await up()
  await eachSide(sides, async ({ transport, serviceName, dataId, after }) => {
    if (after === undefined) throw new Error(`${transport}: no app started during the outage`)
    await waitFor(async () => (await listInstances(serviceName, { addr })).length === 1, 30_000, 50)
    t.comment(`${transport}: listed ${Date.now() - upAt} ms after Nacos was ready`)
    await waitFor(() => after.nacos.status().state === 'registered', 10_000)
    t.same((await after.inject('/monitoring/nacos/health')).json(), { status: 'UP', state: 'registered' }, `${transport}: registered, /health UP`)
    await waitFor(() => after.nacos.status().snapshots.services.length === 0 && after.nacos.status().snapshots.configs.length === 0, 30_000, 50)
    await publish(dataId, '{"port":82}')
    await waitFor(() => (after.nacos.configs.get(dataId) as { port?: number } | undefined)?.port === 82, 30_000, 50)
    t.pass(`${transport}: a change after the outage reaches the preloaded config`)
  })
}
