// The undici interceptor behind app.nacos.fetch and app.nacos.dispatcher: the host of the URL
// names a service; each attempt goes to an instance picked from discovery's cache, and a request
// that failed on one instance is sent again to another one while that is safe:
// - it never reached an instance (refused, reset before any answer, connect timeout): any method;
// - it timed out waiting for the answer, or the answer is 502/503/504: idempotent methods only;
// - never when the body was already (partly) sent and cannot be sent again (a stream).
import { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import { FetchFailedError, NoInstanceError } from '../errors.js'
import { baseUrl, type BalancerState, type Instance } from './balancer.js'
import { instanceKey, selectInstance } from './select.js'
import type { Outliers } from './outliers.js'
import type { AttemptEvent, ResolvedFetchOptions, ServiceLookup } from './fetch-options.js'

type DispatchFn = Dispatcher['dispatch']

/** What the interceptor needs from the plugin. */
export interface InterceptorContext {
  lookup: ServiceLookup
  outliers: Outliers | undefined
  balancer: BalancerState
  /** The caller's cluster (NACOS_CLUSTER_NAME). */
  cluster: string
  log: { warn: (obj: object, msg: string) => void }
  onAttempt: ((event: AttemptEvent) => void) | undefined
}

const NEVER_REACHED = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH'])
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT'])
const RETRY_STATUS = new Set([502, 503, 504])
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])

/** A body and whether it can still be sent again: buffers always, streams and iterables while untouched. */
export function trackBody (body: Dispatcher.DispatchOptions['body']): { body: Dispatcher.DispatchOptions['body'], replayable: () => boolean } {
  if (body === null || body === undefined || typeof body === 'string' || body instanceof Uint8Array) return { body, replayable: () => true }
  if (typeof (body as { pipe?: unknown }).pipe === 'function') return { body, replayable: () => !Readable.isDisturbed(body as Readable) }
  const iterable = body as AsyncIterable<Uint8Array>
  if (typeof iterable[Symbol.asyncIterator] !== 'function' && typeof (body as Iterable<Uint8Array>)[Symbol.iterator] !== 'function') return { body, replayable: () => true }
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
  return { body: wrapped as unknown as Dispatcher.DispatchOptions['body'], replayable: () => !started }
}

