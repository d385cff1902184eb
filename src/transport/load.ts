// Chooses the transport named by the settings and loads only its code (`await import`), so an app
// on one transport never loads the other's dependencies (@grpc/grpc-js for gRPC, the `nacos` SDK
// for HTTP).
import type { FastifyBaseLogger } from 'fastify'
import type { ResolvedSettings } from '../settings.js'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SettingError, NoSdkClientError } from '../errors.js'
import { DEFAULT_CONTEXT_PATH } from '../server-addr.js'
import type { Transport } from './types.js'
import { withNacosErrors } from './nacos-errors.js'
import type { NamingClient } from './http/sdk-repairs.js'
import type { GrpcTlsOptions } from './grpc/index.js'

export interface LoadedTransport {
  transport: Transport
  /** The SDK naming client, for `app.nacos.client`; only the HTTP transport has one. */
  sdkClient: () => NamingClient
}

const TLS_SETTINGS = [['tlsCa', 'NACOS_TLS_CA'], ['tlsCert', 'NACOS_TLS_CERT'], ['tlsKey', 'NACOS_TLS_KEY'], ['tlsServerName', 'NACOS_TLS_SERVER_NAME']] as const

/** TLS settings where no TLS is spoken are a mistake to report, not to ignore. */
function noTlsFiles (config: ResolvedSettings, why = 'they apply to https:// servers: write NACOS_SERVER_ADDR with https://'): false {
  const set = TLS_SETTINGS.find(([key]) => config[key] !== undefined)
  if (set !== undefined) throw new SettingError(set[1], `${set[1]}=${JSON.stringify(config[set[0]])}`, `no TLS setting here: ${why}`)
  return false
}

function pem (variable: string, file: string): Buffer {
  try {
    return readFileSync(file)
  } catch (err) {
    throw new SettingError(variable, `${variable}=${JSON.stringify(file)}`, `a readable PEM file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
}

/** The gRPC port's TLS from the settings: CA, client certificate and key, server name. */
function grpcTls (config: ResolvedSettings): GrpcTlsOptions {
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new SettingError('NACOS_TLS_CERT', config.tlsCert === undefined ? 'NACOS_TLS_CERT unset' : 'NACOS_TLS_KEY unset', 'both NACOS_TLS_CERT and NACOS_TLS_KEY, or neither')
  }
  return {
    ...(config.tlsCa === undefined ? {} : { rootCerts: pem('NACOS_TLS_CA', config.tlsCa) }),
    ...(config.tlsCert === undefined ? {} : { certChain: pem('NACOS_TLS_CERT', config.tlsCert) }),
    ...(config.tlsKey === undefined ? {} : { privateKey: pem('NACOS_TLS_KEY', config.tlsKey) }),
    ...(config.tlsServerName === undefined ? {} : { serverName: config.tlsServerName })
  }
}

export async function loadTransport (config: ResolvedSettings, log: FastifyBaseLogger): Promise<LoadedTransport> {
  if (config.transport === 'grpc') {
    const { createGrpcTransport } = await import('./grpc/index.js')
    // parseServerList made every server share one scheme and context path.
    const [first] = config.serverAddr
    const transport = createGrpcTransport({
      serverAddr: config.serverAddr,
      // https:// means TLS on the gRPC port and for the login on the HTTP port.
      tls: first?.tls === true ? { loginHttps: true, ...grpcTls(config) } : noTlsFiles(config),
      grpcPortOffset: config.grpcPortOffset,
      healthCheckIdleMs: config.grpcHealthCheckIdleMs,
      healthCheckTimeoutMs: config.grpcHealthCheckTimeoutMs,
      reconnectMaxMs: config.grpcReconnectMaxMs,
      redoIntervalMs: config.grpcRedoIntervalMs,
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
  noTlsFiles(config, 'the http transport trusts the CAs of NODE_EXTRA_CA_CERTS')
  const { createHttpTransport } = await import('./http/index.js')
  // The SDK writes a cache of its own and answers from it when Nacos is down; ours (src/snapshot)
  // is the one that outlives the process, so the SDK's lives in a private temp dir until close.
  const cacheDir = mkdtempSync(join(tmpdir(), 'fastify-nacos-sdk-'))
  const transport = createHttpTransport({ ...config, cacheDir }, log)
  const owned: Transport & { readonly sdkClient: unknown } = {
    name: transport.name,
    naming: transport.naming,
    config: transport.config,
    get sdkClient () { return transport.sdkClient },
    close: async () => {
      await transport.close()
      rmSync(cacheDir, { recursive: true, force: true })
    }
  }
  return {
    transport: withNacosErrors(owned),
    sdkClient: () => transport.sdkClient
  }
}
