// One error shape at the seam: whatever a transport (or the SDK under it) throws leaves the
// transport as a declared FST_NACOS_* error, with the same code for the same failure on either
// transport: no answer (refused, reset, timed out) FST_NACOS_REQUEST_FAILED, credentials refused
// FST_NACOS_AUTH_FAILED, Nacos's own error FST_NACOS_SERVER_ERROR, after close FST_NACOS_CLOSED.
import { ClosedError, FuzzyWatchUnsupportedError, NacosAuthError, NacosServerError, RequestFailedError } from '../errors.js'
import type { Transport } from './types.js'

const hasCode = (err: unknown): err is Error & { code: string } => {
  const code = (err as { code?: unknown } | undefined)?.code
  return err instanceof Error && typeof code === 'string' && code.startsWith('FST_NACOS_')
}

/** The gRPC transport's internal error (grpc/errors.ts), told by its fields: this module loads no gRPC code. */
interface KindError extends Error { kind: 'unavailable' | 'timeout' | 'auth' | 'server' | 'closed' | 'unsupported', requestType?: string, reason?: string }
const hasKind = (err: unknown): err is KindError => err instanceof Error && typeof (err as { kind?: unknown }).kind === 'string'

export function toNacosError (err: unknown, what: string): Error {
  if (hasCode(err)) return err
  if (hasKind(err)) {
    const subject = err.requestType ?? what
    switch (err.kind) {
      case 'auth': return new NacosAuthError(err.message)
      case 'closed': return new ClosedError('transport')
      case 'unsupported': return new FuzzyWatchUnsupportedError(err.message)
      // FST_NACOS_SERVER_ERROR names the request: its reason is Nacos's answer alone.
      case 'server': return new NacosServerError(subject, err.reason ?? err.message, { cause: err })
      default: return new RequestFailedError('gRPC', subject, err.message, { cause: err })
    }
  }
  // The SDK's own errors carry ours as their cause.
  const cause = err instanceof Error ? err.cause : undefined
  if (hasCode(cause)) return cause
  return new RequestFailedError('Nacos', what, err instanceof Error ? err.message : String(err), { cause: err })
}

/** The methods of `target`, each throwing (or rejecting with) only FST_NACOS_* errors. */
function guarded<T extends object> (target: T, area: string): T {
  return new Proxy(target, {
    get (obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown
      if (typeof value !== 'function') return value
      const what = `${area} ${String(prop)}`
      return (...args: unknown[]) => {
        let result: unknown
        try {
          result = (value as (...a: unknown[]) => unknown).apply(obj, args)
        } catch (err) {
          throw toNacosError(err, what)
        }
        return result instanceof Promise ? result.catch((err: unknown) => { throw toNacosError(err, what) }) : result
      }
    }
  })
}

/** The transport with its naming and config errors made FST_NACOS_* ones. */
export function withNacosErrors<T extends Transport> (transport: T): T {
  const naming = guarded(transport.naming, 'naming')
  const config = guarded(transport.config, 'config')
  return new Proxy(transport, {
    get (obj, prop, receiver) {
      if (prop === 'naming') return naming
      if (prop === 'config') return config
      return Reflect.get(obj, prop, receiver) as unknown
    }
  })
}
