// app.nacos.fetch and app.nacos.dispatcher: one undici Agent, composed with the service
// interceptor (interceptor.ts) that picks an instance per attempt and retries on another one.
import { createRequire } from 'node:module'
import type { Agent, Dispatcher, RequestInfo, RequestInit, Response } from 'undici'
import { createBalancerState } from './balancer.js'
import { Outliers } from './outliers.js'
import { serviceInterceptor } from './interceptor.js'
import { resolveFetchOptions, type NacosFetchDefaults, type NacosFetchOptions, type ServiceLookup } from './fetch-options.js'

/** `fetch`'s second argument, plus the per-request `nacos` options. */
export type NacosRequestInit = RequestInit & { nacos?: NacosFetchOptions }

export type NacosFetch = (input: RequestInfo, init?: NacosRequestInit) => Promise<Response>

export interface ServiceClientOptions {
  lookup: ServiceLookup
  /** This app's cluster, preferred when picking. */
  cluster: string
  defaults: NacosFetchDefaults
  log: { warn: (obj: object, msg: string) => void }
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

export function createServiceClient (options: ServiceClientOptions): ServiceClient {
  const { ejection, connectTimeout = 2000, onAttempt, ...defaults } = options.defaults
  // A bad option fails at start-up, not on the first request.
  const resolvedDefaults = resolveFetchOptions(defaults)
  const ctx = {
    lookup: options.lookup,
    outliers: ejection === false ? undefined : new Outliers(ejection),
    balancer: createBalancerState(),
    cluster: options.cluster,
    log: options.log,
    onAttempt
  }
  let agent: Agent | undefined
  let dispatcher: Dispatcher | undefined
  const composed = (): Dispatcher => {
    agent ??= new (loadUndici().Agent)({ connect: { timeout: connectTimeout } })
    dispatcher ??= agent.compose(serviceInterceptor(ctx, (perRequest) => (perRequest === undefined ? resolvedDefaults : resolveFetchOptions(defaults, perRequest as NacosFetchOptions))))
    return dispatcher
  }
  return {
    fetch: async (input, init) => {
      const { nacos, ...rest } = init ?? {}
      // undici's fetch passes no options of its own to the dispatcher, and hands every body over as
      // a stream read once: a request with options or a body gets a composed dispatcher of its own.
      let target = composed()
      const bytes = await replayableBytes(rest.body)
      if (nacos !== undefined || bytes !== undefined) {
        const resolved = resolveFetchOptions(defaults, nacos)
        target = (agent as Agent).compose(serviceInterceptor(ctx, () => resolved, bytes))
      }
      try {
        return await loadUndici().fetch(input, { ...rest, dispatcher: target })
      } catch (err) {
        // fetch reports every failure as TypeError('fetch failed'); ours carry a code to match on.
        const cause = (err as { cause?: { code?: unknown } }).cause
        if (typeof cause?.code === 'string' && cause.code.startsWith('FST_NACOS_')) throw cause
        throw err
      }
    },
    get dispatcher () { return composed() },
    close: async () => { await agent?.close() }
  }
}
