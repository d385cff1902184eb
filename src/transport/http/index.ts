// The HTTP transport: the `nacos` SDK over our HTTP client. One NacosHttpClient (login, token,
// abort on close) carries naming and config; the SDK's naming client (and its UDP socket) and its
// config client are created on first use, so an app that is only ever inject()ed opens neither.
import type { NacosServer } from '../../server-addr.js'
import type { Transport } from '../types.js'
import { ClosedError } from '../../errors.js'
import { NacosHttpClient } from './http-client.js'
import { HttpNaming } from './naming.js'
import { HttpConfig } from './config.js'
import { createRepairedNaming, sdkLogger, type NamingClient, type RepairedNaming } from './sdk-repairs.js'

export interface HttpTransportOptions {
  serverAddr: readonly NacosServer[]
  namespace: string
  username: string | undefined
  password: string | undefined
  accessKey: string | undefined
  secretKey: string | undefined
  requestTimeoutMs: number
  /** How often an ephemeral instance beats (an HTTP-transport setting). */
  heartbeatIntervalMs: number
  cacheDir: string
}

/** pino-like logger. */
type Logger = Record<'info' | 'warn' | 'debug' | 'error', (obj: object, msg?: string) => void>

export interface HttpTransport extends Transport {
  /** The SDK's naming client (created on first use), for what the plugin does not cover. */
  readonly sdkClient: NamingClient
}

export function createHttpTransport (options: HttpTransportOptions, log: Logger): HttpTransport {
  const http = new NacosHttpClient({ username: options.username, password: options.password, timeout: options.requestTimeoutMs, log })
  let sdk: RepairedNaming | undefined
  let closing: Promise<void> | undefined
  const repaired = (): RepairedNaming => {
    // Once closed, no SDK client (and its UDP socket) is made any more: it would outlive close().
    if (sdk === undefined && closing !== undefined) throw new ClosedError('naming client')
    sdk ??= createRepairedNaming({
      serverAddr: options.serverAddr,
      namespace: options.namespace,
      httpclient: http,
      logger: sdkLogger(log as { debug: (...args: never[]) => void }),
      accessKey: options.accessKey,
      secretKey: options.secretKey
    }, (err) => { log.debug({ err: { name: err.name, message: err.message } }, 'nacos sdk error') })
    return sdk
  }
  const naming = new HttpNaming({ sdk: repaired, http, serverAddr: options.serverAddr, heartbeatIntervalMs: options.heartbeatIntervalMs })
  const config = new HttpConfig({ serverAddr: options.serverAddr, namespace: options.namespace, http, log, cacheDir: options.cacheDir, accessKey: options.accessKey, secretKey: options.secretKey })
  return {
    name: 'http',
    naming,
    config,
    get sdkClient () { return repaired().client },
    // The beat loops and the config long poll end before the shared HTTP client does.
    close: async () => {
      closing ??= (async () => {
        naming.close()
        config.close()
        if (sdk !== undefined) await sdk.close()
        http.close()
      })()
      await closing
    }
  }
}
