// app.nacos.fetch against real instances: three child apps registered with the real Nacos through
// the plugin, called by two apps at once, one with retries (5 000 GETs) and one without (2 500),
// while one instance is SIGKILLed and another SIGTERMed. With retries no request fails and the
// killed one is not picked while ejected; without, the same run fails some.
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import nacos, { type AttemptEvent } from '../../src/index.ts'
import { NO_COVERAGE, startApp, type Child } from '../helpers/child.ts'
import { NACOS_ADDR, uniqueService, waitFor } from '../helpers/nacos-api.ts'
import { TRANSPORTS, type TransportName } from '../helpers/transports.ts'

type Test = { teardown: (fn: () => unknown) => void }

// Two runs of 7 500 requests through child processes, one per transport: about half a minute on
// an idle 2-core machine, but a loaded one can outlast the default 240 s of .taprc.
t.setTimeout(600_000)

/** Requests with retries in a run; every third request of the run is the retries-off caller's. */
const WITH_RETRIES = 5000
const TOTAL = WITH_RETRIES * 3 / 2
const CONCURRENCY = 50
const retriesOff = (i: number): boolean => i % 3 === 2

async function caller (t: Test, transport: TransportName, events: AttemptEvent[], ejection?: false): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(nacos, {
    serverAddr: NACOS_ADDR, transport, serviceName: 'fetch-caller', registerEnabled: false, handleSignals: false, monitoring: false,
    discoveryRefreshInterval: 1000, fetch: { ...(ejection === false ? { ejection } : {}), onAttempt: (e) => { events.push(e) } }
  })
  await app.ready()
  t.teardown(async () => { await app.close() })
  return app
}

async function echoes (t: Test, transport: TransportName, service: string, count = 3): Promise<Child[]> {
  // Coverage off in the instances: they only answer, and the callers (this process) are what is covered.
  const env = { ...NO_COVERAGE, NACOS_SERVER_ADDR: NACOS_ADDR, NACOS_TRANSPORT: transport, NACOS_SERVICE_NAME: service, NACOS_HEARTBEAT_INTERVAL: '1', NACOS_DEREGISTER_TIME: '3' }
  const children = await Promise.all(Array.from({ length: count }, async () => await startApp(env)))
  t.teardown(() => { for (const c of children) c.proc.kill('SIGKILL') })
  return children
}

interface Run { ok: number, failed: number, errors: Map<string, number>, byPort: Map<number, number> }
const newRun = (): Run => ({ ok: 0, failed: 0, errors: new Map(), byPort: new Map() })

/** TOTAL requests, CONCURRENCY at a time, each counted in the run `runOf` gives for its index;
 * `at` runs a step when the request with that index starts. */
