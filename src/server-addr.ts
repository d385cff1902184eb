// Nacos server addresses as users write them, as the Java client and Spring configs accept them:
// `host`, `host:port`, `[v6]:port`, each with an optional `http://` or `https://` and context path.
// Pure functions: settings.ts resolves NACOS_SERVER_ADDR with them, the transports build URLs.
import { isIPv6 } from 'node:net'

/** Nacos's own defaults: the port of its HTTP API and the path it is served under. */
export const DEFAULT_PORT = 8848
export const DEFAULT_CONTEXT_PATH = '/nacos'

/** What every form of an address says: one line, for error messages. */
export const SERVER_FORMS = 'host[:port] or [IPv6]:port, optionally with http:// or https:// and a context path ' +
  '(e.g. 127.0.0.1:8848, https://nacos.example.com/nacos, [::1]:8848), comma-separated; the port defaults to 8848'

export interface NacosServer {
  /** A name or IP; an IPv6 address without its brackets. */
  readonly host: string
  /** The port of the HTTP API (gRPC is this + 1000). */
  readonly port: number
  /** Written with https://: TLS to Nacos, for the HTTP API and gRPC alike. */
  readonly tls: boolean
  /** The path the HTTP API is served under, without a trailing slash (`/nacos` unless written). */
  readonly contextPath: string
}

const FORM = /^(?:(https?):\/\/)?(\[[^\]]*\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?(\/[A-Za-z0-9_.~/-]*)?$/i

/** One address; throws an Error saying what is wrong with it. */
export function parseServer (text: string): NacosServer {
  const m = FORM.exec(text.trim())
  if (m === null) throw new Error(`"${text}" is not an address`)
  const [, scheme, rawHost = '', rawPort, rawPath] = m
  const bracketed = rawHost.startsWith('[')
  const host = bracketed ? rawHost.slice(1, -1) : rawHost
  if (bracketed && !isIPv6(host)) throw new Error(`"${text}": ${rawHost} is not an IPv6 address`)
  const port = rawPort === undefined ? DEFAULT_PORT : Number(rawPort)
  if (port < 1 || port > 65535) throw new Error(`"${text}": port ${rawPort ?? ''} is not between 1 and 65535`)
  // `http://h:8848/` says no more than `http://h:8848`: the default context path.
  const path = (rawPath ?? '').replace(/\/+$/, '')
  return { host, port, tls: scheme?.toLowerCase() === 'https', contextPath: path === '' ? DEFAULT_CONTEXT_PATH : path }
}

/** A comma-separated list; throws an Error naming the first address that is wrong. */
export function parseServerList (text: string): NacosServer[] {
  const servers = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(parseServer)
  if (servers.length === 0) throw new Error('no address given')
  const [first] = servers as [NacosServer]
  // One cluster, one way in: the gRPC channel has one set of credentials, the login one path.
  const odd = servers.find((s) => s.tls !== first.tls || s.contextPath !== first.contextPath)
  if (odd !== undefined) throw new Error(`${baseUrl(odd)} differs from ${baseUrl(first)} in scheme or context path; every server of the list needs the same`)
  return servers
}

/** `host:port`, with an IPv6 host in brackets: what sockets and the SDK's URLs take. */
export function authority (server: Pick<NacosServer, 'host' | 'port'>): string {
  return server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`
}

/** `https://host:port/context`: the prefix of every URL of the server's HTTP API. */
export function baseUrl (server: NacosServer): string {
  return `${server.tls ? 'https' : 'http'}://${authority(server)}${server.contextPath}`
}
