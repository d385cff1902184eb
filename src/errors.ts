// Errors with stable codes users can match on (`err.code`), made with @fastify/error.
import createError from '@fastify/error'

/** A bad setting: one line naming the setting, its (masked) value and what is expected. */
export class ConfigError extends Error {
  override name = 'NacosConfigError'
  readonly code = 'FST_NACOS_BAD_CONFIG'
  constructor (readonly setting: string, readonly value: string, readonly expected: string) {
    super(`fastify-nacos: invalid ${setting === value.split('=')[0] ? value : `${setting} (${value})`}: expected ${expected}`)
  }
}

export const RegistrationFailedError = createError<[string, string]>(
  'FST_NACOS_REGISTRATION_FAILED', 'Registration of %s with Nacos failed: %s', 503)

export const NotListeningError = createError(
  'FST_NACOS_NOT_LISTENING', 'The server is not listening yet: nothing to register', 409)

export const RegistrationDisabledError = createError(
  'FST_NACOS_REGISTRATION_DISABLED', 'Registration is disabled (NACOS_REGISTER_ENABLED=false)', 409)
