// The HTTP client we hand to the `nacos` SDK (its naming and config clients accept an urllib-like
// `httpclient`). It exists for two reasons:
// - auth done right: the SDK would send username and password as query parameters on every call;
//   we log in once, send the access token in a header, refresh it before it expires and log in
//   again when Nacos answers 403;
// - prompt shutdown: `close()` aborts every request still in flight (the config client's 30 s
//   long poll included), so `app.close()` never waits on a socket.
// A request that gets no answer fails with its own error (FST_NACOS_REQUEST_FAILED: method, URL,
// reason, the original as `cause`); of a failure only the server is kept, so that the transport
// learns when a server that could not be reached answers again (onServerBack). A server
// without the v1 API (410 Gone, Nacos 3.2+) fails every request with FST_NACOS_WRONG_TRANSPORT,
// said once at warn: retrying cannot help, another transport does.
import { ClosedError, NacosAuthError, RequestFailedError, WrongTransportError } from '../../errors.js'
import { LOGIN_PATHS, loginAnswerReason, loginDue, withoutTokenWarning, type Refusal } from '../login-refusal.js'

export interface SdkRequestOptions {
  method?: string
  data?: Record<string, unknown> | null
  headers?: Record<string, string>
  timeout?: number
  dataAsQueryString?: boolean
  [other: string]: unknown
}

export interface SdkResponse {
  status: number
  data: string
  headers: Record<string, string>
}

/** The subset of urllib's API that the `nacos` SDK calls. */
interface SdkHttpClient {
  request: (url: string, options?: SdkRequestOptions) => Promise<SdkResponse>
}

export interface HttpClientLogger {
  debug: (obj: object, msg?: string) => void
  warn: (obj: object, msg?: string) => void
}

export interface HttpClientOptions {
  username?: string | undefined
  password?: string | undefined
  /** Timeout of a request that does not say its own, in ms. */
  timeout?: number
  log?: HttpClientLogger | undefined
}

interface Token {
  value: string
  refreshAt: number
}

const TOKEN_HEADER = 'accessToken'

function encode (data: SdkRequestOptions['data']): URLSearchParams {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(data ?? {})) {
    if (value === undefined || value === null) continue
    params.set(key, typeof value === 'object' ? JSON.stringify(value) : String(value))
  }
  return params
}

/** `http://h:p/nacos/v1/ns/x` → `http://h:p/nacos`: the context path is what precedes the API version. */
function contextRoot (url: URL): string {
  const path = /^(.*?)\/v\d+\//.exec(url.pathname)?.[1] ?? '/nacos'
  return `${url.origin}${path}`
}

export class NacosHttpClient implements SdkHttpClient {
  readonly #username: string | undefined
  readonly #password: string | undefined
  readonly #timeout: number
  readonly #log: HttpClientLogger | undefined
  readonly #tokens = new Map<string, Token>()
  readonly #logins = new Map<string, Promise<Token>>()
  readonly #refusals = new Map<string, Refusal>()
  /** Servers that answered the v3 login path 404/501 (2.x): they are asked the v1 path only. */
  readonly #v1Login = new Set<string>()
  readonly #inflight = new Set<AbortController>()
  /** Servers (origins) that a request could not reach since they last answered. */
  readonly #unreached = new Set<string>()
  readonly #backListeners = new Set<() => void>()
  #closed = false
  #warnedGone = false

  constructor (options: HttpClientOptions = {}) {
    this.#username = options.username || undefined
    this.#password = options.password || undefined
    this.#timeout = options.timeout ?? 5000
    this.#log = options.log
  }

  get authenticated (): boolean {
    return this.#username !== undefined
  }

