// The tracing hooks: node:diagnostics_channel TracingChannels, the seam undici, Fastify and APM
// agents use. Nothing is published while nobody subscribes.
import { tracingChannel } from 'node:diagnostics_channel'
import type { AttemptEvent } from '../naming/fetch-options.js'
import type { Observer, RequestKind } from './events.js'

/** Every request to Nacos through the transport seam, both transports. */
export const REQUEST_CHANNEL = 'fastify-nacos:request'
/** Every attempt of a call by name (app.nacos.fetch / dispatcher). */
export const CALL_CHANNEL = 'fastify-nacos:call'

/** The context object of `fastify-nacos:request`; Node adds `error` or `result` to it. */
export interface RequestContext {
  module: 'naming' | 'config'
  kind: RequestKind
  transport: 'http' | 'grpc'
  /** The service (naming) or the dataId (config). */
  name: string
  group: string
  error?: unknown
}

/** The context object of `fastify-nacos:call`: the `onAttempt` event itself. */
export type CallContext = AttemptEvent

export const requestChannel = tracingChannel<unknown, RequestContext>(REQUEST_CHANNEL)
const callChannel = tracingChannel<unknown, CallContext>(CALL_CHANNEL)

/**
 * An attempt ended: `start`, then `error` when it failed, then `end`, all at once with the whole
 * event (its `start` time and `duration` say when it ran: the dispatcher learns its outcome only then).
 */
function publishCall (event: AttemptEvent): void {
  if (!callChannel.hasSubscribers) return
  callChannel.start.publish(event)
  if (event.failed || event.error !== undefined) callChannel.error.publish(event)
  callChannel.end.publish(event)
}

/**
 * Who the dispatcher tells of an attempt: the user's `onAttempt`, the observer (metrics) and the
 * channel. With neither a hook nor metrics, an event is made only while the channel has a
 * subscriber (checked per attempt: a tracer may subscribe at any time).
 */
export function attemptHook (onAttempt: ((event: AttemptEvent) => void) | undefined, observer: Observer, metrics: boolean): () => ((event: AttemptEvent) => void) | undefined {
  const tell = (event: AttemptEvent): void => { observer.attempt(event); publishCall(event); onAttempt?.(event) }
  if (onAttempt !== undefined || metrics) return () => tell
  return () => (callChannel.hasSubscribers ? tell : undefined)
}
