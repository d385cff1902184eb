import { expect, test } from 'tstyche'
import Fastify from 'fastify'
import { Type } from '@sinclair/typebox'
import nacos, { detectIp, fastifyNacos, type Instance, type NacosRegistry, type NacosStatus, type RegistryStatus } from '../src/index.js'

test('detectIp', () => {
  expect(detectIp()).type.toBe<string>()
  expect(detectIp).type.not.toBeCallableWith({ preferredInterfaces: 'eth0' })
})

test('the plugin accepts typed options and rejects wrong ones', () => {
  const app = Fastify()
  expect(app.register).type.toBeCallableWith(nacos)
  expect(app.register).type.toBeCallableWith(nacos, { serviceName: 'orders', heartbeatInterval: 5, metadata: { zone: 'a' } })
  expect(app.register).type.toBeCallableWith(fastifyNacos, { serverAddr: ['a:1', 'b:2'], handleSignals: false })
  expect(app.register).type.not.toBeCallableWith(nacos, { heartbeatInterval: '5' })
  expect(app.register).type.not.toBeCallableWith(nacos, { metadata: { n: 1 } })
  expect(app.register).type.not.toBeCallableWith(nacos, { logLevel: 'loud' })
  expect(app.register).type.not.toBeCallableWith(nacos, { port: '8080' })
  expect(app.register).type.toBeCallableWith(nacos, { transport: 'http', preferredNetworks: ['10.'] })
  expect(app.register).type.not.toBeCallableWith(nacos, { transport: 'udp' })
  expect(app.register).type.not.toBeCallableWith(nacos, { preferredNetworks: '10.' })
  expect(app.register).type.not.toBeCallableWith(nacos, { monitoringToken: 'set it as monitoring.token' })
  expect(app.register).type.not.toBeCallableWith(nacos, { heartbeatIntervalMs: 5000 })
})

test('app.nacos is typed by module augmentation', () => {
  const app = Fastify()
  expect(app.nacos).type.toBe<NacosRegistry>()
  expect(app.nacos.status()).type.toBe<NacosStatus>()
  expect(app.nacos.status()).type.toBeAssignableTo<RegistryStatus>()
  expect(app.nacos.status().snapshots.configs[0]?.savedAt).type.toBe<string | undefined>()
  expect(app.nacos.status().state).type.toBe<'idle' | 'registering' | 'registered' | 'retrying' | 'deregistered'>()
  expect(app.nacos.register()).type.toBe<Promise<RegistryStatus>>()
  expect(app.nacos.deregister()).type.toBe<Promise<RegistryStatus>>()
  expect(app.nacos.registered()).type.toBe<Promise<RegistryStatus>>()
  expect(app.nacos.registered).type.not.toBeCallableWith({ timeout: 1000 })
  expect(app.nacos.settings.password).type.toBe<string | undefined>()
  expect(app.nacos).type.not.toHaveProperty('start')
})

test('discovery and config through app.nacos', () => {
  const app = Fastify()
  expect(app.nacos.pick('orders')).type.toBe<Promise<Instance>>()
  expect(app.nacos.pickUrl('orders', { strategy: 'round-robin' })).type.toBe<Promise<string>>()
  expect(app.nacos.pickCached('orders')).type.toBe<Instance | undefined>()
  expect(app.nacos.instances('orders', { group: 'G', clusters: ['a'], healthyOnly: true })).type.toBe<Promise<readonly Instance[]>>()
  expect(app.nacos.pick).type.not.toBeCallableWith('orders', { strategy: 'least-conn' })
  expect(app.nacos.subscribe('orders', () => {})).type.toBe<() => void>()
  const Limits = Type.Object({ rps: Type.Number() })
  expect(app.nacos.config.get('limits.yaml', { schema: Limits })).type.toBe<Promise<{ rps: number } | undefined>>()
  expect(app.nacos.configs).type.toBeAssignableTo<ReadonlyMap<string, unknown>>()
  expect(app.register).type.toBeCallableWith(nacos, { configs: [{ dataId: 'limits.yaml', schema: Limits }] })
  expect(app.register).type.not.toBeCallableWith(nacos, { configs: [{ key: 'limits' }] })
})
