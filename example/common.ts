// What both example services share: their names in Nacos, ports from the environment, logging.
import type { FastifyServerOptions } from 'fastify'

export const API_SERVICE = 'example-api'
export const ECHO_SERVICE = 'example-echo'
/** The API's settings in the Nacos config center (published by `npm run demo` when absent). */
export const API_CONFIG = 'example-api.yaml'

/** A TCP port from the environment: a clear one-line failure instead of listening somewhere else. */
export function portFrom (name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid ${name}=${JSON.stringify(raw)}: expected a port number 0-65535`)
  }
  return port
}

/** The app's level, which the plugin's logs follow (NACOS_LOG_LEVEL would set the plugin's own): LOG_LEVEL=debug shows every Nacos call. */
export function loggerOptions (): NonNullable<FastifyServerOptions['logger']> {
  return { level: process.env.LOG_LEVEL ?? 'info' }
}

export const HOST = process.env.HOST ?? '127.0.0.1'
