// Nacos down, app restarted: against a private Nacos that the test stops and starts. An app that
// ran before (looked up a service, read its preloaded configs) restarts while Nacos is stopped and
// becomes ready from its snapshots: preloaded configs, app.nacos.fetch to the last known
// instances, /health UP (degraded). Nacos started again: registered and refreshed. Both transports.
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import nacos from '../src/index.ts'
import { listInstances, publishConfig, readConfig, uniqueService, waitFor } from './helpers/nacos-api.ts'
import { startNacos, stopNacos } from './helpers/private-nacos.ts'
import { freeNacosPort, refused } from './helpers/ports.ts'
import { closedPort } from './helpers/instances.ts'
import { TRANSPORTS } from './helpers/transports.ts'

const PORT = await freeNacosPort()
const addr = `127.0.0.1:${PORT}`
const snapshotDir = mkdtempSync(join(tmpdir(), 'outage-snapshot-'))
const base = { serverAddr: addr, ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'silent' as const, snapshotDir, requestTimeout: 2000 }
const schema = Type.Object({ port: Type.Integer() })
const options = (transport: typeof TRANSPORTS[number], serviceName: string, dataId: string): Parameters<typeof nacos>[1] =>
  ({ ...base, transport, serviceName, snapshotDir: join(snapshotDir, transport), configs: [{ dataId, schema }] })

t.teardown(async () => {
  await stopNacos(PORT)
  rmSync(snapshotDir, { recursive: true, force: true })
})

async function app (options: Parameters<typeof nacos>[1]): Promise<FastifyInstance> {
  const a = Fastify()
  a.get('/who', async () => ({ port: (a.server.address() as { port: number }).port }))
  await a.register(nacos, options)
  return a
}

for (const transport of TRANSPORTS) {
  t.test(`${transport}: Nacos unreachable at start and no snapshot: start-up fails with FST_NACOS_NO_SNAPSHOT`, async (t) => {
    const empty = mkdtempSync(join(tmpdir(), 'outage-empty-'))
    t.teardown(() => { rmSync(empty, { recursive: true, force: true }) })
    const a = Fastify()
    t.teardown(() => a.close())
    await a.register(nacos, { ...base, serverAddr: `127.0.0.1:${await closedPort()}`, snapshotDir: empty, transport, serviceName: uniqueService('none'), configs: [{ dataId: 'never-read.json' }] }).ready()
      .then(() => t.fail('started'), (err: { code?: string, message: string }) => {
        t.equal(err.code, 'FST_NACOS_NO_SNAPSHOT')
        t.match(err.message, /config never-read\.json \(group DEFAULT_GROUP\) could not be read from Nacos .* and no snapshot of it exists/)
      })
  })
}

// Both transports go through the same outage (one stop and one start of Nacos), each with its own
// services, config and snapshot folder, side by side.
interface Side { transport: typeof TRANSPORTS[number], callee: string, serviceName: string, dataId: string, targetPort: number, after?: FastifyInstance }

/** Runs `fn` for every side at once and waits for all of them (a failed side fails the test only once
 * the others are done, so that no app is left running after the test's teardown). */
async function eachSide<T, R> (items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = await Promise.allSettled(items.map(fn))
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  return results.map((r) => (r as PromiseFulfilledResult<R>).value)
}

t.test('restarted while Nacos is down, the app becomes ready from its snapshots; Nacos back, registered and refreshed (both transports, one outage)', async (t) => {
  await startNacos(PORT)
  // Configs are published one at a time: two at once into the fresh server's embedded Derby can
  // fail on a busy machine ("A lock could not be obtained within the time requested").
  let publishing = Promise.resolve()
  const published = async (dataId: string, content: string): Promise<void> => {
    const mine = publishing.then(async () => { await publishConfig(dataId, content, { addr }) })
    publishing = mine.catch(() => undefined)
    await mine
  }
  const names = TRANSPORTS.map((transport) => ({ transport, serviceName: uniqueService(`outage-${transport}`) }))
  for (const { serviceName } of names) {
    await published(`${serviceName}.json`, '{"port":81}')
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

  await stopNacos(PORT)
  t.ok(await refused(PORT), 'Nacos is stopped')
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

  await startNacos(PORT)
  const upAt = Date.now()
  await eachSide(sides, async ({ transport, serviceName, dataId, after }) => {
    if (after === undefined) throw new Error(`${transport}: no app started during the outage`)
    await waitFor(async () => (await listInstances(serviceName, { addr })).length === 1, 30_000, 50)
    t.comment(`${transport}: listed ${Date.now() - upAt} ms after Nacos was ready`)
    await waitFor(() => after.nacos.status().state === 'registered', 10_000)
    t.same((await after.inject('/monitoring/nacos/health')).json(), { status: 'UP', state: 'registered' }, `${transport}: registered, /health UP`)
    await waitFor(() => after.nacos.status().snapshots.services.length === 0 && after.nacos.status().snapshots.configs.length === 0, 30_000, 50)
    await published(dataId, '{"port":82}')
    await waitFor(() => (after.nacos.configs.get(dataId) as { port?: number } | undefined)?.port === 82, 30_000, 50)
    t.pass(`${transport}: a change after the outage reaches the preloaded config`)
  })
})
