// The tracing hooks: node:diagnostics_channel TracingChannels, the seam undici, Fastify and APM
// agents use. Nothing is published while nobody subscribes.
import { tracingChannel } from 'node:diagnostics_channel'
import type { AttemptEvent } from '../naming/fetch-options.js'
import type { RequestKind } from './events.js'

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
export function publishCall (event: AttemptEvent): void {
  if (!callChannel.hasSubscribers) return
  callChannel.start.publish(event)
  if (event.failed || event.error !== undefined) callChannel.error.publish(event)
  callChannel.end.publish(event)
}
