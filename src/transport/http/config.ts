// Configs over HTTP through nacos-config's plain DataClient (not NacosConfigClient, whose
// cluster-client elects a leader over local TCP port 7777 shared by every process on the machine).
// The DataClient's own HTTP agent is replaced, because (see README, "The nacos SDK's defects"):
// - it retries a failed request in a loop without pause until the request's timeout (40 s for
//   the long poll): a client that fails at once (closed, connection refused) spins for that long;
// - it puts username and password in the query of every call; our NacosHttpClient sends a token.
// Its snapshots go to `cacheDir`, never to the SDK's default ~/.node-diamond-client-cache, and
// answer get() while Nacos is unreachable.
import { authority, baseUrl, type NacosServer } from '../../server-addr.js'
import type { ConfigKey, ConfigTransport } from '../types.js'
import { ClosedError, WrongTransportError, RequestFailedError, NacosAuthError, NacosServerError } from '../../errors.js'
import type { NacosHttpClient, SdkRequestOptions } from './http-client.js'
import { createDataClient, type SdkDataClient } from './sdk-repairs.js'
import { CONFLICT_READS, pauseBeforeReread } from '../config-conflict.js'
import { configSignHeaders } from './config-signing.js'

const LISTENER_PATH = '/v1/cs/configs/listener'

/** pino-like: `log.warn({ err }, 'message')`. */
type Logger = Record<'info' | 'warn' | 'debug', (obj: object, msg: string) => void>

export interface HttpConfigOptions {
  serverAddr: readonly NacosServer[]
  namespace: string
  http: NacosHttpClient
  log: Logger
  /** Where the SDK keeps its snapshots. */
  cacheDir: string
  /** With both, every config request is signed (Spas-Signature), as the SDK's own agent did. */
  accessKey?: string | undefined
  secretKey?: string | undefined
}

export class HttpConfig implements ConfigTransport {
  readonly #serverAddr: readonly NacosServer[]
  readonly #http: NacosHttpClient
  readonly #log: Logger
  readonly #options: HttpConfigOptions
  #client: SdkDataClient | undefined
  #closed = false
  readonly #abort = new AbortController()
  readonly #closing = new Promise<void>((resolve) => { this.#abort.signal.addEventListener('abort', () => { resolve() }, { once: true }) })
  #server = 0
  #reachable = true

  constructor (options: HttpConfigOptions) {
    this.#serverAddr = options.serverAddr
    this.#http = options.http
    this.#log = options.log
    this.#options = options
  }

  /** The DataClient, made on first use: an app that reads no config starts no long poll. */
  get #sdk (): SdkDataClient {
    if (this.#closed) throw new ClosedError('config client')
    if (this.#client === undefined) {
      const request = this.#request.bind(this)
      this.#client = createDataClient({
        serverAddr: this.#serverAddr.map(authority),
        // Nacos 2.x keeps the public namespace's configs under the empty tenant.
        namespace: this.#options.namespace === 'public' ? '' : this.#options.namespace,
        cacheDir: this.#options.cacheDir,
        httpclient: this.#http,
        httpAgent: class { request = request }
      })
      // A listener of ours keeps sdk-base from printing these on stderr; outages are logged once by #request.
      this.#client.on('error', (err) => { this.#log.debug({ err: { name: err.name, message: err.message } }, 'nacos config sdk error') })
    }
    return this.#client
  }

  get = async (key: ConfigKey): Promise<string | null> => await this.#sdk.getConfig(key.dataId, key.group)

  publish = async (key: ConfigKey, content: string, type: string): Promise<void> => {
    await this.#sdk.publishSingle(key.dataId, key.group, content, { type })
  }

  remove = async (key: ConfigKey): Promise<void> => {
    await this.#sdk.remove(key.dataId, key.group)
  }

  watch = (key: ConfigKey, onChange: (content: string | null) => void): (() => void) => {
    const info = { dataId: key.dataId, group: key.group }
    const listener = (content: string | null): void => { onChange(content) }
    this.#sdk.subscribe(info, listener)
    return () => { if (!this.#closed) this.#client?.unSubscribe(info, listener) }
  }

  /** Ends the long poll at once. */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    this.#client?.close()
    this.#abort.abort()
  }

  /**
   * The DataClient's HTTP agent: one pass over the servers, no busy retry; once closed, the long
   * poll answers "nothing changed" at once so the SDK's loop ends without its 2 s error pause.
   */
  async #request (path: string, options: SdkRequestOptions = {}): Promise<string | null> {
    if (this.#closed) {
      if (path === LISTENER_PATH) return ''
      throw new ClosedError('config client')
    }
    const data = { ...options.data }
    const { accessKey, secretKey } = this.#options
    const signed = accessKey && secretKey ? configSignHeaders(data, accessKey, secretKey, String(Date.now())) : {}
    let failure: Error | undefined
    let reads = 1
    for (let i = 0; i < this.#serverAddr.length; i++) {
      const target = this.#serverAddr[this.#server % this.#serverAddr.length] as NacosServer
      const server = authority(target)
      try {
        const res = await Promise.race([
          this.#http.request(`${baseUrl(target)}${path}`, {
            method: options.method ?? 'GET',
            data,
            headers: { ...options.headers, ...signed },
            timeout: options.timeout ?? 5000,
            dataAsQueryString: options.dataAsQueryString === true
          }),
          this.#closing.then(() => null)
        ])
        if (res === null) return path === LISTENER_PATH ? '' : null
        this.#up()
        if (res.status === 200) return res.data
        if (res.status === 404) return null
        if (res.status === 409 && reads < CONFLICT_READS) {
          // A publish of this config is under way on that server: read it there again shortly.
          await pauseBeforeReread(reads++, this.#abort.signal)
          i--
          continue
        }
        const answer = `HTTP ${res.status} ${res.data.slice(0, 200)}`
        failure = res.status === 401 || res.status === 403
          ? new NacosAuthError(`Nacos refused config ${options.method ?? 'GET'} ${path} on ${server}: ${answer}`)
          : new NacosServerError(`config ${options.method ?? 'GET'} ${path} on ${server}`, answer)
        if (res.status < 500) throw failure
      } catch (err) {
        if (err === failure || err instanceof ClosedError || err instanceof WrongTransportError || err instanceof NacosAuthError) throw err
        const reason = err instanceof RequestFailedError ? err.reason : (err as Error).message
        failure = new RequestFailedError(options.method ?? 'GET', `${server}${path}`, reason, { cause: err })
      }
      this.#server++
    }
    if (this.#reachable) this.#log.warn({ err: { message: failure?.message } }, 'Nacos config unreachable: serving snapshots and retrying')
    this.#reachable = false
    throw failure ?? new RequestFailedError(options.method ?? 'GET', path, 'no Nacos server configured')
  }

  #up (): void {
    if (!this.#reachable) this.#log.info({}, 'Nacos config reachable again')
    this.#reachable = true
  }
}
