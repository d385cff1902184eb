// The server's own requests, which arrive over a link's stream (pushes, ClientDetectionRequest,
// ConnectResetRequest, SetupAckRequest): each is handed to the handler registered for its type
// and answered on the same stream with the same requestId.
import { jsonPayload, parseBody, type Json, type Payload } from './proto.js'
import type { GrpcLog, Link } from './link.js'

/** Answers one kind of server request; returns the response type and body (requestId is added). */
export type ServerRequestHandler = (body: Json) => { type: string, body?: Json }

export function answerServerRequest (link: Link, payload: Payload, handlers: ReadonlyMap<string, ServerRequestHandler>, log: GrpcLog): void {
  if (payload.type === 'SetupAckRequest') {
    link.setupAck?.()
    return
  }
  let body: Json
  try {
    body = parseBody(payload)
  } catch (err) {
    log.warn({ type: payload.type, err: (err as Error).message }, 'nacos grpc: unreadable server request')
    return
  }
  const handler = handlers.get(payload.type)
  if (!handler) {
    if (!payload.type.endsWith('Response')) log.warn({ type: payload.type }, 'nacos grpc: server request without handler, not answered')
    return
  }
  let answer: { type: string, body?: Json }
  try {
    answer = handler(body)
  } catch (err) {
    log.error({ type: payload.type, err }, 'nacos grpc: handling a server request failed')
    answer = { type: 'ErrorResponse', body: { resultCode: 500, errorCode: -500, message: 'Handle server request error' } }
  }
  const response = { resultCode: 200, errorCode: 0, ...answer.body, requestId: body.requestId }
  try {
    link.stream.write(jsonPayload(answer.type, response, undefined, undefined))
  } catch (err) {
    log.warn({ type: answer.type, err: (err as Error).message }, 'nacos grpc: could not answer a server request')
  }
}
