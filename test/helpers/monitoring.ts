// Apps with the monitoring routes mounted, for the routes, OpenAPI and fuzz tests.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import nacos, { type NacosPluginOptions } from '../../src/index.ts'
import { NACOS_ADDR, uniqueService } from './nacos-api.ts'

export const PREFIX = '/monitoring/nacos'
export const TOKEN = 'monitoring-token-7d1f0c9a2b'
export const AUTH = { authorization: `Bearer ${TOKEN}` }
/** Secrets that no response may ever contain. The SDK only signs with the keys; Nacos without auth ignores them. */
export const SECRETS = { accessKey: 'access-key-4b2e9f01', secretKey: 'secret-key-c83a5d77e1' }

export const base = { serverAddr: NACOS_ADDR, ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'warn' as const }

interface Teardown { teardown: (fn: () => unknown) => void }

/** A Fastify app with the plugin registered (closed on teardown); `options` go to the plugin. */
export async function monitoredApp (t: Teardown, options: NacosPluginOptions = {}, server: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify(server)
  t.teardown(async () => await app.close())
  await app.register(nacos, { ...base, serviceName: uniqueService('mon'), ...options })
  return app
}

/** Every string value that must never leave the server. */
export function secretValues (): string[] {
  return [TOKEN, SECRETS.accessKey, SECRETS.secretKey]
}
