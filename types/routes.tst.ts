import { expect, test } from 'tstyche'
import Fastify from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Static } from '@sinclair/typebox'
import nacos, {
  MonitoringRouteSchemas, ServiceSchema, InstanceListSchema,
  type MonitoringError, type MonitoringHealthDown, type MonitoringHealthUp, type MonitoringInstance, type MonitoringInstanceList,
  type MonitoringInstancesParams, type MonitoringInstancesQuery, type MonitoringService
} from '../src/index.js'

type State = 'idle' | 'registering' | 'registered' | 'retrying' | 'deregistered'

test('the exported static types are the schemas\' types', () => {
  expect<Static<typeof ServiceSchema>>().type.toBe<MonitoringService>()
  expect<Static<typeof InstanceListSchema>>().type.toBe<MonitoringInstanceList>()
  expect<MonitoringService['state']>().type.toBe<State>()
  expect<MonitoringService['ip']>().type.toBe<string | null>()
  expect<MonitoringService['heartbeat']>().type.toBe<{ intervalMs: number, timeoutMs: number, deregisterTimeMs: number }>()
  expect<MonitoringInstanceList['instances']>().type.toBe<MonitoringInstance[]>()
  expect<MonitoringHealthUp>().type.toBe<{ status: 'UP', state: State, degraded?: true, detail?: string }>()
  expect<MonitoringHealthDown>().type.toBe<{ status: 'DOWN', state: State, reason: string }>()
  expect<MonitoringError>().type.toBe<{ statusCode: number, code: string, error: string, message: string }>()
  expect<MonitoringInstancesQuery>().type.toBe<{ group?: string, clusters?: string, healthyOnly?: boolean }>()
  expect<MonitoringService>().type.not.toHaveProperty('password')
  expect<MonitoringService>().type.not.toHaveProperty('token')
})

test('the route schemas type handlers exactly as the plugin\'s routes', () => {
  const app = Fastify().withTypeProvider<TypeBoxTypeProvider>()
  app.get('/i/:serviceName', { schema: MonitoringRouteSchemas.instances }, async (request) => {
    expect(request.params).type.toBe<MonitoringInstancesParams>()
    expect(request.query).type.toBe<MonitoringInstancesQuery>()
    return { serviceName: request.params.serviceName, group: 'G', count: 0, instances: [] }
  })
  app.get('/h', { schema: MonitoringRouteSchemas.health }, async (_request, reply) => {
    return await reply.code(503).send({ status: 'DOWN', state: 'retrying', reason: 'Nacos does not answer' })
  })
  expect(app.get).type.not.toBeCallableWith('/s', { schema: MonitoringRouteSchemas.service }, async () => ({ serviceName: 1 }))
  expect(app.get).type.not.toBeCallableWith('/i/:serviceName', { schema: MonitoringRouteSchemas.instances }, async () => ({ count: 'none' }))
})

test('the monitoring option is typed', () => {
  const app = Fastify()
  expect(app.register).type.toBeCallableWith(nacos, { monitoring: false })
  expect(app.register).type.toBeCallableWith(nacos, { monitoring: { prefix: '/ops', token: 'a-long-enough-token', protectReads: true, openapi: false } })
  expect(app.register).type.toBeCallableWith(nacos, { monitoring: { swaggerUi: true } })
  expect(app.register).type.toBeCallableWith(nacos, { monitoring: { swaggerUi: '/docs' } })
  expect(app.register).type.not.toBeCallableWith(nacos, { monitoring: true })
  expect(app.register).type.not.toBeCallableWith(nacos, { monitoring: { swaggerUi: 1 } })
  expect(app.register).type.not.toBeCallableWith(nacos, { monitoring: { token: 12345 } })
  expect(app.nacos.settings.monitoringToken).type.toBe<string | undefined>()
})
