// The HTTP client reports each request's failure to that request: its own error, with the method,
// the URL and the reason, and the original as its cause — nothing shared between requests.
import t from 'tap'
import { NacosHttpClient } from '../../src/transport/http/http-client.ts'
import { RequestFailedError } from '../../src/errors.ts'
import { closedPort } from '../helpers/instances.ts'

t.test('concurrent failing requests each carry their own cause', async (t) => {
  const http = new NacosHttpClient({ timeout: 2000 })
  t.teardown(() => { http.close() })
  const [a, b] = [await closedPort(), await closedPort()]
  const [ea, eb] = await Promise.all([
    http.request(`http://127.0.0.1:${a}/nacos/v1/ns/instance`, { method: 'POST', data: { x: 1 } }).catch((e: unknown) => e),
    http.request(`http://127.0.0.1:${b}/nacos/v1/ns/instance/list`).catch((e: unknown) => e)
  ])
  t.ok(ea instanceof RequestFailedError)
  t.match(ea, { code: 'FST_NACOS_REQUEST_FAILED', reason: 'ECONNREFUSED', message: `POST http://127.0.0.1:${a}/nacos/v1/ns/instance: ECONNREFUSED`, cause: Error })
  t.match(eb, { message: `GET http://127.0.0.1:${b}/nacos/v1/ns/instance/list: ECONNREFUSED` })
})

t.test('a timeout says so; after close() requests fail with FST_NACOS_CLOSED', async (t) => {
  const { createServer } = await import('node:net')
  const silent = createServer(() => {})
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { silent.close() })
  const port = (silent.address() as { port: number }).port
  const http = new NacosHttpClient({ timeout: 100 })
  await t.rejects(http.request(`http://127.0.0.1:${port}/nacos/v1/ns/operator/metrics`), { code: 'FST_NACOS_REQUEST_FAILED', reason: 'Nacos request timed out after 100 ms' })
  http.close()
  await t.rejects(http.request(`http://127.0.0.1:${port}/nacos/x`), { code: 'FST_NACOS_CLOSED', message: 'the Nacos HTTP client is closed' })
})
