// The HTTP transport's reconnect signal: it holds no connection, so "Nacos is back" is a server that
// a request could not reach answering one again. The registry registers at once on it (instead of
// after its backoff), and a beat that waits out its interval after a failure goes at once.
import t from 'tap'
import { createServer, type Server } from 'node:http'
import { once } from 'node:events'
import { NacosHttpClient } from '../../src/transport/http/http-client.ts'
import { HttpNaming } from '../../src/transport/http/naming.ts'
import { createHttpTransport } from '../../src/transport/http/index.ts'
import type { RepairedNaming } from '../../src/transport/http/sdk-repairs.ts'
import { parseServerList } from '../../src/server-addr.ts'
import { closedPort } from '../helpers/instances.ts'
import { fakeClock } from '../helpers/clock.ts'

const silent = { info: () => {}, warn: () => {}, debug: () => {}, error: () => {} }

async function nacosOn (port: number): Promise<Server> {
  // Enough of Nacos for a probe: its metrics answer 200.
  const server = createServer((req, res) => { res.end('{}') })
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  return server
}

t.test('a server that refused a request and answers the next one is told once to onServerBack listeners; a server that always answered is not', async (t) => {
  const http = new NacosHttpClient({ timeout: 2000 })
  t.teardown(() => { http.close() })
  const port = await closedPort()
  const back: number[] = []
  const off = http.onServerBack(() => { back.push(port) })
  await t.rejects(http.request(`http://127.0.0.1:${port}/nacos/v1/ns/operator/metrics`), { code: 'FST_NACOS_REQUEST_FAILED', reason: 'ECONNREFUSED' })
  t.same(back, [], 'not while it refuses')
  const server = await nacosOn(port)
  t.teardown(() => { server.close() })
  await http.request(`http://127.0.0.1:${port}/nacos/v1/ns/operator/metrics`)
  t.same(back, [port], 'told when it answers again')
  await http.request(`http://127.0.0.1:${port}/nacos/v1/ns/operator/metrics`)
  t.same(back, [port], 'once: a server that keeps answering is no news')
  off()
  server.close()
  await once(server, 'close')
  await t.rejects(http.request(`http://127.0.0.1:${port}/nacos/v1/ns/operator/metrics`))
  const again = await nacosOn(port)
  t.teardown(() => { again.close() })
  await http.request(`http://127.0.0.1:${port}/nacos/v1/ns/operator/metrics`)
  t.same(back, [port], 'a listener that stopped is not called')
})

t.test('the http transport calls onConnected when Nacos answers again after it could not be reached', async (t) => {
  const port = await closedPort()
  const transport = createHttpTransport({
    serverAddr: parseServerList(`127.0.0.1:${port}`),
    namespace: '',
    username: undefined,
    password: undefined,
    accessKey: undefined,
    secretKey: undefined,
    requestTimeoutMs: 2000,
    heartbeatIntervalMs: 5000,
    cacheDir: ''
  }, silent)
  t.teardown(() => transport.close())
  let connected = 0
  transport.naming.onConnected(() => { connected++ })
  await t.rejects(transport.naming.probe())
  const server = await nacosOn(port)
  t.teardown(() => { server.close() })
  await transport.naming.probe()
  t.equal(connected, 1, 'Nacos back: the registry would register now, not after its backoff')
})

t.test('a beat waiting out its interval after a failure goes at once when a server is back', async (t) => {
  const clock = fakeClock(t)
  let back = (): void => {}
  const http = { onServerBack: (fn: () => void) => { back = fn; return () => { back = () => {} } } }
  const answers: Array<() => Promise<string>> = [
    async () => { throw new Error('ECONNREFUSED') },
    async () => '{"code":20404}'
  ]
  const sdk = { request: async () => await (answers.shift() ?? (async () => '{"code":10200}'))() }
  const naming = new HttpNaming({ sdk: () => sdk as unknown as RepairedNaming, http: http as unknown as NacosHttpClient, serverAddr: [], heartbeatIntervalMs: 60_000 })
  t.teardown(() => { naming.close() })
  const events: string[] = []
  const spec = { serviceName: 's', groupName: 'DEFAULT_GROUP', ip: '10.0.0.1', port: 80, clusterName: 'DEFAULT', weight: 1, ephemeral: true, enabled: true, metadata: {} }
  naming.keepAlive(spec, { alive: () => events.push('alive'), lost: () => events.push('lost'), failed: () => events.push('failed'), registeredAgain: () => {} })
  back()
  await clock.tickAsync(0)
  t.same(events, [], 'no beat brought forward while none failed')
  await clock.tickAsync(60_000)
  t.same(events, ['failed'])
  back()
  await clock.tickAsync(0)
  t.same(events, ['failed', 'lost'], 'the next beat went at once, not 60 s later: the restarted Nacos answered 20404')
  back()
  await clock.tickAsync(0)
  t.same(events, ['failed', 'lost'], 'a beat that did not fail keeps its interval')
})
