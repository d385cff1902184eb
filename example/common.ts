// What both example services share: their names in Nacos, their environment, logging.
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import fastifyEnv from '@fastify/env'
import { Type, type Static } from '@fastify/type-provider-typebox'
import { EnvSchema } from 'fastify-nacos'

export const API_SERVICE = 'example-api'
export const ECHO_SERVICE = 'example-echo'
/** The API's settings in the Nacos config center (published by `npm run demo` when absent). */
export const API_CONFIG = 'example-api.yaml'

/**
 * A service's environment: its own variables composed with the plugin's settings (EnvSchema), so
 * one @fastify/env validates both, with one error for a bad value, and reads .env once.
 */
function appEnvSchema (defaultPort: number) {
  return Type.Object({
    ...EnvSchema.properties,
    PORT: Type.Integer({ minimum: 0, maximum: 65535, default: defaultPort }),
    HOST: Type.String({ default: '127.0.0.1' })
  })
}
export type AppEnv = Static<ReturnType<typeof appEnvSchema>>

/**
 * Registers @fastify/env (which loads .env into process.env: the app's choice) and returns the
 * validated environment. Hand it to fastify-nacos as `env`, with `dotenv: false`.
 */
export async function configure (app: FastifyInstance, defaultPort: number): Promise<AppEnv> {
  await app.register(fastifyEnv, { schema: appEnvSchema(defaultPort), dotenv: true })
  return app.getEnvs<AppEnv>()
}

/** The app's level, which the plugin's logs follow (NACOS_LOG_LEVEL would set the plugin's own): LOG_LEVEL=debug shows every Nacos call. */
export function loggerOptions (): NonNullable<FastifyServerOptions['logger']> {
  return { level: process.env.LOG_LEVEL ?? 'info' }
}
