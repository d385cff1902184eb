// The one seam between the plugin's code and what observes it (metrics, tracing). Registry,
// discovery, config center and the transports never import prom-client or a channel: the plugin
// entry hands them this observer, a no-op unless metrics are on. Every hook is synchronous and
// must not throw.
import type { AttemptEvent } from '../naming/fetch-options.js'

/** What a request to Nacos is, as the metrics and the `fastify-nacos:request` channel name it. */
export type RequestKind = 'register' | 'deregister' | 'query' | 'probe' | 'configGet' | 'configPublish' | 'configRemove'

export interface RequestEvent {
  module: 'naming' | 'config'
  kind: RequestKind
  transport: 'http' | 'grpc'
  /** How long the request took, ms. */
  durationMs: number
  /** The request failed with this error. */
  error?: Error | undefined
}

export interface Observer {
  /** A request to Nacos ended. */
  request: (event: RequestEvent) => void
  /** Nacos pushed (or a re-read brought) a service's instances; `delayMs` since Nacos changed them, when it says. */
  push: (service: string, group: string, delayMs: number | undefined) => void
  /** The transport (re)connected to Nacos (gRPC). */
  connected: () => void
  /** The transport registered the instance again by itself after a reconnect (gRPC redo). */
  redo: () => void
  /** A config watch started (+1) or stopped (-1). */
  listening: (dataId: string, group: string, delta: 1 | -1) => void
  /** A watched config changed and its new content was handed on. */
  configChanged: (dataId: string, group: string) => void
  /** One attempt of a call by name ended (app.nacos.fetch / dispatcher), as `onAttempt` sees it. */
  attempt: (event: AttemptEvent) => void
  /** Served from a local snapshot because Nacos could not be reached (observe/snapshots.ts). */
  servedFromSnapshot: (module: 'naming' | 'config') => void
}

const nothing = (): void => {}

/** The observer while metrics are off. */
export const NO_OBSERVER: Observer = {
  request: nothing, push: nothing, connected: nothing, redo: nothing, configChanged: nothing, listening: nothing, attempt: nothing, servedFromSnapshot: nothing
}

/** One observer that tells each of `observers`, in order. */
export function fanOut (...observers: Array<Partial<Observer>>): Observer {
  const each = <K extends keyof Observer>(name: K): Observer[K] => {
    const fns = observers.flatMap((o) => (o[name] === undefined ? [] : [o[name]]))
    // One listener is called as it is: a call by name tells only the metrics of its attempt.
    if (fns.length <= 1) return (fns[0] ?? nothing) as Observer[K]
    return ((...args: unknown[]) => { for (const fn of fns) (fn as (...a: unknown[]) => void)(...args) }) as Observer[K]
  }
  return Object.fromEntries((Object.keys(NO_OBSERVER) as Array<keyof Observer>).map((k) => [k, each(k)])) as unknown as Observer
}
