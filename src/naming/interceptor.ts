// The dispatcher behind app.nacos.fetch and app.nacos.dispatcher: the host of the URL names a
// service; each attempt goes to an instance picked from discovery's cache, and a request that
// failed on one instance is sent again to another one while that is safe:
// - it never reached an instance (refused, reset before any answer, connect timeout): any method;
// - it timed out waiting for the answer, or the answer is 502/503/504: idempotent methods only;
// - never when the body was already (partly) sent and cannot be sent again (a stream).
//
// It is a Dispatcher of its own, not an interceptor composed onto the Agent: undici's compose
// wraps the caller's handler (fetch and undici.request use the legacy one) into the new handler
// API and back again around an interceptor, turning every header into a Buffer and parsing it
// twice per request. Here each attempt speaks the Agent's legacy API, and a caller's handler
// gets the raw headers as they came, or parsed once when it uses the new API.
import { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import { FetchFailedError, NoInstanceError } from '../errors.js'
import { baseUrl, type BalancerState, type Instance } from './balancer.js'
import { instanceKey, selectInstance } from './select.js'
import type { Outliers } from './outliers.js'
import type { AttemptEvent, ResolvedFetchOptions, ServiceLookup } from './fetch-options.js'

type DispatchFn = Dispatcher['dispatch']
type Handler = Dispatcher.DispatchHandler
type RawHeaders = Buffer[]
type Body = Dispatcher.DispatchOptions['body']

/** What the dispatcher needs from the plugin. */
export interface InterceptorContext {
  lookup: ServiceLookup
  outliers: Outliers | undefined
  balancer: BalancerState
  /** The caller's cluster (NACOS_CLUSTER_NAME). */
  cluster: string
  log: { warn: (obj: object, msg: string) => void }
  /**
   * Who is told of each attempt right now (onAttempt, metrics, a `fastify-nacos:call` subscriber),
   * or undefined: then a warm request that needs no outlier bookkeeping makes no event at all.
   */
  attemptHook: () => ((event: AttemptEvent) => void) | undefined
}

const NEVER_REACHED = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH'])
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT'])
const RETRY_STATUS = new Set([502, 503, 504])
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])
const NOTHING_TRIED: ReadonlySet<string> = new Set()
const always = (): boolean => true
const NO_BODY = { body: null, replayable: always }

/** A body and whether it can still be sent again: buffers always, streams and iterables while untouched. */
export function trackBody (body: Body): { body: Body, replayable: () => boolean } {
  if (body === null || body === undefined) return NO_BODY
  if (typeof body === 'string' || body instanceof Uint8Array) return { body, replayable: always }
  if (typeof (body as { pipe?: unknown }).pipe === 'function') return { body, replayable: () => !Readable.isDisturbed(body as Readable) }
  const iterable = body as AsyncIterable<Uint8Array>
  if (typeof iterable[Symbol.asyncIterator] !== 'function' && typeof (body as Iterable<Uint8Array>)[Symbol.iterator] !== 'function') return { body, replayable: always }
  // fetch hands every body over as an async iterable: it can be sent again while nobody read it.
  let started = false
  const wrapped: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator] () {
      started = true
      return typeof iterable[Symbol.asyncIterator] === 'function'
        ? iterable[Symbol.asyncIterator]()
        : (async function * () { yield * (body as Iterable<Uint8Array>) })()
    }
  }
  return { body: wrapped as unknown as Body, replayable: () => !started }
}

/** Raw headers (name, value pairs of Buffers) as the new handler API has them: lower-cased names, repeats as arrays. */
function parseHeaders (raw: RawHeaders | null | undefined): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {}
  if (raw == null) return headers
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = String(raw[i]).toLowerCase()
    const rawValue = raw[i + 1] as Buffer | Buffer[]
    const value = Array.isArray(rawValue) ? rawValue.map(String) : String(rawValue)
    const known = headers[name]
    if (known === undefined) headers[name] = value
    else headers[name] = ([] as string[]).concat(known, value)
  }
  return headers
}

