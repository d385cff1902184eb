import { expect, test } from 'tstyche'
import { Type } from '@sinclair/typebox'
import type { Discovery, Instance } from '../src/naming/discovery.js'
import type { ConfigCenter } from '../src/config/center.js'
import { pickInstance, createBalancerState } from '../src/naming/balancer.js'

declare const discovery: Discovery
declare const center: ConfigCenter

test('discovery', () => {
  expect(discovery.pick('svc')).type.toBe<Promise<Instance>>()
  expect(discovery.pickCached('svc')).type.toBe<Instance | undefined>()
  expect(discovery.instances('svc', { healthyOnly: true })).type.toBe<Promise<readonly Instance[]>>()
  expect(discovery.pick).type.not.toBeCallableWith('svc', { strategy: 'fastest' })
  expect(discovery.subscribe('svc', (list) => { expect(list).type.toBe<readonly Instance[]>() })).type.toBe<() => void>()
  expect(pickInstance).type.not.toBeCallableWith([], 'least-connections', createBalancerState())
})

test('config center', () => {
  const Settings = Type.Object({ port: Type.Integer(), tags: Type.Array(Type.String()) })
  expect(center.get('app.yaml', { schema: Settings })).type.toBe<Promise<{ port: number, tags: string[] } | undefined>>()
  expect(center.get('app.txt', { type: 'text' })).type.toBe<Promise<string | undefined>>()
  expect(center.get('app.properties', { type: 'properties' })).type.toBe<Promise<Record<string, string> | undefined>>()
  expect(center.get('app.json')).type.toBe<Promise<unknown>>()
  expect(center.get).type.not.toBeCallableWith('app.json', { type: 'toml' })
  center.watch('app.yaml', { schema: Settings }, (value, raw) => {
    expect(value).type.toBe<{ port: number, tags: string[] } | undefined>()
    expect(raw).type.toBe<string | undefined>()
  })
})
