// One link to one Nacos server over gRPC: its own channel, the ServerCheckRequest that names the
// connection id, the bi-directional stream and the ConnectionSetupRequest that registers it, and
// the health check that proves the server took it. connection.ts decides when links are opened,
// replaced and dropped; this module only knows how.
import * as grpc from '@grpc/grpc-js'
import { decodePayload, encodePayload, jsonPayload, parseBody, type Json, type Payload } from './proto.js'
import { closedError } from './errors.js'

export interface GrpcLog {
  debug?: (obj: object, msg: string) => void
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
  error: (obj: object, msg: string) => void
}

/** A Nacos server as configured: host and HTTP port (the gRPC port is derived). */
export interface ServerAddress {
  host: string
  port: number
}

export interface LinkOptions {
  grpcPortOffset: number
  credentials: grpc.ChannelCredentials
  channelOptions?: grpc.ChannelOptions
  labels: Record<string, string>
  tenant: string
  clientVersion: string
  clientIp: string
  requestTimeoutMs: number
  healthCheckTimeoutMs: number
}

export interface Link {
  client: grpc.Client
  stream: grpc.ClientDuplexStream<Payload, Payload>
  server: ServerAddress
  address: string
  connectionId: string
  abandoned: boolean
  setupAck: (() => void) | undefined
}

/** What the owner of a link lends it: where the stream's traffic goes, and its own lifetime. */
export interface LinkHost {
  /** Calls in flight, cancelled by the owner's close(). */
  calls: Set<grpc.ClientUnaryCall>
  onPayload: (link: Link, payload: Payload) => void
  onDown: (link: Link, reason: Error) => void
  /** A sleep that the owner's close() cuts short. */
  sleep: (ms: number) => Promise<void>
  closed: () => boolean
}

const REQUEST_METHOD = '/Request/request'
const STREAM_METHOD = '/BiRequestStream/requestBiStream'
const SERVER_CHECK_TIMEOUT_MS = 3000
const SETUP_ACK_TIMEOUT_MS = 3000

const serialize = (p: Payload): Buffer => encodePayload(p)
const deserialize = (b: Buffer): Payload => decodePayload(b)

export function grpcAddress (server: ServerAddress, offset: number): string {
  const host = server.host.includes(':') && !server.host.startsWith('[') ? `[${server.host}]` : server.host
  return `${host}:${server.port + offset}`
}

/** What a failed gRPC call says, in words (the status name, not only its number). */
export function describeGrpcError (err: unknown): string {
  const e = err as Partial<grpc.ServiceError>
  if (typeof e?.code === 'number') {
    const name = grpc.status[e.code] ?? `status ${e.code}`
    return `${name}${e.details ? `: ${e.details}` : ''}`
  }
  return err instanceof Error ? err.message : String(err)
}

function newClient (address: string, opts: LinkOptions): grpc.Client {
  return new grpc.Client(address, opts.credentials, {
    // The server identifies a client by its TCP connection: never share one with another client.
    'grpc.use_local_subchannel_pool': 1,
    'grpc.max_receive_message_length': 10 * 1024 * 1024,
    'grpc.enable_retries': 0,
    ...opts.channelOptions
  })
}

export function unary (client: grpc.Client, payload: Payload, deadline: number, calls?: Set<grpc.ClientUnaryCall>): Promise<Payload> {
  return new Promise((resolve, reject) => {
    const call = client.makeUnaryRequest(REQUEST_METHOD, serialize, deserialize, payload, new grpc.Metadata(), { deadline }, (err, res) => {
      calls?.delete(call)
      if (err) reject(err)
      else if (!res) reject(new Error('empty response'))
      else resolve(res)
    })
    calls?.add(call)
  })
}

/** One HealthCheckRequest: the body when the server answers success, else the problem in words. */
export async function healthCheck (link: Link, opts: LinkOptions, calls: Set<grpc.ClientUnaryCall>): Promise<{ ok: true } | { ok: false, problem: string }> {
  const res = await unary(link.client, jsonPayload('HealthCheckRequest', {}, {}, opts.clientIp), Date.now() + opts.healthCheckTimeoutMs, calls)
  const body: Json = parseBody(res)
  if (res.type !== 'ErrorResponse' && Number(body.resultCode) === 200) return { ok: true }
  return { ok: false, problem: typeof body.message === 'string' ? body.message : res.type }
}

