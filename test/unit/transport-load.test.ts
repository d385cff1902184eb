// The plugin entry loads only the chosen transport: the `nacos` SDK is not loaded before the HTTP
// transport is asked for, and @grpc/grpc-js not before the gRPC transport is.
import t from 'tap'
import { createRequire } from 'node:module'
import Fastify from 'fastify'
import nacos from '../../src/index.ts'

// This file is about the default: CI's NACOS_TRANSPORT=http run must not change it.
delete process.env.NACOS_TRANSPORT
const cache = createRequire(import.meta.url).cache
const sdkLoaded = (): boolean => Object.keys(cache).some((file) => /node_modules[\\/]nacos(-naming|-config)?[\\/]/.test(file))

t.test('importing the plugin does not load the nacos SDK', async (t) => {
  t.notOk(sdkLoaded())
})

const grpcLoaded = (): boolean => Object.keys(cache).some((file) => /node_modules[\\/]@grpc[\\/]grpc-js[\\/]/.test(file))

t.test('importing the plugin loads neither transport', async (t) => {
  t.notOk(grpcLoaded())
})

t.test('transport "grpc" (the default): gRPC is loaded, the SDK is not; app.nacos.client says why it is absent', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(nacos, { serviceName: 'unit-grpc', serverAddr: '127.0.0.1:1', dotenv: false, handleSignals: false, monitoring: false, logLevel: 'silent' }).ready()
  t.ok(grpcLoaded())
  t.notOk(sdkLoaded())
  t.notOk(Object.keys(cache).some((file) => /node_modules[\\/]undici[\\/]/.test(file)), 'undici waits for the first app.nacos.fetch')
  t.throws(() => app.nacos.client, { code: 'FST_NACOS_NO_SDK_CLIENT', message: /only the http transport has \(this app uses NACOS_TRANSPORT=grpc\)/ })
})

t.test('transport "http": the SDK is loaded when the plugin registers; app.nacos.client is the SDK client', async (t) => {
  const app = Fastify()
  await app.register(nacos, { serviceName: 'unit-http', transport: 'http', serverAddr: '127.0.0.1:1', dotenv: false, handleSignals: false, monitoring: false, logLevel: 'silent' })
  t.ok(sdkLoaded())
  t.type(app.nacos.client.registerInstance, 'function')
  await app.close()
})
