// How app.nacos.fetch and app.nacos.dispatcher route, against the real Nacos: instances are
// servers of this process registered through Nacos's HTTP API, each answering as told.
import t from 'tap'
import Fastify from 'fastify'
import { createServer, type Server } from 'node:http'
import { request } from 'undici'
import nacos, { type AttemptEvent } from '../src/index.ts'
import { NACOS_ADDR, uniqueService, waitFor } from './helpers/nacos-api.ts'
import { register } from './helpers/instances.ts'

type Behaviour = 'ok' | '503' | 'slow'

/** An HTTP server answering `{ port, method, body }`, or 503, or after 2 s ("slow"). */
async function server (t: { teardown: (fn: () => unknown) => void }, behaviour: Behaviour): Promise<{ port: number, hits: () => number }> {
  let hits = 0
  const srv: Server = createServer((req, res) => {
    hits++
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => {
      const answer = (): void => {
        res.statusCode = behaviour === '503' ? 503 : 200
        res.end(JSON.stringify({ port, method: req.method, body }))
      }
      if (behaviour === 'slow') setTimeout(answer, 2000).unref()
      else answer()
    })
  })
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as { port: number }).port
  t.teardown(async () => { srv.closeAllConnections(); await new Promise((resolve) => srv.close(resolve)) })
  return { port, hits: () => hits }
}

async function setup (t: Parameters<typeof server>[0], specs: Array<{ behaviour: Behaviour, metadata?: Record<string, string>, clusterName?: string }>, cluster = 'DEFAULT', ejection?: false) {
  const service = uniqueService('route')
  const servers = []
  for (const spec of specs) {
    const s = await server(t, spec.behaviour)
    await register(service, { port: s.port, metadata: spec.metadata ?? {}, clusterName: spec.clusterName ?? 'DEFAULT' })
    servers.push(s)
  }
  const events: AttemptEvent[] = []
  const app = Fastify()
  await app.register(nacos, {
    serverAddr: NACOS_ADDR, serviceName: 'route-caller', clusterName: cluster, registerEnabled: false, handleSignals: false, monitoring: false,
    fetch: { timeout: 500, ...(ejection === false ? { ejection } : {}), onAttempt: (e) => { events.push(e) } }
  })
  t.teardown(async () => { await app.close() })
  await waitFor(async () => (await app.nacos.instances(service)).length === specs.length, 10_000, 100)
  return { app, service, servers, events }
}

t.test('a GET answered 503 is sent again to another instance, which is ejected after 3 in a row', async (t) => {
  const { app, service, servers, events } = await setup(t, [{ behaviour: '503' }, { behaviour: 'ok' }])
  const [bad, good] = servers as [{ port: number, hits: () => number }, { port: number, hits: () => number }]
  // Round-robin sends every other request to the 503 instance first; 12 requests are done well
  // within its first ejection (0.5 to 1 s, jittered), so after its 3rd failure it gets none of them.
  for (let i = 0; i < 12; i++) {
    const res = await app.nacos.fetch(`http://${service}/x`, { nacos: { strategy: 'round-robin' } })
    t.equal(res.status, 200)
    t.equal((await res.json() as { port: number }).port, good.port)
  }
  const ejections = events.filter((e) => e.ejectedMs > 0)
  t.equal(ejections.length, 1, 'one ejection')
  const badKey = ejections[0]?.instance
  t.match(ejections[0], { statusCode: 503, retry: true }, 'the 503 instance, at its 3rd failure')
  const ms = ejections[0]?.ejectedMs ?? 0
  t.ok(ms >= 500 && ms <= 1000, `for the first ejection's 0.5 to 1 s (jittered: ${ms} ms)`)
  t.equal(events.filter((e) => e.instance === badKey).length, 3, 'the 503 instance was tried 3 times, never after its ejection')
  t.equal(bad.hits(), 3, 'and it saw exactly those 3 requests')
})

t.test('a POST answered 503 is handed back as it is: it may have been processed', async (t) => {
  const { app, service, servers } = await setup(t, [{ behaviour: '503' }, { behaviour: 'ok' }], 'DEFAULT', false)
  const statuses: number[] = []
  for (let i = 0; i < 4; i++) {
    const res = await app.nacos.fetch(`http://${service}/x`, { method: 'POST', body: 'once', nacos: { strategy: 'round-robin' } })
    statuses.push(res.status)
    await res.text()
  }
  t.same(statuses.sort(), [200, 200, 503, 503], 'round-robin: every other POST meets the 503 instance and gets its answer')
  t.equal((servers[0] as { hits: () => number }).hits() + (servers[1] as { hits: () => number }).hits(), 4, 'one attempt per POST')
})

t.test('a GET that times out is sent again to another instance; a POST that times out is not', async (t) => {
  const { app, service, servers } = await setup(t, [{ behaviour: 'slow' }, { behaviour: 'ok' }])
  const good = servers[1] as { port: number }
  const start = Date.now()
  for (let i = 0; i < 2; i++) {
    const res = await app.nacos.fetch(`http://${service}/x`, { nacos: { strategy: 'round-robin', timeout: 300 } })
    t.equal((await res.json() as { port: number }).port, good.port)
  }
  t.ok(Date.now() - start < 1900, 'the slow instance was left after the attempt timeout, not after its answer')
  const outcomes = []
  for (let i = 0; i < 2; i++) {
    outcomes.push(await app.nacos.fetch(`http://${service}/x`, { method: 'POST', body: 'x', nacos: { strategy: 'round-robin', timeout: 300 } })
      .then((r) => r.status, (err: { code?: string, cause?: { code?: string } }) => `${err.code}/${err.cause?.code}`))
  }
  t.ok(outcomes.includes('FST_NACOS_FETCH_FAILED/UND_ERR_HEADERS_TIMEOUT'), `a timed-out POST fails with its cause: ${outcomes.join(', ')}`)
})

t.test('selector routes to the canary only; the own cluster is preferred; undici.request through app.nacos.dispatcher', async (t) => {
  const { app, service, servers } = await setup(t, [
    { behaviour: 'ok', metadata: { version: '1' }, clusterName: 'A' },
    { behaviour: 'ok', metadata: { version: '2' }, clusterName: 'B' }
  ], 'A')
  const [v1, v2] = servers as Array<{ port: number }>
  const seen = new Set<number>()
  for (let i = 0; i < 10; i++) {
    const res = await app.nacos.fetch(`http://${service}/x`, { nacos: { selector: { version: '2' } } })
    seen.add((await res.json() as { port: number }).port)
  }
  t.same([...seen], [v2?.port], 'selector { version: "2" }: the canary only')
  const local = new Set<number>()
  for (let i = 0; i < 10; i++) {
    const { body } = await request(`http://${service}/x`, { dispatcher: app.nacos.dispatcher })
    local.add((await body.json() as { port: number }).port)
  }
  t.same([...local], [v1?.port], 'undici.request through the dispatcher: own cluster A only')
  const { body } = await request(`http://${service}/x`, { dispatcher: app.nacos.dispatcher, nacos: { preferSameCluster: false, selector: { version: '2' } } } as Parameters<typeof request>[1])
  t.equal((await body.json() as { port: number }).port, v2?.port, 'per-request options in the `nacos` field of undici\'s options')
  const err = await app.nacos.fetch('http://no-such-service/x').catch((e: unknown) => e)
  t.match(err, { code: 'FST_NACOS_NO_INSTANCE', statusCode: 503 })
})