  /**
   * Calls `fn` each time a server that a request could not reach (refused, timed out) answers a
   * request again: the HTTP transport's counterpart of a reconnect. Returns the function that stops it.
   */
  onServerBack (fn: () => void): () => void {
    this.#backListeners.add(fn)
    return () => { this.#backListeners.delete(fn) }
  }

  #answered (origin: string): void {
    if (!this.#unreached.delete(origin)) return
    for (const fn of [...this.#backListeners]) {
      try { fn() } catch (err) { this.#log?.warn({ err }, 'nacos http: a server-back listener threw') }
    }
  }

  async request (url: string, options: SdkRequestOptions = {}): Promise<SdkResponse> {
    const target = new URL(url)
    const root = contextRoot(target)
    const first = await this.#send(target, options, root)
    const refusal = this.#refusals.get(root)
    if (first.status !== 403 || !this.authenticated) {
      if (refusal !== undefined && !refusal.announced) {
        // As the Java client: a server without auth answers without a token, so the app works.
        refusal.announced = true
        this.#log?.warn({ server: target.origin }, withoutTokenWarning(refusal))
      }
      return first
    }
    // The server wants a token and refused our login: that is the error to act on.
    if (refusal !== undefined) throw refusal.err
    // An expired or revoked token: log in again once, then retry.
    this.#tokens.delete(root)
    return await this.#send(target, options, root)
  }

  async #send (target: URL, options: SdkRequestOptions, root: string): Promise<SdkResponse> {
    const method = (options.method ?? 'GET').toUpperCase()
    const params = encode(options.data)
    const headers: Record<string, string> = { ...options.headers }
    delete headers['Content-Type']
    delete headers['content-type']
    const token = this.authenticated ? await this.#tokenUnlessRefused(root) : undefined
    if (token !== undefined) {
      headers[TOKEN_HEADER] = token
      // Nacos 2.0.x reads a token from `Authorization: Bearer` or the query string, not from the
      // accessToken header that later servers read; both headers keep it out of URLs.
      headers.authorization = `Bearer ${token}`
    }
    const url = new URL(target)
    let body: string | undefined
    if (method === 'GET' || method === 'DELETE' || options.dataAsQueryString === true) {
      for (const [k, v] of params) url.searchParams.set(k, v)
    } else {
      body = params.toString()
      headers['content-type'] = 'application/x-www-form-urlencoded; charset=utf-8'
    }
    const res = await this.#fetch(url, { method, headers, body }, options.timeout ?? this.#timeout)
    this.#log?.debug({ method, url: `${url.origin}${url.pathname}`, status: res.status }, 'nacos http')
    if (res.status === 410) throw this.#gone(root)
    return res
  }

  async #fetch (url: URL, init: { method: string, headers: Record<string, string>, body: string | undefined }, timeout: number): Promise<SdkResponse> {
    if (this.#closed) throw new ClosedError('HTTP client')
    const controller = new AbortController()
    this.#inflight.add(controller)
    const timer = setTimeout(() => controller.abort(new Error(`Nacos request timed out after ${timeout} ms`)), timeout)
    try {
      const res = await fetch(url, { ...init, signal: controller.signal })
      const data = await res.text()
      this.#answered(url.origin)
      return { status: res.status, data, headers: Object.fromEntries(res.headers) }
    } catch (err) {
      if (this.#closed) throw new ClosedError('HTTP client')
      this.#unreached.add(url.origin)
      const failure = controller.signal.aborted ? controller.signal.reason as Error : err as Error
      // fetch says only "fetch failed"; the reason (ECONNREFUSED, bad port, …) is in its cause.
      // The method and URL are said once, here.
      const cause = (failure as { cause?: { code?: string, message?: string } }).cause
      throw new RequestFailedError(init.method, `${url.origin}${url.pathname}`, cause?.code ?? cause?.message ?? failure.message, { cause: failure })
    } finally {
      clearTimeout(timer)
      this.#inflight.delete(controller)
    }
  }

  #gone (root: string): Error {
    const err = new WrongTransportError(root)
    if (!this.#warnedGone) {
      this.#warnedGone = true
      this.#log?.warn({ server: root }, err.message)
    }
    return err
  }

  /** The token; none while the server refuses our login. */
  async #tokenUnlessRefused (root: string): Promise<string | undefined> {
    const refusal = this.#refusals.get(root)
    if (!loginDue(refusal)) return undefined
    try {
      const token = await this.#token(root)
      this.#refusals.delete(root)
      return token
    } catch (err) {
      if (!(err instanceof NacosAuthError)) throw err
      this.#refusals.set(root, { err, at: Date.now(), announced: refusal?.announced ?? false })
      return undefined
    }
  }

  async #token (root: string): Promise<string> {
    const cached = this.#tokens.get(root)
    if (cached && Date.now() < cached.refreshAt) return cached.value
    let pending = this.#logins.get(root)
    if (!pending) {
      pending = this.#login(root).finally(() => this.#logins.delete(root))
      this.#logins.set(root, pending)
    }
    return (await pending).value
  }

  /** The v3 login, or the v1 one on a server that answers it 404/501 (2.x; remembered per server). */
  async #loginRequest (root: string): Promise<{ url: URL, res: SdkResponse }> {
    const init = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: new URLSearchParams({ username: this.#username ?? '', password: this.#password ?? '' }).toString()
    }
    if (!this.#v1Login.has(root)) {
      const url = new URL(`${root}${LOGIN_PATHS.v3}`)
      const res = await this.#fetch(url, init, this.#timeout)
      if (res.status !== 404 && res.status !== 501) return { url, res }
      this.#v1Login.add(root)
    }
    const url = new URL(`${root}${LOGIN_PATHS.v1}`)
    return { url, res: await this.#fetch(url, init, this.#timeout) }
  }

  async #login (root: string): Promise<Token> {
    let url = new URL(root)
    let res: SdkResponse
    try {
      ({ url, res } = await this.#loginRequest(root))
    } catch (err) {
      const code = err instanceof RequestFailedError ? err.reason : ''
      // Nacos 2.3 answers a wrong user or password with the status line "HTTP/1.1 0", which
      // fetch refuses to parse; any other failure (refused, timed out) is not about credentials.
      if (code === 'ERR_ASSERTION' || code.startsWith('HPE_')) {
        throw new NacosAuthError(`Nacos login as "${this.#username}" failed at ${url.origin}: credentials rejected (the server answered HTTP status 0)`)
      }
      throw err
    }
    if (res.status === 410) throw this.#gone(root)
    if (res.status !== 200) {
      // The server's message ("unknown user!") never contains the password; ours neither.
      throw new NacosAuthError(`Nacos login as "${this.#username}" failed at ${url.origin}: ${loginAnswerReason(res.status, res.data)}`)
    }
    const parsed = JSON.parse(res.data) as { accessToken?: string, tokenTtl?: number }
    if (!parsed.accessToken) throw new NacosAuthError(`Nacos login at ${url.origin} returned no accessToken`)
    const ttlMs = (parsed.tokenTtl ?? 18000) * 1000
    // Refresh once 80% of the lifetime has passed, well before the server rejects it.
    const token = { value: parsed.accessToken, refreshAt: Date.now() + ttlMs * 0.8 }
    this.#tokens.set(root, token)
    this.#log?.debug({ server: url.origin, ttlSeconds: ttlMs / 1000 }, 'nacos login')
    return token
  }

  /** Aborts every request in flight; later requests fail with ClosedError. */
  close (): void {
    this.#closed = true
    for (const controller of this.#inflight) controller.abort(new ClosedError('HTTP client'))
    this.#inflight.clear()
  }
}
