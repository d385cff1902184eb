// Turns the plugin's tracing channels into OpenTelemetry spans. The plugin itself depends on no
// tracer: it publishes on node:diagnostics_channel, and this file (the app's choice, with
// @opentelemetry/api and whatever SDK/exporter the app registers) subscribes. Import it once, before
// the app starts: `import './tracing.js'`. Without a registered SDK the spans are no-ops.
import { tracingChannel } from 'node:diagnostics_channel'
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api'
import { CALL_CHANNEL, REQUEST_CHANNEL, type CallContext, type RequestContext } from 'fastify-nacos'

const tracer = trace.getTracer('fastify-nacos')
const spans = new WeakMap<object, Span>()

/** Every request to Nacos: one client span from start to the answer (asyncEnd) or failure. */
tracingChannel<unknown, RequestContext>(REQUEST_CHANNEL).subscribe({
  start: (ctx) => {
    spans.set(ctx, tracer.startSpan(`nacos ${ctx.kind}`, {
      kind: SpanKind.CLIENT,
      attributes: { 'nacos.module': ctx.module, 'nacos.transport': ctx.transport, 'nacos.name': ctx.name, 'nacos.group': ctx.group }
    }))
  },
  end: () => {},
  asyncStart: () => {},
  asyncEnd: (ctx) => { spans.get(ctx)?.end() },
  error: (ctx) => {
    const span = spans.get(ctx)
    if (ctx.error instanceof Error) span?.recordException(ctx.error)
    span?.setStatus({ code: SpanStatusCode.ERROR })
  }
})

/** Every attempt of a call by name: published when it ended, with its start time and duration. */
tracingChannel<unknown, CallContext>(CALL_CHANNEL).subscribe({
  start: (event) => {
    spans.set(event, tracer.startSpan(`call ${event.service}`, {
      kind: SpanKind.CLIENT,
      startTime: event.start,
      attributes: { 'nacos.service': event.service, 'nacos.instance': event.instance, 'nacos.attempt': event.attempt, 'nacos.retry': event.retry, 'nacos.ejected_ms': event.ejectedMs, ...(event.statusCode === undefined ? {} : { 'http.response.status_code': event.statusCode }) }
    }))
  },
  error: (event) => {
    const span = spans.get(event)
    if (event.error !== undefined) span?.recordException(event.error)
    span?.setStatus({ code: SpanStatusCode.ERROR })
  },
  end: (event) => { spans.get(event)?.end(event.start + event.duration) },
  asyncStart: () => {},
  asyncEnd: () => {}
})
