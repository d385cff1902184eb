// The call-by-name metrics' bookkeeping (src/observe/metrics.ts) on a registry of the test's own,
// without a server: an attempt adds to per-service counts that the counters take when scraped, so
// each attempt is counted once however often Prometheus scrapes, and the `service` label is bounded.
import t from 'tap'
import * as PromClient from 'prom-client'
import { createMetrics, MAX_CALL_SERVICES } from '../../src/observe/metrics.ts'
import type { AttemptEvent } from '../../src/naming/fetch-options.ts'
import { metricValue as value } from '../helpers/metrics.ts'

const sources = { state: () => 'registered', services: () => [], connected: () => undefined }
const attempt = (service: string, over: Partial<AttemptEvent> = {}): AttemptEvent =>
  ({ service, instance: '127.0.0.1:1', attempt: 1, start: 0, duration: 3, failed: false, retry: false, ejectedMs: 0, ...over })

t.test('each attempt is counted once, whether scraped between attempts or not', async (t) => {
  const registry = new PromClient.Registry()
  const m = createMetrics(PromClient, registry, sources)
  t.teardown(m.close)
  m.observer.attempt(attempt('a'))
  m.observer.attempt(attempt('a', { failed: true, retry: true, ejectedMs: 1000 }))
  t.equal(await value(registry, 'nacos_client_call_attempts_total', { service: 'a', outcome: 'ok' }), 1)
  t.equal(await value(registry, 'nacos_client_call_attempts_total', { service: 'a', outcome: 'ok' }), 1, 'a second scrape adds nothing')
  m.observer.attempt(attempt('a'))
  m.observer.attempt(attempt('a', { failed: true }))
  await registry.metrics()
  t.equal(await value(registry, 'nacos_client_call_attempts_total', { service: 'a', outcome: 'ok' }), 2)
  t.equal(await value(registry, 'nacos_client_call_attempts_total', { service: 'a', outcome: 'failed' }), 2)
  t.equal(await value(registry, 'nacos_client_call_retries_total', { service: 'a' }), 1)
  t.equal(await value(registry, 'nacos_client_call_ejections_total', { service: 'a' }), 1)
  t.equal(await value(registry, 'nacos_client_call_failures_total', { service: 'a' }), 1, 'only the failed attempt not retried')
  t.equal(await value(registry, 'nacos_client_call_duration_ms', { service: 'a' }), 4, 'every attempt timed')
  t.match(await registry.metrics(), /^nacos_client_call_attempts_total\{service="a",outcome="failed"\} 2$/m, 'the text format agrees')
})

t.test(`the first ${MAX_CALL_SERVICES} services called get their own series, the rest count under _other`, async (t) => {
  const registry = new PromClient.Registry()
  const m = createMetrics(PromClient, registry, sources)
  t.teardown(m.close)
  for (let i = 0; i < MAX_CALL_SERVICES + 44; i++) m.observer.attempt(attempt(`s${i}`))
  m.observer.attempt(attempt('s0'))
  const { values } = await (registry.getSingleMetric('nacos_client_call_attempts_total') as PromClient.Counter).get()
  t.equal(values.length, MAX_CALL_SERVICES + 1, 'one series per service, and _other')
  t.equal(await value(registry, 'nacos_client_call_attempts_total', { service: '_other' }), 44)
  t.equal(await value(registry, 'nacos_client_call_attempts_total', { service: 's0' }), 2, 'a service with its own series keeps it')
  t.equal(await value(registry, 'nacos_client_call_duration_ms', { service: '_other' }), 44)
})
