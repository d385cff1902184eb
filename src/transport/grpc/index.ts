// The native gRPC transport: what the Java/Go/Python Nacos 2.x/3.x clients speak. One gRPC
// connection (to one of the servers, failing over to the others) carries naming and config;
// see connection.ts for the protocol, naming.ts for the keep-alive/redo choice, config.ts for
// listening. Nothing connects until the first request (or watch); close() leaves nothing running.
import { networkInterfaces } from 'node:os'
import * as grpc from '@grpc/grpc-js'
import type { Transport } from '../types.js'
import { Auth, type Resource } from './auth.js'
import { GrpcConfig } from './config.js'
import { Connection } from './connection.js'
import type { GrpcLog, ServerAddress } from './link.js'
import { GrpcTransportError, NACOS_NO_RIGHT } from './errors.js'
import { GrpcNaming, type Caller } from './naming.js'
import { configFuzzy, namingFuzzy } from './fuzzy.js'
import type { Json } from './proto.js'
import { parseServer } from '../../server-addr.js'
import { DEFAULT_GROUP } from '../../naming/names.js'

export { GrpcTransportError } from './errors.js'
export type { GrpcLog } from './link.js'

export interface GrpcTlsOptions {
  /** PEM of the CA(s) to trust; the system's roots when absent. */
  rootCerts?: Buffer
  /** Client certificate and key (PEM) for mutual TLS. */
  certChain?: Buffer
  privateKey?: Buffer
  /** Check the server certificate against this name instead of the host (grpc.ssl_target_name_override). */
  serverName?: string
  /** Log in (username/password) over https rather than http. */
  loginHttps?: boolean
}

export interface GrpcTransportOptions {
  /** Nacos servers by their HTTP port: `host:port` as written (the forms of NACOS_SERVER_ADDR; scheme and path are taken from tls and contextPath) or already parsed. */
  serverAddr: Array<string | ServerAddress>
  /** gRPC port = HTTP port + this (default 1000, Nacos's own default). */
  grpcPortOffset?: number
  /** Namespace id (default 'public'; config requests send Nacos's empty tenant for it). */
  namespace?: string
  /** Log in with these (POST /nacos/v3/auth/user/login, on 2.x /nacos/v1/auth/login); the token goes in every request's headers. */
  username?: string
  password?: string
  /** Sign requests as the Java client's RAM (AK/SK) plugin does. */
  accessKey?: string
  secretKey?: string
  /** Per request, connection wait included (default 5000). */
  requestTimeoutMs?: number
  log?: GrpcLog
  /** true: TLS with the system's roots; an object: CA, client certificate, name override. */
  tls?: boolean | GrpcTlsOptions
  /** Sent as the connection label AppName and the request header `app` (default 'unknown', as Java). */
  appName?: string
  /** Extra connection labels (the Java client sends source=sdk, module=naming, AppName). */
  labels?: Record<string, string>
  /** The client IP sent in each request's metadata (default: the first non-internal IPv4). */
  clientIp?: string
  /** Path of Nacos's HTTP API, for the login (default '/nacos'). */
  contextPath?: string
  /** A health check runs after this long without traffic (default 5000, as Java). */
  healthCheckIdleMs?: number
  /** Health check timeout (default 3000, as Java). */
  healthCheckTimeoutMs?: number
  /** Reconnect backoff: after the n-th failed round of servers, about n × step ms, capped (defaults 100, 5000; jittered). */
  reconnectStepMs?: number
  reconnectMaxMs?: number
  /** Naming redo retry interval (default 3000, as Java's redo task). */
  redoIntervalMs?: number
  /** Config: listens to redo are looked for this often (default 5000), all listens renewed every resyncMs (default 180000). */
  configCheckIntervalMs?: number
  configResyncMs?: number
  /** Client version string sent in the connection setup. */
  clientVersion?: string
}

const noop = (): void => {}
const silentLog: GrpcLog = { debug: noop, info: noop, warn: noop, error: noop }

function localIp (): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const nic of list ?? []) {
      if (nic.family === 'IPv4' && !nic.internal) return nic.address
    }
  }
  return '127.0.0.1'
}

function credentialsFor (tls: GrpcTransportOptions['tls']): { credentials: grpc.ChannelCredentials, channelOptions: grpc.ChannelOptions } {
  if (tls === undefined || tls === false) return { credentials: grpc.credentials.createInsecure(), channelOptions: {} }
  const o: GrpcTlsOptions = tls === true ? {} : tls
  return {
    credentials: grpc.credentials.createSsl(o.rootCerts ?? null, o.privateKey ?? null, o.certChain ?? null),
    channelOptions: o.serverName ? { 'grpc.ssl_target_name_override': o.serverName, 'grpc.default_authority': o.serverName } : {}
  }
}

