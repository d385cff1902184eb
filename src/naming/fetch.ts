// app.nacos.fetch and app.nacos.dispatcher: one undici Agent under the service dispatcher
// (interceptor.ts) that picks an instance per attempt and retries on another one.
import { createRequire } from 'node:module'
import type { Agent, Dispatcher, RequestInfo, RequestInit, Response } from 'undici'
import { createBalancerState } from './balancer.js'
import { Outliers } from './outliers.js'
import { dispatchToService, type InterceptorContext } from './interceptor.js'
import { resolveFetchOptions, type NacosFetchDefaults, type NacosFetchOptions, type ResolvedFetchOptions, type ServiceLookup } from './fetch-options.js'

/** `fetch`'s second argument, plus the per-request `nacos` options. */
export type NacosRequestInit = RequestInit & { nacos?: NacosFetchOptions }

export type NacosFetch = (input: RequestInfo, init?: NacosRequestInit) => Promise<Response>

export interface ServiceClientOptions {
  lookup: ServiceLookup
  /** This app's cluster, preferred when picking. */
  cluster: string
  defaults: NacosFetchDefaults
  log: { warn: (obj: object, msg: string) => void }
  /** Who is told of each attempt right now; by default `defaults.onAttempt`. */
  attemptHook?: InterceptorContext['attemptHook']
}

export interface ServiceClient {
  fetch: NacosFetch
  readonly dispatcher: Dispatcher
  close: () => Promise<void>
}

/** The bytes of a body fetch would send, for the bodies that can be sent again; undefined for streams, forms and none. */
async function replayableBytes (body: RequestInit['body']): Promise<string | Uint8Array | undefined> {
  if (typeof body === 'string') return body
  if (body instanceof URLSearchParams) return body.toString()
  if (body instanceof ArrayBuffer) return new Uint8Array(body)
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
  if (body instanceof Blob) return new Uint8Array(await body.arrayBuffer())
  return undefined
}

// undici (about 10 MB of RSS) is loaded on the first call, not with the plugin: most apps that
// register never call a service by its name.
let undici: typeof import('undici') | undefined
const loadUndici = (): typeof import('undici') => (undici ??= createRequire(import.meta.url)('undici') as typeof import('undici'))

type Resolve = (perRequest: unknown) => ResolvedFetchOptions

/** The Dispatcher class, made once undici is loaded (it extends undici's, for request(), stream(), compose()…). */
let ServiceDispatcher: (new (agent: Agent, ctx: InterceptorContext, resolve: Resolve) => Dispatcher) | undefined
function serviceDispatcher (agent: Agent, ctx: InterceptorContext, resolve: Resolve): Dispatcher {
  ServiceDispatcher ??= class extends loadUndici().Dispatcher {
    readonly #agent: Agent
    readonly #dispatch: Dispatcher['dispatch']
    readonly #ctx: InterceptorContext
    readonly #resolve: Resolve
    constructor (agent: Agent, ctx: InterceptorContext, resolve: Resolve) {
      super()
      this.#agent = agent
      this.#dispatch = agent.dispatch.bind(agent)
      this.#ctx = ctx
      this.#resolve = resolve
    }

    override dispatch (opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      return dispatchToService(this.#dispatch, this.#ctx, opts, handler, this.#resolve)
    }

    // Closing it closes the Agent under it, as it did when it was the Agent composed.
    override close (...args: unknown[]): never { return (this.#agent.close as (...a: unknown[]) => never)(...args) }
    override destroy (...args: unknown[]): never { return (this.#agent.destroy as (...a: unknown[]) => never)(...args) }
  }
  return new ServiceDispatcher(agent, ctx, resolve)
}

/** fetch reports every failure as TypeError('fetch failed'); ours carry a code to match on. */
function ownError (err: unknown): never {
  const cause = (err as { cause?: { code?: unknown } }).cause
  if (typeof cause?.code === 'string' && cause.code.startsWith('FST_NACOS_')) throw cause
  throw err
}

export function createServiceClient (options: ServiceClientOptions): ServiceClient {
  const { ejection, connectTimeout = 2000, onAttempt, ...defaults } = options.defaults
  // A bad option fails at start-up, not on the first request.
  const resolvedDefaults = resolveFetchOptions(defaults)
  const ctx: InterceptorContext = {
    lookup: options.lookup,
    outliers: ejection === false ? undefined : new Outliers(ejection),
    balancer: createBalancerState(),
    cluster: options.cluster,
    log: options.log,
    attemptHook: options.attemptHook ?? (() => onAttempt)
  }
  const resolve: Resolve = (perRequest) => (perRequest === undefined ? resolvedDefaults : resolveFetchOptions(defaults, perRequest as NacosFetchOptions))
  let agent: Agent | undefined
  let dispatcher: Dispatcher | undefined
  const shared = (): Dispatcher => {
    agent ??= new (loadUndici().Agent)({ connect: { timeout: connectTimeout } })
    dispatcher ??= serviceDispatcher(agent, ctx, resolve)
    return dispatcher
  }
  /** What fetch is given: the shared dispatcher, or for a request with options or a body one of its own. */
  const target = async (init: NacosRequestInit): Promise<RequestInit> => {
    const { nacos, ...rest } = init
    const dispatcher = shared()
    // undici's fetch passes no options of its own to the dispatcher, and hands every body over as
    // a stream read once: options and a body that can be sent again are bound to this request.
    const bytes = rest.body == null ? undefined : await replayableBytes(rest.body)
    if (nacos === undefined && bytes === undefined) return { ...rest, dispatcher }
    const resolved = resolveFetchOptions(defaults, nacos)
    const dispatch = (agent as Agent).dispatch.bind(agent)
    // fetch only calls dispatch(): this request's dispatcher needs nothing else.
    const own = { dispatch: (opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) => dispatchToService(dispatch, ctx, opts, handler, () => resolved, bytes) }
    return { ...rest, dispatcher: own as unknown as Dispatcher }
  }
  return {
    // Not an async function: a request without init costs no promise of its own beyond fetch's.
    fetch: (input, init) => {
      let pending: Promise<Response>
      try {
        const fetch = loadUndici().fetch
        pending = init === undefined ? fetch(input, { dispatcher: shared() }) : target(init).then(async (own) => await fetch(input, own))
      } catch (err) {
        pending = Promise.reject(err)
      }
      return pending.catch(ownError)
    },
    get dispatcher () { return shared() },
    close: async () => { await agent?.close() }
  }
}
