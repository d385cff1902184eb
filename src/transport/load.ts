// Chooses the transport named by the settings and loads only its code (`await import`), so an app
// on one transport never loads the other's dependencies (@grpc/grpc-js for gRPC, the `nacos` SDK
// for HTTP).
import type { FastifyBaseLogger } from 'fastify'
import type { NacosConfig } from '../settings.js'
import { NoSdkClientError } from '../errors.js'
import { DEFAULT_CONTEXT_PATH } from '../server-addr.js'
import type { Transport } from './types.js'
import { withNacosErrors } from './nacos-errors.js'
import type { NamingClient } from './http/sdk-repairs.js'

export interface LoadedTransport {
  transport: Transport
  /** The SDK naming client, for `app.nacos.client`; only the HTTP transport has one. */
  sdkClient: () => NamingClient
}

export async function loadTransport (config: NacosConfig, log: FastifyBaseLogger): Promise<LoadedTransport> {
  if (config.transport === 'grpc') {
    const { createGrpcTransport } = await import('./grpc/index.js')
    // parseServerList made every server share one scheme and context path.
    const [first] = config.serverAddr
    const transport = createGrpcTransport({
      serverAddr: config.serverAddr,
      // https:// means TLS on the gRPC port and for the login on the HTTP port.
      tls: first?.tls === true ? { loginHttps: true } : false,
      contextPath: first?.contextPath ?? DEFAULT_CONTEXT_PATH,
      namespace: config.namespace,
      username: config.username,
      password: config.password,
      accessKey: config.accessKey,
      secretKey: config.secretKey,
      requestTimeoutMs: config.requestTimeoutMs,
      appName: config.serviceName,
      ...(config.ip !== undefined ? { clientIp: config.ip } : {}),
      log
    })
    return { transport: withNacosErrors(transport), sdkClient: () => { throw new NoSdkClientError(config.transport) } }
  }
  const { createHttpTransport } = await import('./http/index.js')
  const transport = createHttpTransport(config, log)
  return { transport: withNacosErrors(transport), sdkClient: () => transport.sdkClient }
}
