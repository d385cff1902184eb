import { expect, test } from 'tstyche'
import type { FastifyInstance } from 'fastify'
import type { FuzzyWatchHandle } from '../src/index.js'
import '../src/index.js'

declare const app: FastifyInstance

test('fuzzy watch', () => {
  expect(app.nacos.fuzzyWatch({ service: 'orders-*' }, (e) => {
    expect(e.change).type.toBe<'added' | 'removed'>()
    expect(e.service).type.toBe<string>()
  })).type.toBe<Promise<FuzzyWatchHandle>>()
  expect(app.nacos.config.fuzzyWatch({ dataId: 'app-*', group: 'G' }, (e) => { expect(e.dataId).type.toBe<string>() })).type.toBe<Promise<FuzzyWatchHandle>>()
  expect(app.nacos.fuzzyWatch).type.not.toBeCallableWith({ dataId: 'app-*' }, () => {})
  expect(app.nacos.config.fuzzyWatch).type.not.toBeCallableWith({ service: 'orders-*' }, () => {})
})
