// The `env` option: an app that validated its environment with @fastify/env (EnvSchema composed
// into its own schema) hands app.config to the plugin, which reads its settings from it instead of
// process.env. No Nacos needed: registration is disabled and nothing is asked of the server.
import t from 'tap'
import Fastify from 'fastify'
import fastifyEnv from '@fastify/env'
import { Type } from '@sinclair/typebox'
import nacos, { EnvSchema } from '../../src/index.ts'

t.test('settings come from the env option (typed values of @fastify/env), not from process.env', async (t) => {
  process.env.NACOS_SERVICE_NAME = 'from-process-env'
  t.teardown(() => { delete process.env.NACOS_SERVICE_NAME })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyEnv, {
    schema: Type.Object({ ...EnvSchema.properties, PORT: Type.Integer({ default: 3000 }) }),
    data: { NACOS_SERVICE_NAME: 'from-app-config', NACOS_WEIGHT: '3', NACOS_REGISTER_ENABLED: 'false', NACOS_SERVER_ADDR: '127.0.0.1:1' }
  })
  const env = app.getEnvs<Record<string, unknown>>()
  t.equal(env.NACOS_WEIGHT, 3, '@fastify/env made a number of it')
  await app.register(nacos, { env, dotenv: false, handleSignals: false, monitoring: false })
  await app.ready()
  t.equal(app.nacos.settings.serviceName, 'from-app-config')
  t.equal(app.nacos.settings.weight, 3)
  t.equal(app.nacos.settings.registerEnabled, false)
  t.same(app.nacos.settings.serverAddr.map((s) => `${s.host}:${s.port}`), ['127.0.0.1:1'])
})
