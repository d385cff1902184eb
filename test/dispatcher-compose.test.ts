// app.nacos.dispatcher under an interceptor of the app's own (undici's compose): the request reaches
// the service dispatcher with a handler of undici's new API, which gets parsed headers, the body
// and the end; a 503 is still retried on another instance. Real Nacos, instances in this process.
import t from 'tap'
import Fastify from 'fastify'
import { createServer } from 'node:http'
import { request, type Dispatcher } from 'undici'
import nacos from '../src/index.ts'
import { NACOS_ADDR, uniqueService, waitFor } from './helpers/nacos-api.ts'
import { register } from './helpers/instances.ts'

async function instance (t: { teardown: (fn: () => unknown) => void }, status: number): Promise<number> {
  const srv = createServer((_req, res) => {
    res.statusCode = status
    res.setHeader('x-instance', String(status))
    res.setHeader('set-cookie', ['a=1', 'b=2'])
    res.end(JSON.stringify({ status }))
  })
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { srv.closeAllConnections(); await new Promise((resolve) => srv.close(resolve)) })
  return (srv.address() as { port: number }).port
}

t.test('an interceptor composed onto app.nacos.dispatcher sees parsed headers; a 503 is retried on the other instance', async (t) => {
  const service = uniqueService('compose')
  await register(service, { port: await instance(t, 503) })
  await register(service, { port: await instance(t, 200) })
  const app = Fastify()
  await app.register(nacos, { serverAddr: NACOS_ADDR, serviceName: 'compose-caller', registerEnabled: false, handleSignals: false, monitoring: false, fetch: { ejection: false } })
  t.teardown(async () => { await app.close() })
  await waitFor(async () => (await app.nacos.instances(service)).length === 2, 10_000, 100)

  const seen: Array<{ statusCode: number, headers: Record<string, string | string[] | undefined> }> = []
  const spy: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => dispatch(opts, {
    onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
    onResponseStart: (controller, statusCode, headers, statusMessage) => {
      seen.push({ statusCode, headers })
      handler.onResponseStart?.(controller, statusCode, headers, statusMessage)
    },
    onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
    onResponseEnd: (controller, trailers) => handler.onResponseEnd?.(controller, trailers),
    onResponseError: (controller, err) => handler.onResponseError?.(controller, err)
  })
  const composed = app.nacos.dispatcher.compose(spy)
  for (let i = 0; i < 10; i++) {
    const res = await request(`http://${service}/x`, { dispatcher: composed })
    t.equal(res.statusCode, 200, `request ${i}`)
    t.same(await res.body.json(), { status: 200 })
  }
  t.equal(seen.length, 10, 'the caller\'s handler saw only the answers handed back, never a retried 503')
  t.same(seen[0]?.headers['x-instance'], '200', 'lower-cased names, string values')
  t.same(seen[0]?.headers['set-cookie'], ['a=1', 'b=2'], 'a repeated header as an array')
})