/** A ServerCheckRequest to `server` on a channel of its own, closed again. */
export async function checkServer (server: ServerAddress, opts: LinkOptions, timeoutMs: number, calls: Set<grpc.ClientUnaryCall>): Promise<void> {
  const address = grpcAddress(server, opts.grpcPortOffset)
  const client = newClient(address, opts)
  try {
    const res = await unary(client, jsonPayload('ServerCheckRequest', {}, {}, opts.clientIp), Date.now() + timeoutMs, calls)
    if (res.type !== 'ServerCheckResponse') {
      const body = parseBody(res)
      throw new Error(typeof body.message === 'string' && body.message ? body.message : `unexpected answer ${res.type}`)
    }
  } catch (err) {
    throw new Error(`${address}: ${describeGrpcError(err)}`)
  } finally {
    client.close()
  }
}

/** Opens a link to `server`: check, stream, setup, health check. Rejects with what failed, in words. */
export async function openLink (server: ServerAddress, opts: LinkOptions, host: LinkHost): Promise<Link> {
  const address = grpcAddress(server, opts.grpcPortOffset)
  const client = newClient(address, opts)
  let link: Link | undefined
  try {
    let check: Payload
    try {
      check = await unary(client, jsonPayload('ServerCheckRequest', {}, {}, opts.clientIp), Date.now() + Math.min(SERVER_CHECK_TIMEOUT_MS, opts.requestTimeoutMs), host.calls)
    } catch (err) {
      throw new Error(`${address}: ${describeGrpcError(err)}`)
    }
    const checkBody = parseBody(check)
    if (check.type !== 'ServerCheckResponse' || typeof checkBody.connectionId !== 'string') {
      throw new Error(`${address}: ${typeof checkBody.message === 'string' && checkBody.message ? checkBody.message : `answered ${check.type}`}`)
    }
    const negotiates = checkBody.supportAbilityNegotiation === true
    const stream = client.makeBidiStreamRequest(STREAM_METHOD, serialize, deserialize, new grpc.Metadata())
    const current: Link = { client, stream, server, address, connectionId: checkBody.connectionId, abandoned: false, setupAck: undefined }
    link = current
    const acked = new Promise<void>((resolve) => { current.setupAck = resolve })
    stream.on('data', (p: Payload) => { host.onPayload(current, p) })
    stream.on('error', (err: Error) => { host.onDown(current, new Error(`the stream to ${address} failed: ${describeGrpcError(err)}`)) })
    stream.on('end', () => { host.onDown(current, new Error(`the server ${address} ended the stream`)) })
    stream.write(jsonPayload('ConnectionSetupRequest', {
      clientVersion: opts.clientVersion,
      tenant: opts.tenant,
      labels: opts.labels,
      // An (empty) ability table asks a negotiating server to confirm the setup.
      ...(negotiates ? { abilityTable: {} } : {}),
      headers: {}
    }, {}, opts.clientIp))
    // A negotiating server acknowledges once the connection is registered; an older one is
    // given 100 ms (as the Java client does). The health check below confirms either way.
    await Promise.race([acked, host.sleep(negotiates ? SETUP_ACK_TIMEOUT_MS : 100)])
    if (host.closed()) throw closedError()
    const health = await healthCheck(current, opts, host.calls)
      .catch((err: unknown) => { throw new Error(`${address}: health check after setup failed: ${describeGrpcError(err)}`) })
    if (!health.ok) throw new Error(`${address}: the connection was not registered (${health.problem})`)
    return current
  } catch (err) {
    if (link) abandonLink(link)
    else client.close()
    throw err
  }
}

export function abandonLink (link: Link): void {
  link.abandoned = true
  try { link.stream.end() } catch {}
  try { link.stream.cancel() } catch {}
  try { link.client.close() } catch {}
}

/**
 * The configured server a ConnectResetRequest names: its serverIp and, when given, serverPort
 * (the HTTP port, as in the server list; several servers can share a host).
 */
export function namedServer (servers: readonly ServerAddress[], ip: unknown, port: unknown): ServerAddress | undefined {
  if (typeof ip !== 'string' || ip === '') return undefined
  const wanted = port === undefined || port === null || port === '' ? undefined : Number(port)
  return servers.find((s) => s.host === ip && (wanted === undefined || s.port === wanted))
}
