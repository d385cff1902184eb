import { expect, test } from 'tstyche'
import Fastify from 'fastify'
import { request, type Dispatcher, type Response } from 'undici'
import nacos, { type AttemptEvent, type NacosFetchOptions } from '../src/index.js'

const app = Fastify()

test('app.nacos.fetch: the fetch signature, per-request options in init.nacos', () => {
  expect(app.nacos.fetch('http://orders-api/orders/1')).type.toBe<Promise<Response>>()
  expect(app.nacos.fetch(new URL('http://orders-api/'), { method: 'POST', body: '{}', nacos: { strategy: 'round-robin', selector: { version: '2' }, attempts: 1, timeout: 500 } }))
    .type.toBe<Promise<Response>>()
  expect(app.nacos.fetch).type.not.toBeCallableWith('http://orders-api/', { nacos: { strategy: 'fastest' } })
  expect(app.nacos.fetch).type.not.toBeCallableWith('http://orders-api/', { nacos: { selector: { version: 2 } } })
  expect(app.nacos.fetch).type.not.toBeCallableWith('http://orders-api/', { nacos: { retries: 3 } })
  expect({ service: 'Orders_API', group: 'G', clusters: ['a'], preferSameCluster: false }).type.toBeAssignableTo<NacosFetchOptions>()
})

test('app.nacos.dispatcher is an undici Dispatcher', () => {
  expect(app.nacos.dispatcher).type.toBe<Dispatcher>()
  expect(request('http://orders-api/', { dispatcher: app.nacos.dispatcher })).type.toBe<Promise<Dispatcher.ResponseData<null>>>()
})

test('the plugin\'s fetch option', () => {
  expect(app.register).type.toBeCallableWith(nacos, {
    fetch: { strategy: 'weighted-random', attempts: 3, timeout: 2000, connectTimeout: 500, ejection: { failures: 5, baseMs: 500, maxMs: 10_000 }, onAttempt: (e: AttemptEvent) => { void e.instance } }
  })
  expect(app.register).type.toBeCallableWith(nacos, { fetch: { ejection: false } })
  expect(app.register).type.not.toBeCallableWith(nacos, { fetch: { service: 'orders-api' } })
  expect(app.register).type.not.toBeCallableWith(nacos, { fetch: { ejection: { failures: '3' } } })
})