export function createGrpcTransport (options: GrpcTransportOptions): Transport {
  // Addresses as written are parsed here; the plugin hands over the ones its settings parsed.
  const servers = options.serverAddr.map((s) => (typeof s === 'string' ? parseServer(s) : s))
  if (servers.length === 0) throw new Error('the gRPC transport needs at least one Nacos server address (serverAddr)')
  const log = options.log ?? silentLog
  const namespace = options.namespace && options.namespace !== '' ? options.namespace : 'public'
  const tenant = namespace === 'public' ? '' : namespace
  const requestTimeoutMs = options.requestTimeoutMs ?? 5000
  const grpcPortOffset = options.grpcPortOffset ?? 1000
  const appName = options.appName ?? 'unknown'
  const { credentials, channelOptions } = credentialsFor(options.tls)

  const conn = new Connection({
    servers,
    grpcPortOffset,
    credentials,
    channelOptions,
    labels: { source: 'sdk', module: 'naming', AppName: appName, ...options.labels },
    tenant,
    clientVersion: options.clientVersion ?? 'Nacos-Node-Client:fastify-nacos',
    clientIp: options.clientIp ?? localIp(),
    requestTimeoutMs,
    healthCheckIdleMs: options.healthCheckIdleMs ?? 5000,
    healthCheckTimeoutMs: options.healthCheckTimeoutMs ?? 3000,
    reconnectStepMs: options.reconnectStepMs ?? 100,
    reconnectMaxMs: options.reconnectMaxMs ?? 5000,
    log
  })
  const auth = new Auth({
    servers,
    username: options.username,
    password: options.password,
    accessKey: options.accessKey,
    secretKey: options.secretKey,
    loginHttps: typeof options.tls === 'object' && options.tls.loginHttps === true,
    ...(typeof options.tls === 'object' ? { tls: { ca: options.tls.rootCerts, cert: options.tls.certChain, key: options.tls.privateKey, servername: options.tls.serverName } } : {}),
    contextPath: options.contextPath ?? '/nacos',
    timeoutMs: requestTimeoutMs,
    log
  })
  const hasCredentials = Boolean(options.username) || Boolean(options.accessKey && options.secretKey)

  const call: Caller = async (type: string, body: Json, resource: Resource, extraHeaders?: Record<string, string>): Promise<Json> => {
    const send = async (): Promise<Json> => await conn.request(type, body, {
      headers: async () => ({ app: appName, ...(resource.module === 'config' ? { 'Client-AppName': appName, charset: 'UTF-8' } : {}), ...extraHeaders, ...(await auth.headers(resource)) })
    })
    const attempt = async (): Promise<Json> => {
      const answer = await send()
      auth.answeredWithoutToken()
      return answer
    }
    const refused = (err: unknown): err is GrpcTransportError => err instanceof GrpcTransportError && err.kind === 'auth' && err.errorCode === NACOS_NO_RIGHT
    try {
      return await attempt()
    } catch (err) {
      if (!refused(err)) throw err
      let last: GrpcTransportError = err
      // The token may have expired or been revoked: log in again once and retry.
      if (auth.refusal === undefined && await auth.refresh()) {
        try {
          return await attempt()
        } catch (again) {
          if (!refused(again)) throw again
          last = again
        }
      }
      // The server wants a token and refused our login: that is the error to act on.
      if (auth.refusal !== undefined) throw auth.refusal
      if (!hasCredentials) {
        throw new GrpcTransportError('auth', `${last.message}; the server requires authentication: set username/password (or accessKey/secretKey)`, { errorCode: NACOS_NO_RIGHT, requestType: type, cause: last })
      }
      throw last
    }
  }

  const redoIntervalMs = options.redoIntervalMs ?? 3000
  const naming = new GrpcNaming(conn, call, {
    namespace,
    grpcPortOffset,
    probeTimeoutMs: Math.min(requestTimeoutMs, 3000),
    redoIntervalMs,
    login: async () => {
      await auth.headers({ module: 'internal' })
      // A refused login fails the probe only where the server wants a token: ask it something.
      if (auth.refusal !== undefined) await naming.query({ service: 'fastify-nacos-probe', group: DEFAULT_GROUP, clusters: [] })
    },
    log
  })
  const config = new GrpcConfig(conn, call, {
    tenant,
    appName: options.appName,
    checkIntervalMs: options.configCheckIntervalMs ?? 5000,
    resyncMs: options.configResyncMs ?? 180_000,
    log
  })

  const namingFuzzyWatches = namingFuzzy(conn, call, namespace, redoIntervalMs, log)
  const configFuzzyWatches = configFuzzy(conn, call, tenant, redoIntervalMs, log)

  let closing: Promise<void> | undefined
  return {
    name: 'grpc',
    naming: Object.assign(naming, { fuzzyWatch: namingFuzzyWatches.watch }),
    config: Object.assign(config, { fuzzyWatch: configFuzzyWatches.watch }),
    connected: () => conn.ready,
    close: async () => {
      closing ??= (async () => {
        naming.close()
        config.close()
        namingFuzzyWatches.close()
        configFuzzyWatches.close()
        auth.close()
        await conn.close()
      })()
      await closing
    }
  }
}
