// The tracing hooks: fastify-nacos:request for every request to Nacos through the transport seam
// (both transports), fastify-nacos:call for every attempt of a call by name, with the documented
// fields. Against the real Nacos.
import t from 'tap'
import Fastify from 'fastify'
import { tracingChannel } from 'node:diagnostics_channel'
import { createServer } from 'node:http'
import nacos, { CALL_CHANNEL, REQUEST_CHANNEL, type CallContext, type RequestContext } from '../src/index.ts'
import { NACOS_ADDR, uniqueService, waitFor } from './helpers/nacos-api.ts'
import { register } from './helpers/instances.ts'
import { TRANSPORTS } from './helpers/transports.ts'
import { observeTransport } from '../src/observe/transport.ts'
import { NO_OBSERVER } from '../src/observe/events.ts'

type Events = Array<[string, RequestContext | CallContext]>

function listen (t: { teardown: (fn: () => void) => void }, name: string, events: Events): void {
  const handlers = {
    start: (c: unknown) => { events.push(['start', { ...(c as RequestContext) }]) },
    end: (c: unknown) => { events.push(['end', { ...(c as RequestContext) }]) },
    asyncStart: (c: unknown) => { events.push(['asyncStart', { ...(c as RequestContext) }]) },
    asyncEnd: (c: unknown) => { events.push(['asyncEnd', { ...(c as RequestContext) }]) },
    error: (c: unknown) => { events.push(['error', { ...(c as RequestContext) }]) }
  }
  const channel = tracingChannel(name)
  channel.subscribe(handlers)
  t.teardown(() => { channel.unsubscribe(handlers) })
}

for (const transport of TRANSPORTS) {
  t.test(`${transport}: every request to Nacos is traced on ${REQUEST_CHANNEL}`, async (t) => {
    const events: Events = []
    listen(t, REQUEST_CHANNEL, events)
    const serviceName = uniqueService('traced')
    const app = Fastify()
    await app.register(nacos, { serverAddr: NACOS_ADDR, transport, serviceName, handleSignals: false, dotenv: false, monitoring: false })
    t.teardown(async () => { await app.close() })
    await app.listen({ port: 0, host: '127.0.0.1' })
    await waitFor(() => events.some(([e, c]) => e === 'asyncEnd' && (c as RequestContext).kind === 'register'))
    const mine = events.filter(([, c]) => (c as RequestContext).kind === 'register').map(([e]) => e)
    t.same(mine.slice(0, 2), ['start', 'end'], 'start, end (sync part)')
    t.ok(mine.includes('asyncEnd'), 'asyncEnd when Nacos answered')
    const [, ctx] = events.find(([e, c]) => e === 'asyncEnd' && (c as RequestContext).kind === 'register') ?? []
    t.match(ctx, { module: 'naming', kind: 'register', transport, name: serviceName, group: 'DEFAULT_GROUP' })
    t.notOk(mine.includes('error'))

  })
}

t.test(`every attempt of a call by name is traced on ${CALL_CHANNEL}, with the onAttempt fields`, async (t) => {
  const events: Events = []
  listen(t, CALL_CHANNEL, events)
  const server = createServer((_req, res) => { res.statusCode = 503; res.end() })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const port = (server.address() as { port: number }).port
  const service = uniqueService('traced-call')
  await register(service, { port })
  const seen: CallContext[] = []
  const app = Fastify()
  await app.register(nacos, { serverAddr: NACOS_ADDR, registerEnabled: false, serviceName: 'traced-caller', handleSignals: false, dotenv: false, monitoring: false, fetch: { onAttempt: (e) => { seen.push(e) } } })
  t.teardown(async () => { await app.close() })
  await waitFor(async () => (await app.nacos.instances(service)).length === 1)
  const res = await app.nacos.fetch(`http://${service}/`, { nacos: { attempts: 1 } })
  await res.arrayBuffer()
  t.same(events.map(([e]) => e), ['start', 'error', 'end'], 'a failed attempt: start, error, end')
  t.match(events[0]?.[1], { service, instance: `127.0.0.1:${port}`, attempt: 1, statusCode: 503, failed: true, retry: false })
  t.same(events[0]?.[1], seen[0], 'the same data as onAttempt')
})

t.test(`unit (a stub transport): a failed request ends with error on ${REQUEST_CHANNEL}, the error in the context`, async (t) => {
  const events: Events = []
  listen(t, REQUEST_CHANNEL, events)
  const refusal = new Error('refused')
  const stub = { name: 'grpc', naming: { query: async () => { throw refusal } }, config: {}, close: async () => {} }
  const observed = observeTransport(stub as never, NO_OBSERVER)
  await t.rejects(observed.naming.query({ service: 'orders', group: 'G', clusters: [] }), refusal)
  t.same(events.map(([e]) => e), ['start', 'end', 'error', 'asyncStart', 'asyncEnd'])
  t.match(events[2]?.[1], { module: 'naming', kind: 'query', transport: 'grpc', name: 'orders', group: 'G', error: refusal })
})

t.test(`with neither onAttempt nor metrics, ${CALL_CHANNEL} sees a successful call once a tracer subscribed`, async (t) => {
  const server = createServer((_req, res) => { res.end('ok') })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const port = (server.address() as { port: number }).port
  const service = uniqueService('traced-late')
  await register(service, { port })
  const app = Fastify()
  await app.register(nacos, { serverAddr: NACOS_ADDR, registerEnabled: false, serviceName: 'traced-late-caller', handleSignals: false, dotenv: false, monitoring: false })
  t.teardown(async () => { await app.close() })
  await waitFor(async () => (await app.nacos.instances(service)).length === 1)
  t.equal(await (await app.nacos.fetch(`http://${service}/`)).text(), 'ok', 'a call while nobody listens')
  const events: Events = []
  listen(t, CALL_CHANNEL, events)
  t.equal(await (await app.nacos.fetch(`http://${service}/`)).text(), 'ok', 'a call after a tracer subscribed')
  t.same(events.map(([e]) => e), ['start', 'end'], 'a successful attempt: start, end')
  t.match(events[0]?.[1], { service, instance: `127.0.0.1:${port}`, attempt: 1, statusCode: 200, failed: false, retry: false })
})