/** The controller the caller's handler sees: it outlives the attempts and follows the current one. */
class Controller implements Dispatcher.DispatchController {
  target: Dispatcher.DispatchController | undefined
  #reason: Error | null = null
  #paused = false
  get aborted (): boolean { return this.#reason !== null || (this.target?.aborted ?? false) }
  get paused (): boolean { return this.#paused }
  get reason (): Error | null { return this.#reason ?? this.target?.reason ?? null }
  get userAborted (): Error | null { return this.#reason }
  abort (reason: Error): void { this.#reason = reason; this.target?.abort(reason) }
  pause (): void { this.#paused = true; this.target?.pause() }
  resume (): void { this.#paused = false; this.target?.resume() }
  attach (target: Dispatcher.DispatchController): void {
    this.target = target
    if (this.#reason !== null) target.abort(this.#reason)
    else if (this.#paused) target.pause()
  }
}

/** One request to a service, over as many attempts as it takes. */
class ServiceRequest implements Dispatcher.DispatchHandler {
  readonly #dispatch: DispatchFn
  readonly #opts: Dispatcher.DispatchOptions
  readonly #handler: Dispatcher.DispatchHandler
  readonly #ctx: InterceptorContext
  readonly #options: ResolvedFetchOptions
  readonly #service: string
  readonly #body: ReturnType<typeof trackBody>
  readonly #idempotent: boolean
  readonly #tried = new Set<string>()
  readonly #controller = new Controller()
  #attempt = 0
  #instance: Instance | undefined
  #start = 0
  #requestStarted = false
  #responded = false
  #discard = false

  constructor (dispatch: DispatchFn, opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler, ctx: InterceptorContext, options: ResolvedFetchOptions, service: string, bytes?: string | Uint8Array) {
    this.#dispatch = dispatch
    this.#ctx = ctx
    this.#options = options
    this.#service = service
    this.#handler = handler
    this.#body = trackBody(bytes ?? opts.body)
    this.#opts = { ...opts, body: this.#body.body, headersTimeout: options.timeout }
    this.#idempotent = IDEMPOTENT.has(opts.method.toUpperCase())
  }

  next (): void {
    const reason = this.#controller.userAborted
    if (reason !== null) { this.#fail(reason); return }
    const query = { group: this.#options.group, clusters: this.#options.clusters }
    const cached = this.#ctx.lookup.cached(this.#service, query)
    if (cached !== undefined) { this.#send(cached); return }
    this.#ctx.lookup.instances(this.#service, query).then((list) => { this.#send(list) }, (err: unknown) => {
      this.#fail(new NoInstanceError(this.#service, this.#options.group, { cause: err }))
    })
  }

  #send (instances: readonly Instance[]): void {
    const outliers = this.#ctx.outliers
    const instance = selectInstance(instances, {
      strategy: this.#options.strategy,
      selector: this.#options.selector,
      cluster: this.#options.preferSameCluster ? this.#ctx.cluster : undefined,
      tried: this.#tried,
      ejected: outliers === undefined ? () => false : (key) => outliers.ejected(key)
    }, this.#ctx.balancer, `${this.#options.group}@@${this.#service}`)
    if (instance === undefined) { this.#fail(new NoInstanceError(this.#service, this.#options.group)); return }
    this.#attempt++
    this.#instance = instance
    this.#tried.add(instanceKey(instance))
    this.#start = Date.now()
    this.#discard = false
    try {
      this.#dispatch({ ...this.#opts, origin: baseUrl(instance) }, this)
    } catch (err) {
      this.onResponseError(undefined, err as Error)
    }
  }

  #fail (err: Error): void {
    this.#handler.onResponseError?.(this.#controller, err)
  }

  /** Counts the attempt's outcome against its instance, logs an ejection or a retry, tells onAttempt. */
  #record (failed: boolean, retry: boolean, statusCode?: number, error?: Error): void {
    const key = instanceKey(this.#instance as Instance)
    let ejectedMs = 0
    if (failed) ejectedMs = this.#ctx.outliers?.failure(key) ?? 0
    else this.#ctx.outliers?.success(key)
    if (ejectedMs > 0) this.#ctx.log.warn({ service: this.#service, instance: key, ejectedMs }, 'instance ejected after consecutive failures')
    if (retry) this.#ctx.log.warn({ service: this.#service, instance: key, attempt: this.#attempt, statusCode, err: error && { message: error.message, code: (error as { code?: string }).code } }, 'retrying on another instance')
    this.#ctx.onAttempt?.({ service: this.#service, instance: key, attempt: this.#attempt, start: this.#start, duration: Date.now() - this.#start, statusCode, error, failed, retry, ejectedMs })
  }

  #canRetry (): boolean {
    return this.#attempt < this.#options.attempts && this.#body.replayable() && this.#controller.userAborted === null
  }

  onRequestStart (controller: Dispatcher.DispatchController, context: unknown): void {
    this.#controller.attach(controller)
    if (this.#requestStarted) return
    this.#requestStarted = true
    this.#handler.onRequestStart?.(this.#controller, context)
  }

  onRequestUpgrade (_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>, socket: import('node:stream').Duplex): void {
    this.#responded = true
    this.#handler.onRequestUpgrade?.(this.#controller, statusCode, headers, socket)
  }

  onResponseStart (_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void {
    const failed = RETRY_STATUS.has(statusCode)
    const retry = failed && this.#idempotent && this.#canRetry()
    this.#record(failed, retry, statusCode)
    if (retry) { this.#discard = true; return }
    this.#responded = true
    this.#handler.onResponseStart?.(this.#controller, statusCode, headers, statusMessage)
  }

  onResponseData (_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.#discard) this.#handler.onResponseData?.(this.#controller, chunk)
  }

  onResponseEnd (_controller: Dispatcher.DispatchController, trailers: Record<string, string | string[] | undefined>): void {
    if (this.#discard) { this.next(); return }
    this.#handler.onResponseEnd?.(this.#controller, trailers)
  }

  onResponseError (_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    if (this.#discard) { this.next(); return }
    if (this.#responded || this.#controller.userAborted !== null || this.#instance === undefined) { this.#fail(err); return }
    const code = (err as { code?: string }).code ?? ''
    const neverReached = NEVER_REACHED.has(code)
    const timedOut = TIMEOUTS.has(code)
    const retry = (neverReached || (timedOut && this.#idempotent)) && this.#canRetry()
    this.#record(neverReached || timedOut, retry, undefined, err)
    if (retry) { this.next(); return }
    this.#fail(neverReached || timedOut ? new FetchFailedError(this.#service, this.#attempt, err.message, { cause: err }) : err)
  }
}

/** The host of a request's origin (`http://orders-api`, as fetch passes it): the service name. */
function hostOf (origin: Dispatcher.DispatchOptions['origin']): string {
  if (typeof origin === 'string') {
    const match = /^[a-z][a-z0-9+.-]*:\/\/([^/:?#]+)/i.exec(origin)
    if (match !== null) return (match[1] as string).toLowerCase()
  }
  return new URL(String(origin)).hostname
}

/**
 * An undici interceptor (for `Agent.compose`): `options` resolves each request's settings from the
 * per-request `nacos` field of the dispatch options. `bytes`, when given, is the request's body as
 * bytes, sent instead of the dispatched body so that every attempt can send it again.
 */
export function serviceInterceptor (ctx: InterceptorContext, options: (perRequest: unknown) => ResolvedFetchOptions, bytes?: string | Uint8Array): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => {
    const { nacos, ...rest } = opts as Dispatcher.DispatchOptions & { nacos?: unknown }
    const resolved = options(nacos)
    new ServiceRequest(dispatch, rest, handler, ctx, resolved, resolved.service ?? hostOf(opts.origin), bytes).next()
    return true
  }
}
