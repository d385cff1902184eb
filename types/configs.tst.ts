import { expect, test } from 'tstyche'
import Fastify from 'fastify'
import { Type } from '@sinclair/typebox'
import nacos, { type PreloadEntry } from '../src/index.js'

const Limits = Type.Object({ rps: Type.Number(), burst: Type.Optional(Type.Integer()) })
const limits = { dataId: 'limits.yaml', key: 'limits', schema: Limits }

test('app.nacos.configs.get(entry) is typed by the entry\'s schema; undefined while the config is absent or removed', () => {
  const app = Fastify()
  expect(app.register).type.toBeCallableWith(nacos, { configs: [limits] })
  expect(app.nacos.configs.get(limits)).type.toBe<{ rps: number, burst?: number } | undefined>()
  expect(app.nacos.configs.get(limits)?.rps).type.toBe<number | undefined>()
})

test('a key, or an entry without a schema, gives unknown: nothing claims a type no schema checked', () => {
  const app = Fastify()
  expect(app.nacos.configs.get('limits')).type.toBe<unknown>()
  expect(app.nacos.configs.get({ dataId: 'flags.json' })).type.toBe<unknown>()
})

test('an entry is a PreloadEntry of its schema; a wrong entry does not compile', () => {
  expect(limits).type.toBeAssignableTo<PreloadEntry<typeof Limits>>()
  const app = Fastify()
  expect(app.nacos.configs.get).type.not.toBeCallableWith(42)
  expect(app.nacos.configs.get).type.not.toBeCallableWith({ key: 'limits' })
})
