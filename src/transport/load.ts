// Chooses the transport named by the settings and loads only its code (`await import`), so an app
// on one transport never loads the other's dependencies (the `nacos` SDK for HTTP).
import type { FastifyBaseLogger } from 'fastify'
import type { NacosConfig } from '../settings.js'
import { TransportUnavailableError } from '../errors.js'
import type { Transport } from './types.js'
import type { NamingClient } from './http/sdk-repairs.js'

export interface LoadedTransport {
  transport: Transport
  /** The SDK naming client, for `app.nacos.client`; only the HTTP transport has one. */
  sdkClient: () => NamingClient
}

export async function loadTransport (config: NacosConfig, log: FastifyBaseLogger): Promise<LoadedTransport> {
  if (config.transport !== 'http') throw new TransportUnavailableError(config.transport)
  const { createHttpTransport } = await import('./http/index.js')
  const transport = createHttpTransport(config, log)
  return { transport, sdkClient: () => transport.sdkClient }
}