async function load (send: (i: number) => Promise<Response>, runOf: (i: number) => Run, at: Record<number, () => void>): Promise<number> {
  const start = Date.now()
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < TOTAL) {
      const i = next++
      at[i]?.()
      const run = runOf(i)
      try {
        const res = await send(i)
        const body = await res.json() as { port: number }
        if (res.status !== 200) throw new Error(`HTTP ${res.status}`)
        run.ok++
        run.byPort.set(body.port, (run.byPort.get(body.port) ?? 0) + 1)
      } catch (err) {
        run.failed++
        const code = (err as { code?: string }).code ?? (err as Error).message
        run.errors.set(code, (run.errors.get(code) ?? 0) + 1)
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return Date.now() - start
}

const summary = (r: Run): string => `${r.ok} ok, ${r.failed} failed; by port ${JSON.stringify(Object.fromEntries(r.byPort))}; errors ${JSON.stringify(Object.fromEntries(r.errors))}`

interface KillRun { on: Run, off: Run, events: AttemptEvent[], killed: Child, ms: number }

/** One run: the callers with and without retries share the instances, the kill and the SIGTERM. */
async function killRun (t: Test, transport: TransportName): Promise<KillRun> {
  const service = uniqueService(`fetch-${transport}`)
  const children = await echoes(t, transport, service)
  const events: AttemptEvent[] = []
  const [withRetries, withoutRetries] = await Promise.all([caller(t, transport, events), caller(t, transport, [])])
  await Promise.all([withRetries, withoutRetries].map(async (app) => await waitFor(async () => (await app.nacos.instances(service)).length === 3, 15_000, 100)))
  const [killed, stopped] = children as [Child, Child, Child]
  const on = newRun()
  const off = newRun()
  const ms = await load(async (i) => retriesOff(i)
    ? await withoutRetries.nacos.fetch(`http://${service}/echo?i=${i}`, { nacos: { attempts: 1 } })
    : await withRetries.nacos.fetch(`http://${service}/echo?i=${i}`, { nacos: { attempts: 3 } }),
  (i) => retriesOff(i) ? off : on, {
    [TOTAL / 5]: () => { killed.proc.kill('SIGKILL') },
    [TOTAL / 2]: () => { stopped.proc.kill('SIGTERM') }
  })
  return { on, off, events, killed, ms }
}

for (const transport of TRANSPORTS.includes(process.env.FETCH_TRANSPORT as TransportName) ? [process.env.FETCH_TRANSPORT as TransportName] : (['grpc', 'http'] as const)) {
  t.test(`${transport} transport`, async (t) => {
    const { on, off, events, killed, ms } = await killRun(t, transport)
    t.comment(`${TOTAL} requests in ${ms} ms`)

    await t.test(`${WITH_RETRIES} GETs with one instance SIGKILLed and one SIGTERMed: none fails, the killed one is not picked while ejected`, async (t) => {
      t.comment(`retries on: ${summary(on)}; ${events.filter((e) => e.retry).length} retries`)
      t.equal(on.failed, 0, 'no failed request')
      t.equal(on.ok, WITH_RETRIES)
      const key = `127.0.0.1:${killed.port}`
      const ejection = events.find((e) => e.instance === key && e.ejectedMs > 0)
      t.ok(ejection, 'the killed instance was ejected')
      if (ejection) {
        const ejectedAt = ejection.start + ejection.duration
        const picked = events.filter((e) => e.instance === key && e.start > ejectedAt && e.start < ejectedAt + ejection.ejectedMs)
        t.comment(`killed instance: ejected for ${ejection.ejectedMs} ms; attempts on it after the ejection: ${picked.length}`)
        t.equal(picked.length, 0, 'not picked while ejected')
      }
    })

    await t.test('the same run with retries off (attempts: 1) fails requests', async (t) => {
      t.comment(`retries off: ${summary(off)}`)
      t.equal(off.ok + off.failed, TOTAL - WITH_RETRIES, 'every request of the caller without retries counted')
      t.ok(off.failed > 0, `some requests fail without retries (${off.failed})`)
    })
  })
}

t.test('a POST whose body was never sent (connection refused) is sent again to another instance; with retries off it fails', async (t) => {
  const service = uniqueService('fetch-post')
  // Over the HTTP transport a SIGKILLed instance stays listed, healthy, until its beats are missed
  // (15 s here): a dead instance Nacos still hands out, whose port refuses connections.
  const env = { ...NO_COVERAGE, NACOS_SERVER_ADDR: NACOS_ADDR, NACOS_TRANSPORT: 'http', NACOS_SERVICE_NAME: service, NACOS_HEARTBEAT_INTERVAL: '5', NACOS_DEREGISTER_TIME: '30' }
  const [live, dead] = await Promise.all([startApp(env), startApp(env)])
  t.teardown(() => { live.proc.kill('SIGKILL'); dead.proc.kill('SIGKILL') })
  const events: AttemptEvent[] = []
  // Without ejection round-robin keeps meeting the dead instance: every other request, retries on or off.
  const app = await caller(t, 'grpc', events, false)
  await waitFor(async () => (await app.nacos.instances(service)).filter((i) => i.healthy).length === 2, 15_000, 100)
  dead.proc.kill('SIGKILL')
  await dead.exited
  let ok = 0
  let failed = 0
  let offFailed = 0
  const post = (i: number, attempts: number) => app.nacos.fetch(`http://${service}/echo`, {
    method: 'POST', body: JSON.stringify({ i }), headers: { 'content-type': 'application/json' }, nacos: { strategy: 'round-robin', attempts }
  })
  // round-robin alternates between the two: every other request goes to the dead port first.
  for (let i = 0; i < 40; i++) {
    const body = await post(i, 3).then(async (res) => await res.json() as { method: string, body: { i: number }, port: number }, () => undefined)
    if (body?.method === 'POST' && body.body.i === i && body.port === live.port) ok++
    else failed++
  }
  for (let i = 0; i < 40; i++) {
    const off = await post(i, 1).then(async (r) => await r.text(), (err: { code?: string }) => err.code)
    if (off === 'FST_NACOS_FETCH_FAILED') offFailed++
  }
  const refused = events.filter((e) => e.instance === `127.0.0.1:${dead.port}` && (e.error as { code?: string } | undefined)?.code === 'ECONNREFUSED')
  const retried = refused.filter((e) => e.retry).length
  t.comment(`POST: ${ok} ok, ${failed} failed with retries (${retried} refused attempts sent again); ${offFailed} of 40 failed with retries off`)
  t.equal(failed, 0, 'every POST answered, with its body, by the live instance')
  t.ok(retried >= 10, `refused attempts on the dead instance were sent again (${retried})`)
  t.ok(offFailed >= 10, `with retries off, POSTs to the dead instance fail with FST_NACOS_FETCH_FAILED (${offFailed})`)
})
