// The foundation's proof: the real Nacos server answers, and an instance registered with the
// `nacos` SDK shows up in, and leaves, Nacos's own instance list.
import t from 'tap'
import { createRequire } from 'node:module'
import { NACOS_ADDR, hasV1Api, isNacos3, listInstances, nacosRequest, publishConfig, uniqueService, waitFor } from './helpers/nacos-api.ts'
import { startNacos, stopNacos } from './helpers/private-nacos.ts'
import { freeNacosPort } from './helpers/ports.ts'
import { stopBeatLoop } from '../src/transport/http/sdk-repairs.ts'

const require = createRequire(import.meta.url)
const { NacosNamingClient } = require('nacos') as typeof import('nacos')

const quiet = { ...console, info () {}, debug () {}, warn () {} } as unknown as typeof console

t.test(`the Nacos server is up and is ${process.env.NACOS_VERSION ?? 'a 2.x server'}`, async (t) => {
  const three = await isNacos3()
  const res = await nacosRequest(three ? '/v3/admin/core/state/readiness' : '/v1/console/health/readiness')
  t.equal(res.status, 200, `Nacos must answer on ${NACOS_ADDR}: run "npm run nacos -- start"`)
  const state = await (await nacosRequest(three ? '/v3/admin/core/state' : '/v1/console/server/state')).json() as { version?: string, data?: { version: string } }
  const version = state.data?.version ?? state.version
  if (process.env.NACOS_VERSION) t.equal(version, process.env.NACOS_VERSION)
  else t.match(version, /^2\./)
})

t.test('an instance registered with the SDK is listed by Nacos, then gone after deregistration', { skip: !await hasV1Api() && 'the `nacos` SDK speaks the v1 HTTP API, which this server has off' }, async (t) => {
  const client = new NacosNamingClient({ logger: quiet, serverList: NACOS_ADDR, namespace: 'public' })
  // Stopped at birth as the plugin does, or the SDK's beat loop would hold this file open 10 s
  // after its tests; the instance is listed for the test's second without beats.
  stopBeatLoop(client)
  await client.ready()
  t.teardown(() => (client as unknown as { close: () => Promise<void> }).close())
  const serviceName = uniqueService('foundation')
  const instance = { ip: '10.9.8.7', port: 4321, ephemeral: true, metadata: { owner: 'test' } }

  await client.registerInstance(serviceName, instance as never)
  const hosts = await waitFor(async () => {
    const list = await listInstances(serviceName)
    return list.length > 0 ? list : undefined
  })
  t.equal(hosts.length, 1)
  t.match(hosts[0], { ip: '10.9.8.7', port: 4321, healthy: true, metadata: { owner: 'test' } })

  await client.deregisterInstance(serviceName, instance as never)
  await waitFor(async () => (await listInstances(serviceName)).length === 0)
  t.same(await listInstances(serviceName), [])
})

// A new embedded Derby failed one of the first two config writes that came at once, often (4 fresh
// servers of 10): scripts/nacos.sh writes and deletes one config before such a server is ready.
t.test('a server with a new database was primed before ready: its first two publishes at once both succeed', async (t) => {
  const port = await freeNacosPort()
  const addr = await startNacos(port)
  t.teardown(() => stopNacos(port))
  const three = await isNacos3(addr)
  const query = { dataId: 'fastify-nacos.prime', pageNo: '1', pageSize: '10', ...(three ? { groupName: 'DEFAULT_GROUP' } : { search: 'accurate', group: 'DEFAULT_GROUP' }) }
  const res = await nacosRequest(three ? '/v3/admin/cs/history/list' : '/v1/cs/history', query, 'GET', addr)
  const body = await res.json() as { pageItems?: Array<{ opType: string }>, data?: { pageItems: Array<{ opType: string }> } }
  const ops = (body.data?.pageItems ?? body.pageItems ?? []).map((h) => h.opType.trim()).sort()
  t.same(ops, ['D', 'I'], 'its history holds the priming write and its delete')
  const name = uniqueService('primed')
  const results = await Promise.allSettled(['a', 'b'].map((x) => publishConfig(`${name}-${x}.json`, x, { addr })))
  t.same(results.map((r) => r.status === 'fulfilled' ? 'ok' : String(r.reason)), ['ok', 'ok'])
})
