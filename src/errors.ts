// Every error of the plugin, made with @fastify/error: a stable `err.code` users can match on and
// the HTTP status the monitoring routes answer with. Nothing else under src/ defines an error.
import { createError } from '@fastify/error'

const BadSettingError = createError<[what: string, expected: string]>(
  'FST_NACOS_BAD_SETTING', 'fastify-nacos: invalid %s: expected %s', 500)

/** A bad setting: one line naming the setting, its (masked) value and what is expected. */
export class SettingError extends BadSettingError {
  readonly setting: string
  readonly value: string
  readonly expected: string
  constructor (setting: string, value: string, expected: string) {
    super(setting === value.split('=')[0] ? value : `${setting} (${value})`, expected)
    this.name = 'NacosSettingError'
    this.setting = setting
    this.value = value
    this.expected = expected
  }
}

/** `app.nacos.client` read in an app whose transport has no SDK client. */
export const NoSdkClientError = createError<[transport: string]>(
  'FST_NACOS_NO_SDK_CLIENT', 'fastify-nacos: app.nacos.client is the nacos SDK naming client, which only the http transport has (this app uses NACOS_TRANSPORT=%s); use app.nacos.instances/pick/subscribe/config instead', 500)

/** An SDK field or method this plugin relies on is missing: the installed `nacos` is not the one it was written for. */
export const SdkMismatchError = createError<[version: string, missing: string]>(
  'FST_NACOS_SDK_MISMATCH', 'fastify-nacos: the installed nacos SDK %s lacks %s, which fastify-nacos relies on; install nacos@2.6.3 exactly', 500)

export const NacosUnusableError = createError<[reasons: string]>(
  'FST_NACOS_NOT_USABLE', 'fastify-nacos: Nacos is not usable at start-up (NACOS_FAIL_FAST=true): %s', 503)

/** `cause`: the transport's error (FST_NACOS_SERVER_ERROR / FST_NACOS_AUTH_FAILED: refused; FST_NACOS_REQUEST_FAILED: no answer). */
export const RegistrationFailedError = createError<[service: string, reason: string, options?: { cause: unknown }]>(
  'FST_NACOS_REGISTRATION_FAILED', 'Registration of %s with Nacos failed: %s', 503)

export const NotListeningError = createError(
  'FST_NACOS_NOT_LISTENING', 'The server is not listening yet: nothing to register', 409)

export const RegistrationDisabledError = createError(
  'FST_NACOS_REGISTRATION_DISABLED', 'Registration is disabled (NACOS_REGISTER_ENABLED=false)', 409)

export const NoInstanceError = createError<[service: string, group: string, options?: { cause: unknown }]>(
  'FST_NACOS_NO_INSTANCE', 'No available instance of service %s (group %s)', 503)

export const ConfigInvalidError = createError<[dataId: string, group: string, path: string, reason: string]>(
  'FST_NACOS_CONFIG_INVALID', 'Config %s (group %s) is invalid at %s: %s', 500)

/** Nacos refused our credentials, or its login answer carried no token. */
export const NacosAuthError = createError<[message: string]>(
  'FST_NACOS_AUTH_FAILED', '%s', 401)

const RequestFailedBase = createError<[method: string, url: string, reason: string, options?: { cause: unknown }]>(
  'FST_NACOS_REQUEST_FAILED', '%s %s: %s', 503)

/** One HTTP request to Nacos got no answer; `reason` is the short why (ECONNREFUSED, a timeout), `cause` the original error. */
export class RequestFailedError extends RequestFailedBase {
  readonly reason: string
  constructor (method: string, url: string, reason: string, options?: { cause: unknown }) {
    super(method, url, reason, ...(options === undefined ? [] : [options]))
    this.reason = reason
  }
}

/**
 * The server does not serve the protocol of the chosen transport: HTTP 410 to a v1 call (Nacos 3.2
 * removed the v1 API; 3.0/3.1 with nacos.core.api.compatibility.client.enabled=false).
 */
export const WrongTransportError = createError<[server: string]>(
  'FST_NACOS_WRONG_TRANSPORT', 'Nacos at %s does not serve the v1 HTTP API that NACOS_TRANSPORT=http uses (it answered 410 Gone, as Nacos 3.2+ does); set NACOS_TRANSPORT=grpc', 503)

/** Nacos answered a request with an error of its own (a refusal of credentials is FST_NACOS_AUTH_FAILED). */
export const NacosServerError = createError<[what: string, reason: string, options?: { cause: unknown }]>(
  'FST_NACOS_SERVER_ERROR', 'Nacos refused %s: %s', 502)

/** A call after close(): the plugin is shutting down. */
export const ClosedError = createError<[what: string]>(
  'FST_NACOS_CLOSED', 'the Nacos %s is closed', 503)

export const NoSnapshotError = createError<[dataId: string, group: string, reason: string, options?: { cause: unknown }]>(
  'FST_NACOS_NO_SNAPSHOT', 'fastify-nacos: config %s (group %s) could not be read from Nacos (%s) and no snapshot of it exists (NACOS_SNAPSHOT_DIR)', 503)

export const NacosUnavailableError = createError<[service: string, reason: string]>(
  'FST_NACOS_UNAVAILABLE', 'Nacos did not answer the lookup of service %s: %s', 503)

export const TooManyLookupsError = createError<[limit: number]>(
  'FST_NACOS_TOO_MANY_LOOKUPS', 'The monitoring API follows %d distinct services, each looked up within the last minute; look up a known one or retry later', 429)

export const RouteNotFoundError = createError<[method: string, url: string]>(
  'FST_NACOS_ROUTE_NOT_FOUND', 'Route %s %s not found', 404)

/** app.nacos.fetch / app.nacos.dispatcher: no attempt reached an instance that answered; `cause` is the last attempt's error. */
export const FetchFailedError = createError<[service: string, attempts: number, reason: string, options?: { cause: unknown }]>(
  'FST_NACOS_FETCH_FAILED', 'Request to service %s failed after %d attempt(s): %s', 502)

/** Metrics are on but prom-client cannot be loaded. */
export const MetricsUnavailableError = createError<[reason: string]>(
  'FST_NACOS_METRICS_UNAVAILABLE', 'fastify-nacos: metrics are on (NACOS_METRICS or the metrics option) but prom-client could not be loaded: %s; install it with `npm install prom-client`', 500)
/** A fuzzy watch where it cannot be served: the http transport, or a server older than Nacos 3. */
export const FuzzyWatchUnsupportedError = createError<[where: string]>(
  'FST_NACOS_FUZZY_WATCH_UNSUPPORTED', 'Fuzzy watch needs a Nacos 3.x server and NACOS_TRANSPORT=grpc: %s', 501)

/** A fuzzy watch pattern Nacos cannot match: each part exact, `*`, `prefix*`, `*suffix` or `*infix*`. */
export const FuzzyPatternError = createError<[pattern: string, reason: string]>(
  'FST_NACOS_FUZZY_PATTERN', 'Invalid fuzzy watch pattern %s: %s', 400)

/** The server's limits: patterns per server (nacos.{naming,config}.fuzzy.watch.max.pattern.count) or matches of one. */
export const FuzzyWatchLimitError = createError<[pattern: string, reason: string, options?: { cause: unknown }]>(
  'FST_NACOS_FUZZY_WATCH_LIMIT', 'Nacos refused the fuzzy watch of %s: %s', 429)
