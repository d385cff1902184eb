// Credentials for gRPC requests, as the Java client sends them in each request's headers:
//  - username/password: a login over HTTP (POST /nacos/v3/auth/user/login; on a server that answers
//    it 404 or 501, i.e. 2.x, POST /nacos/v1/auth/login, as the Java client) gives `accessToken` and
//    `tokenTtl` (seconds); the token goes in the `accessToken` header; it is renewed when a
//    request is made within the last 1/15..1/10 of its life (the Java client's window), and
//    again when the server answers 403 (at most once every few seconds);
//  - accessKey/secretKey: naming requests carry `ak`, `data` (`<ms>@@<group>@@<service>`) and
//    `signature` (HmacSHA1 of data, base64); config requests carry `Spas-AccessKey`,
//    `Timestamp` and `Spas-Signature` (HmacSHA1 of `<tenant>+<group>+<ms>`, or of the parts
//    present).
// No password, token or secret key ever reaches a log line or an error message.
import { createHmac } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { GrpcTransportError } from './errors.js'
import { LOGIN_PATHS, loginAnswerReason, loginDue, withoutTokenWarning, type Refusal } from '../login-refusal.js'
import type { GrpcLog, ServerAddress } from './link.js'

export interface AuthOptions {
  servers: ServerAddress[]
  username?: string | undefined
  password?: string | undefined
  accessKey?: string | undefined
  secretKey?: string | undefined
  /** Log in over https instead of http. */
  loginHttps?: boolean
  /** With loginHttps: the CA(s) to trust, a client certificate and key, the name to check the server's certificate against (the gRPC channel's settings). */
  tls?: { ca?: Buffer | undefined, cert?: Buffer | undefined, key?: Buffer | undefined, servername?: string | undefined }
  /** Path prefix of Nacos's HTTP API (default /nacos). */
  contextPath?: string
  timeoutMs: number
  log: GrpcLog
}

/** What a request touches, for the signature (naming: the grouped service; config: tenant+group). */
export type Resource =
  | { module: 'naming', namespace: string, group: string, service: string }
  | { module: 'config', tenant: string, group: string }
  | { module: 'internal' }

const RELOGIN_MIN_INTERVAL_MS = 5000

function hmacSha1 (data: string, key: string): string {
  return createHmac('sha1', Buffer.from(key, 'utf8')).update(data, 'utf8').digest('base64')
}

export class Auth {
  readonly #opts: AuthOptions
  #token: string | undefined
  #renewAt = 0
  #lastLogin = 0
  #login: Promise<void> | undefined
  /** The login every server answered with a refusal, when it was, and whether going on without a token has been said. */
  #refusal: Refusal<GrpcTransportError> | undefined
  #closed = false
  readonly #pending = new Set<{ destroy: () => void }>()
  /** Servers that answered the v3 login path 404/501 (2.x): they are asked the v1 path only. */
  readonly #v1Login = new Set<string>()

  constructor (opts: AuthOptions) {
    this.#opts = opts
  }

