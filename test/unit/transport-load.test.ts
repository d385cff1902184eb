// The plugin entry loads only the chosen transport: the `nacos` SDK is not loaded before the HTTP
// transport is asked for, and `grpc` is refused with a clear configuration error for now.
import t from 'tap'
import { createRequire } from 'node:module'
import Fastify from 'fastify'
import nacos from '../../src/index.ts'

const cache = createRequire(import.meta.url).cache
const sdkLoaded = (): boolean => Object.keys(cache).some((file) => /node_modules[\\/]nacos(-naming|-config)?[\\/]/.test(file))

t.test('importing the plugin does not load the nacos SDK', async (t) => {
  t.notOk(sdkLoaded())
})

t.test('transport "grpc": registration fails with FST_NACOS_TRANSPORT_UNAVAILABLE, nothing loaded', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await t.rejects(async () => { await app.register(nacos, { serviceName: 'unit-grpc', transport: 'grpc', dotenv: false, handleSignals: false, monitoring: false }).ready() }, {
    code: 'FST_NACOS_TRANSPORT_UNAVAILABLE',
    message: /grpc transport is not available yet/
  })
  t.notOk(sdkLoaded())
})

t.test('transport "http" (the default): the SDK is loaded when the plugin registers; app.nacos.client is the SDK client', async (t) => {
  const app = Fastify()
  await app.register(nacos, { serviceName: 'unit-http', serverAddr: '127.0.0.1:1', dotenv: false, handleSignals: false, monitoring: false, logLevel: 'silent' })
  t.ok(sdkLoaded())
  t.type(app.nacos.client.registerInstance, 'function')
  await app.close()
})