/** The controller a caller's handler of the new API sees: it outlives the attempts. */
class Controller implements Dispatcher.DispatchController {
  readonly #request: ServiceRequest
  paused = false
  constructor (request: ServiceRequest) { this.#request = request }
  get aborted (): boolean { return this.#request.reason !== null }
  get reason (): Error | null { return this.#request.reason }
  abort (reason: Error): void { this.#request.abort(reason) }
  pause (): void { this.paused = true }
  resume (): void {
    if (!this.paused) return
    this.paused = false
    this.#request.resume?.()
  }
}

/** One request to a service, over as many attempts as it takes; each attempt goes to the Agent as a legacy handler. */
class ServiceRequest {
  readonly #dispatch: DispatchFn
  readonly #opts: Dispatcher.DispatchOptions
  readonly #handler: Handler
  /** The caller's handler uses the legacy API (fetch, undici.request): raw headers pass through. */
  readonly #legacy: boolean
  readonly #ctx: InterceptorContext
  readonly #options: ResolvedFetchOptions
  readonly #service: string
  readonly #body: Body
  readonly #replayable: () => boolean
  readonly #idempotent: boolean
  #tried: Set<string> | undefined
  #controller: Controller | undefined
  #attempt = 0
  #instance: Instance | undefined
  #start = 0
  #connected = false
  #responded = false
  #discard = false
  /** The current attempt's abort, from the Agent. */
  #abortAttempt: ((reason: Error) => void) | undefined
  reason: Error | null = null
  resume: (() => void) | undefined

  constructor (dispatch: DispatchFn, opts: Dispatcher.DispatchOptions, handler: Handler, ctx: InterceptorContext, options: ResolvedFetchOptions, service: string, bytes?: string | Uint8Array) {
    this.#dispatch = dispatch
    this.#opts = opts
    this.#handler = handler
    this.#legacy = typeof handler.onRequestStart !== 'function'
    this.#ctx = ctx
    this.#options = options
    this.#service = service
    const tracked = trackBody(bytes ?? opts.body)
    this.#body = tracked.body
    this.#replayable = tracked.replayable
    const method = opts.method
    this.#idempotent = IDEMPOTENT.has(method) || IDEMPOTENT.has(method.toUpperCase())
  }

  /** The caller aborts: the attempt in flight ends with `reason`, and no other one starts. */
  abort = (reason: Error): void => {
    if (this.reason !== null) return
    this.reason = reason
    this.#abortAttempt?.(reason)
  }

  next (): void {
    if (this.reason !== null) { this.#fail(this.reason); return }
    // Kept from the second attempt on: a first attempt has tried nothing.
    if (this.#instance !== undefined) (this.#tried ??= new Set()).add(instanceKey(this.#instance))
    const cached = this.#ctx.lookup.cached(this.#service, this.#options.query)
    if (cached !== undefined) { this.#send(cached); return }
    this.#ctx.lookup.instances(this.#service, this.#options.query).then((list) => { this.#send(list) }, (err: unknown) => {
      this.#fail(new NoInstanceError(this.#service, this.#options.group, { cause: err }))
    })
  }

  #send (instances: readonly Instance[]): void {
    if (this.reason !== null) { this.#fail(this.reason); return }
    const outliers = this.#ctx.outliers
    const instance = selectInstance(instances, {
      strategy: this.#options.strategy,
      selector: this.#options.selector,
      cluster: this.#options.preferSameCluster ? this.#ctx.cluster : undefined,
      tried: this.#tried ?? NOTHING_TRIED,
      ejected: outliers === undefined || outliers.size === 0 ? undefined : outliers.isEjected
    }, this.#ctx.balancer, this.#options.strategy === 'round-robin' ? `${this.#options.group}@@${this.#service}` : '')
    if (instance === undefined) { this.#fail(new NoInstanceError(this.#service, this.#options.group)); return }
    this.#attempt++
    this.#instance = instance
    this.#start = Date.now()
    this.#discard = false
    this.#abortAttempt = undefined
    // Copied, then set: V8 makes `{ ...opts, origin, body, headersTimeout }` slow (about 2–3 µs, most
    // of the dispatcher's cost per request) when the spread object lacks a key the literal adds.
    const attempt: Dispatcher.DispatchOptions = Object.assign({}, this.#opts)
    attempt.origin = baseUrl(instance)
    attempt.body = this.#body
    attempt.headersTimeout = this.#options.timeout
    try {
      this.#dispatch(attempt, this as unknown as Handler)
    } catch (err) {
      this.onError(err as Error)
    }
  }

  #fail (err: Error): void {
    if (this.#legacy) this.#handler.onError?.(err)
    else this.#handler.onResponseError?.(this.#controller ??= new Controller(this), err)
  }

  /** Counts the attempt's outcome against its instance, logs an ejection or a retry, tells onAttempt. */
  #record (failed: boolean, retry: boolean, statusCode?: number, error?: Error): void {
    const { outliers, log } = this.#ctx
    const onAttempt = this.#ctx.attemptHook()
    if (!failed && !retry && onAttempt === undefined && (outliers === undefined || outliers.size === 0)) return
    const key = instanceKey(this.#instance as Instance)
    let ejectedMs = 0
    if (failed) ejectedMs = outliers?.failure(key) ?? 0
    else outliers?.success(key)
    if (ejectedMs > 0) log.warn({ service: this.#service, instance: key, ejectedMs }, 'instance ejected after consecutive failures')
    if (retry) log.warn({ service: this.#service, instance: key, attempt: this.#attempt, statusCode, err: error && { message: error.message, code: (error as { code?: string }).code } }, 'retrying on another instance')
    onAttempt?.({ service: this.#service, instance: key, attempt: this.#attempt, start: this.#start, duration: Date.now() - this.#start, statusCode, error, failed, retry, ejectedMs })
  }

  #canRetry (): boolean {
    return this.#attempt < this.#options.attempts && this.#replayable() && this.reason === null
  }

  // The legacy handler API, as the Agent calls it for each attempt.

  onConnect (abort: (reason: Error) => void, context?: object): void {
    this.#abortAttempt = abort
    if (this.reason !== null) { abort(this.reason); return }
    if (this.#connected) return
    this.#connected = true
    if (this.#legacy) (this.#handler as { onConnect?: (abort: (reason: Error) => void, context?: object) => void }).onConnect?.(this.abort, context)
    else this.#handler.onRequestStart?.(this.#controller ??= new Controller(this), context)
  }

  onBodySent (chunk: unknown): void {
    if (this.#legacy) (this.#handler as { onBodySent?: (chunk: unknown) => void }).onBodySent?.(chunk)
  }

  onRequestSent (): void {
    if (this.#legacy) (this.#handler as { onRequestSent?: () => void }).onRequestSent?.()
  }

  onResponseStarted (): void {
    (this.#handler as { onResponseStarted?: () => void }).onResponseStarted?.()
  }

  onUpgrade (statusCode: number, rawHeaders: RawHeaders, socket: import('node:stream').Duplex): void {
    this.#responded = true
    if (this.#legacy) this.#handler.onUpgrade?.(statusCode, rawHeaders, socket)
    else this.#handler.onRequestUpgrade?.(this.#controller ??= new Controller(this), statusCode, parseHeaders(rawHeaders), socket)
  }

  onHeaders (statusCode: number, rawHeaders: RawHeaders, resume: () => void, statusText?: string): boolean {
    const failed = RETRY_STATUS.has(statusCode)
    const retry = failed && this.#idempotent && this.#canRetry()
    this.#record(failed, retry, statusCode)
    if (retry) { this.#discard = true; return true }
    this.#responded = true
    if (this.#legacy) return this.#handler.onHeaders?.(statusCode, rawHeaders, resume, statusText as string) ?? true
    this.resume = resume
    const controller = this.#controller ??= new Controller(this)
    this.#handler.onResponseStart?.(controller, statusCode, parseHeaders(rawHeaders), statusText)
    return !controller.paused
  }

  onData (chunk: Buffer): boolean {
    if (this.#discard) return true
    if (this.#legacy) return this.#handler.onData?.(chunk) ?? true
    const controller = this.#controller ??= new Controller(this)
    this.#handler.onResponseData?.(controller, chunk)
    return !controller.paused
  }

  onComplete (rawTrailers: RawHeaders | null): void {
    if (this.#discard) { this.next(); return }
    if (this.#legacy) this.#handler.onComplete?.(rawTrailers as unknown as string[] | null)
    else this.#handler.onResponseEnd?.(this.#controller ??= new Controller(this), parseHeaders(rawTrailers))
  }

  onError (err: Error): void {
    if (this.#discard) { this.next(); return }
    if (this.#responded || this.reason !== null || this.#instance === undefined) { this.#fail(err); return }
    const code = (err as { code?: string }).code ?? ''
    const neverReached = NEVER_REACHED.has(code)
    const timedOut = TIMEOUTS.has(code)
    const retry = (neverReached || (timedOut && this.#idempotent)) && this.#canRetry()
    this.#record(neverReached || timedOut, retry, undefined, err)
    if (retry) { this.next(); return }
    this.#fail(neverReached || timedOut ? new FetchFailedError(this.#service, this.#attempt, err.message, { cause: err }) : err)
  }
}

let lastOrigin: unknown
let lastHost = ''
/** The host of a request's origin (`http://orders-api`, as fetch passes it): the service name. */
function hostOf (origin: Dispatcher.DispatchOptions['origin']): string {
  if (origin === lastOrigin) return lastHost
  let host: string | undefined
  if (typeof origin === 'string') {
    const match = /^[a-z][a-z0-9+.-]*:\/\/([^/:?#]+)/i.exec(origin)
    if (match !== null) host = (match[1] as string).toLowerCase()
  }
  host ??= new URL(String(origin)).hostname
  lastOrigin = origin
  lastHost = host
  return host
}

/**
 * Starts one request to a service: `resolve` gives its settings from the per-request `nacos`
 * field of the dispatch options; `bytes`, when given, is the request's body as bytes, sent
 * instead of the dispatched body so that every attempt can send it again.
 */
export function dispatchToService (dispatch: DispatchFn, ctx: InterceptorContext, opts: Dispatcher.DispatchOptions, handler: Handler,
  resolve: (perRequest: unknown) => ResolvedFetchOptions, bytes?: string | Uint8Array): boolean {
  const perRequest = (opts as { nacos?: unknown }).nacos
  const options = resolve(perRequest)
  // The Agent must not see the plugin's own option (undefined is as good as absent).
  const attemptOpts = perRequest === undefined ? opts : { ...opts, nacos: undefined }
  new ServiceRequest(dispatch, attemptOpts, handler, ctx, options, options.service ?? hostOf(opts.origin), bytes).next()
  return true
}
