// The one error handler that gives every failure the shared
// error shape: a stable code, the right status, a message without internals or secrets.
import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import type { MonitoringError } from './schemas.js'

/** Replaces every occurrence of a secret by ****, in case one ever reaches a message. */
export function scrubber (secrets: ReadonlyArray<string | undefined>): (text: string) => string {
  const values = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4)
  return (text) => values.reduce((t, s) => t.split(s).join('****'), text)
}

export function errorBody (statusCode: number, code: string, message: string): MonitoringError {
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message }
}

/** The error handler of the routes' context: 4xx and 503 keep their message, anything else is a plain 500. */
export function errorHandler (scrub: (text: string) => string) {
  return function handle (this: unknown, err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode <= 599 ? err.statusCode : 500
    if (status === 401) reply.header('www-authenticate', 'Bearer realm="nacos-monitoring"')
    if (status >= 500 && status !== 503) {
      request.log.error({ err }, 'monitoring route failed')
      void reply.code(500).send(errorBody(500, 'FST_NACOS_INTERNAL', 'Internal Server Error'))
      return
    }
    void reply.code(status).send(errorBody(status, err.code ?? 'FST_NACOS_ERROR', scrub(err.message)))
  }
}
