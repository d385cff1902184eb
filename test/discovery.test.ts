// Discovery against the real Nacos: instances registered through Nacos's HTTP API, as another
// application would, must reach the cache, the picks and the subscribers, and leave them again.
import t from 'tap'
import dgram from 'node:dgram'
import { NacosHttpClient } from '../src/http-client.ts'
import { closeNamingClient, createNamingClient, sdkLogger } from '../src/sdk.ts'
import { Discovery, NoInstanceError, type Instance } from '../src/discovery.ts'
import { NACOS_ADDR, uniqueService, waitFor } from './helpers/nacos-api.ts'
import { closedPort, deregister, openPorts, recordingLog, register } from './helpers/instances.ts'
import { startNacos, stopNacos } from './helpers/private-nacos.ts'

type Test = typeof t

function setup (t: Test, opts: { addr?: string, refreshInterval?: number } = {}) {
  const http = new NacosHttpClient({ timeout: 2000 })
  const { log, lines } = recordingLog()
  const client = createNamingClient({ serverAddr: [opts.addr ?? NACOS_ADDR], namespace: 'public', httpclient: http, logger: sdkLogger(log) })
  const discovery = new Discovery({ client, log, refreshInterval: opts.refreshInterval ?? 1000 })
  t.teardown(async () => {
    discovery.close()
    http.close()
    await closeNamingClient(client)
  })
  return { discovery, client, lines }
}

/** Resolves with the time at which a subscriber first sees a list that satisfies `check`. */
async function seen (discovery: Discovery, service: string, check: (list: readonly Instance[]) => boolean, timeout = 8000): Promise<number> {
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`${service}: condition not seen within ${timeout} ms`)) }, timeout)
    const off = discovery.subscribe(service, (list) => {
      if (!check(list)) return
      clearTimeout(timer)
      off()
      resolve(Date.now())
    })
  })
}

const ports = (list: readonly Instance[]): number[] => list.map((i) => i.port).sort((a, b) => a - b)

t.test('registered instances appear; an added and a removed one propagate (delay measured)', async (t) => {
  const open = await openPorts(3)
  t.teardown(open.close)
  const [a, b, c] = open.ports as [number, number, number]
  const service = uniqueService('disc')
  await register(service, { port: a, metadata: { zone: 'z1' } })
  await register(service, { port: b, weight: 2 })
  // A long refresh interval: what arrives within a second came by push.
  const { discovery } = setup(t, { refreshInterval: 60_000 })

  const first = await discovery.instances(service)
  t.same(ports(first), [a, b].sort((x, y) => x - y))
  t.match(first.find((i) => i.port === a), { ip: '127.0.0.1', serviceName: service, clusterName: 'DEFAULT', healthy: true, enabled: true, ephemeral: false, metadata: { zone: 'z1' } })

  let start = Date.now()
  const added = seen(discovery, service, (list) => list.some((i) => i.port === c))
  await register(service, { port: c })
  const addDelay = await added - start
  t.same(ports(await discovery.instances(service)), [a, b, c].sort((x, y) => x - y))

  start = Date.now()
  const removed = seen(discovery, service, (list) => !list.some((i) => i.port === a))
  await deregister(service, { port: a })
  const removeDelay = await removed - start
  t.comment(`propagation Nacos -> cache by push: added ${addDelay} ms, removed ${removeDelay} ms`)
  t.ok(addDelay < 5000 && removeDelay < 5000, 'pushed within 5 s')
  t.same(ports(discovery.cached(service) ?? []), [b, c].sort((x, y) => x - y))
})