  get usesLogin (): boolean {
    return Boolean(this.#opts.username)
  }

  /** The headers for one request on `resource`, logging in first if a token is due. */
  async headers (resource: Resource): Promise<Record<string, string>> {
    const headers: Record<string, string> = {}
    if (this.usesLogin && loginDue(this.#refusal)) {
      if (this.#token === undefined || Date.now() >= this.#renewAt) await this.#ensureLogin()
      if (this.#token !== undefined) headers.accessToken = this.#token
    }
    const { accessKey, secretKey } = this.#opts
    if (accessKey && secretKey) {
      const now = String(Date.now())
      if (resource.module === 'naming') {
        const grouped = resource.service.includes('@@') || !resource.group ? resource.service : `${resource.group}@@${resource.service}`
        const data = grouped ? `${now}@@${grouped}` : now
        headers.ak = accessKey
        headers.data = data
        headers.signature = hmacSha1(data, secretKey)
      } else {
        const target = resource.module === 'config' ? (resource.tenant ? `${resource.tenant}+${resource.group}` : resource.group) : ''
        headers['Spas-AccessKey'] = accessKey
        headers.Timestamp = now
        headers['Spas-Signature'] = hmacSha1(target ? `${target}+${now}` : now, secretKey)
      }
    }
    return headers
  }

  /** The login the servers refused, while requests go without a token. */
  get refusal (): GrpcTransportError | undefined {
    return this.#refusal?.err
  }

  /** A request went through without a token after a refused login: said once (a server without auth). */
  answeredWithoutToken (): void {
    if (this.#refusal === undefined || this.#refusal.announced) return
    this.#refusal.announced = true
    this.#opts.log.warn({ username: this.#opts.username }, withoutTokenWarning(this.#refusal))
  }

  /** The server refused a request (403): log in again unless that was just done. */
  async refresh (): Promise<boolean> {
    if (!this.usesLogin || Date.now() - this.#lastLogin < RELOGIN_MIN_INTERVAL_MS) return false
    this.#renewAt = 0
    await this.#ensureLogin()
    return true
  }

  close (): void {
    this.#closed = true
    for (const req of this.#pending) req.destroy()
    this.#pending.clear()
  }

  #ensureLogin (): Promise<void> {
    this.#login ??= this.#doLogin().finally(() => { this.#login = undefined })
    return this.#login
  }

  async #doLogin (): Promise<void> {
    const reasons: string[] = []
    let answered = 0
    for (const server of this.#opts.servers) {
      if (this.#closed) throw new GrpcTransportError('closed', 'the Nacos gRPC transport is closed (login not attempted)')
      const where = `${server.host}:${server.port}`
      try {
        const { status, text } = await this.#loginRequest(server, where)
        if (status !== 200) {
          answered++
          reasons.push(`${where} ${loginAnswerReason(status, text)}`)
          continue
        }
        const body = JSON.parse(text) as { accessToken?: unknown, tokenTtl?: unknown }
        if (typeof body.accessToken !== 'string') {
          // A server with auth disabled answers without a token: requests go without one.
          this.#token = undefined
          this.#renewAt = Number.POSITIVE_INFINITY
          this.#lastLogin = Date.now()
          return
        }
        const ttlS = Number(body.tokenTtl) > 0 ? Number(body.tokenTtl) : 18_000
        const windowS = ttlS / 15 + Math.random() * (ttlS / 10 - ttlS / 15)
        this.#token = body.accessToken
        this.#lastLogin = Date.now()
        this.#renewAt = this.#lastLogin + (ttlS - windowS) * 1000
        this.#opts.log.info({ server: where, username: this.#opts.username, tokenTtlS: ttlS }, 'nacos login succeeded')
        this.#refusal = undefined
        return
      } catch (err) {
        reasons.push(`${where}: ${(err as Error).message}`)
      }
    }
    this.#lastLogin = Date.now()
    const err = new GrpcTransportError('auth', `Nacos login as "${this.#opts.username ?? ''}" failed: ${reasons.join('; ')}`)
    // Refused by every server that answered: as the Java client, go on without a token (a server
    // without auth answers); unreachable everywhere: the request cannot go anyway.
    if (answered === 0) throw err
    this.#token = undefined
    this.#refusal = { err, at: this.#lastLogin, announced: this.#refusal?.announced ?? false }
  }

  /** The v3 login, or the v1 one on a server without it (remembered per server). */
  async #loginRequest (server: ServerAddress, where: string): Promise<{ status: number, text: string }> {
    const form = new URLSearchParams({ username: this.#opts.username ?? '', password: this.#opts.password ?? '' }).toString()
    if (!this.#v1Login.has(where)) {
      const answer = await this.#post(server, LOGIN_PATHS.v3, form)
      if (answer.status !== 404 && answer.status !== 501) return answer
      this.#v1Login.add(where)
    }
    return await this.#post(server, LOGIN_PATHS.v1, form)
  }

  #post (server: ServerAddress, path: string, form: string): Promise<{ status: number, text: string }> {
    const prefix = this.#opts.contextPath ?? '/nacos'
    const https = this.#opts.loginHttps === true
    const send = https ? httpsRequest : httpRequest
    // Unset fields stay out: https then trusts Node's roots (and NODE_EXTRA_CA_CERTS) and checks the host.
    const tls = https ? Object.fromEntries(Object.entries(this.#opts.tls ?? {}).filter(([, v]) => v !== undefined)) : {}
    return new Promise((resolve, reject) => {
      const req = send({
        ...tls,
        host: server.host,
        port: server.port,
        method: 'POST',
        path: `${prefix}${path}`,
        agent: false,
        timeout: this.#opts.timeoutMs,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form), connection: 'close' }
      }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => { text += chunk })
        res.on('end', () => { this.#pending.delete(req); resolve({ status: res.statusCode ?? 0, text }) })
        res.on('error', (err) => { this.#pending.delete(req); reject(err) })
      })
      this.#pending.add(req)
      req.on('timeout', () => { req.destroy(new Error(`no answer within ${this.#opts.timeoutMs} ms`)) })
      req.on('error', (err) => { this.#pending.delete(req); reject(err) })
      req.end(form)
    })
  }
}
