// What the gRPC transport throws: plain Error subclasses whose message says what failed, where,
// and why, in words. `kind` lets the plugin map them to its FST_NACOS_* codes without parsing
// messages; no gRPC status number is the only information, and no secret is ever included.

export type GrpcErrorKind =
  /** No server answered (connection refused, timed out, server starting, stream down). */
  | 'unavailable'
  /** A request did not complete within requestTimeoutMs. */
  | 'timeout'
  /** Login failed, or the server refused a request for lack of rights (Nacos 403). */
  | 'auth'
  /** The server answered the request with an error (Nacos errorCode and message kept). */
  | 'server'
  /** The transport was closed. */
  | 'closed'
  /** The server does not serve this request (an older Nacos: no handler for it). */
  | 'unsupported'

export class GrpcTransportError extends Error {
  readonly kind: GrpcErrorKind
  /** Nacos's errorCode, when the server answered with one. */
  readonly errorCode: number | undefined
  /** The request type (Nacos's class name), when the error concerns one request. */
  readonly requestType: string | undefined
  /** Nacos's answer alone (`error 400: …`), for a message that names the request itself. */
  readonly reason: string | undefined

  constructor (kind: GrpcErrorKind, message: string, opts: { errorCode?: number, requestType?: string, reason?: string, cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'GrpcTransportError'
    this.kind = kind
    this.errorCode = opts.errorCode
    this.requestType = opts.requestType
    this.reason = opts.reason
  }
}

export function closedError (type?: string): GrpcTransportError {
  return new GrpcTransportError('closed', `the Nacos gRPC transport is closed${type ? ` (${type} not sent)` : ''}`, type ? { requestType: type } : {})
}

// Nacos's own error codes, as its Java API defines them (NacosException, ConfigQueryResponse).
export const NACOS_NO_RIGHT = 403
export const NACOS_UN_REGISTER = 301
export const NACOS_INVALID_SERVER_STATUS = 300
export const NACOS_NO_HANDLER = 302
export const NACOS_CONFIG_NOT_FOUND = 300
/** A config read that met a write of the same config on the server: "please try later". */
export const NACOS_CONFIG_QUERY_CONFLICT = 400

/** A Nacos error answer to `type`: auth when the server says no right, else a server error. */
export function answerError (type: string, errorCode: number, message: string): GrpcTransportError {
  const kind = errorCode === NACOS_NO_RIGHT ? 'auth' : 'server'
  const reason = `error ${errorCode}${message ? `: ${message}` : ''}`
  return new GrpcTransportError(kind, `Nacos refused ${type} (${reason})`, { errorCode, requestType: type, reason })
}

/** Nacos 3's ErrorCode for a fuzzy watch pattern that matches more than the server allows. */
export const NACOS_FUZZY_MATCH_OVER_LIMIT = 50311
