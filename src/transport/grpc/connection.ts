// One gRPC connection to a Nacos server, as Nacos 2.x/3.x clients hold it:
//
//  1. a ServerCheckRequest over the unary service `Request/request` on the gRPC port (HTTP port +
//     offset) names the connection id the server gives this HTTP/2 connection;
//  2. the bi-directional stream `BiRequestStream/requestBiStream` is opened on the same HTTP/2
//     connection and a ConnectionSetupRequest (client version, tenant, labels) registers it; a
//     server that negotiates abilities confirms with a SetupAckRequest;
//  3. every request then goes over `Request/request`; the server's own requests (pushes,
//     ClientDetectionRequest, ConnectResetRequest) come over the stream and are answered on it
//     with a response carrying the same requestId;
//  4. a HealthCheckRequest after `healthCheckIdleMs` without traffic, a stream that ends, a
//     request the server answers with "connection unregistered", or a ConnectResetRequest lead to
//     a new connection: the servers are tried in turn, each full round failing waits longer
//     (exponential backoff with jitter, capped), until one answers or the connection is closed.
//
// Every connection gets its own grpc-js channel with a local subchannel pool: the server binds
// the connection id to the TCP connection, so two transports (or an old and a new connection)
// must never share one. Timers are unref'd, and close() cancels every call, the stream and the
// channel, so nothing here keeps the process alive after close().
import * as grpc from '@grpc/grpc-js'
import { jittered } from '../../backoff.js'
import { jsonPayload, parseBody, type Json, type Payload } from './proto.js'
import { answerServerRequest, type ServerRequestHandler } from './server-requests.js'
import { Waits } from './waits.js'
import { answerError, closedError, GrpcTransportError, NACOS_INVALID_SERVER_STATUS, NACOS_UN_REGISTER } from './errors.js'
import { Health } from './health.js'
import { abandonLink, checkServer, describeGrpcError, grpcAddress, namedServer, openLink, unary, type GrpcLog, type Link, type LinkOptions, type ServerAddress } from './link.js'

export interface ConnectionOptions extends LinkOptions {
  servers: ServerAddress[]
  /** A health check runs after this long without any traffic (Java client: 5 s). */
  healthCheckIdleMs: number
  reconnectStepMs: number
  reconnectMaxMs: number
  log: GrpcLog
}

export interface RequestOptions {
  timeoutMs?: number
  /** Headers for this request (auth, signatures), computed right before each send. */
  headers?: () => Promise<Record<string, string>> | Record<string, string>
}

export class Connection {
  readonly #opts: ConnectionOptions
  #state: 'idle' | 'connecting' | 'ready' | 'closed' = 'idle'
  #link: Link | undefined
  #next: number
  #lastError: Error | undefined
  #recommended: ServerAddress | undefined
  #everConnected = false
  /** Set while never connected and every server of the last round refused (see #connectLoop). */
  #refusedAll: Error | undefined
  readonly #waits = new Waits<Link>()
  readonly #calls = new Set<grpc.ClientUnaryCall>()
  readonly #handlers = new Map<string, ServerRequestHandler>()
  readonly #upListeners = new Set<() => void>()
  readonly #downListeners = new Set<(err: Error) => void>()
  readonly #health: Health

  constructor (opts: ConnectionOptions) {
    if (opts.servers.length === 0) throw new Error('the gRPC transport needs at least one Nacos server address')
    this.#opts = opts
    // Like the Java client's shuffled server list: several clients spread over the servers.
    this.#next = Math.floor(Math.random() * opts.servers.length)
    this.#health = new Health({
      idleMs: opts.healthCheckIdleMs,
      link: opts,
      calls: this.#calls,
      current: () => this.#state === 'ready' ? this.#link : undefined,
      closed: () => this.closed,
      condemn: (link, reason) => { this.#reconnect(link, reason) }
    })
    this.handle('ClientDetectionRequest', () => ({ type: 'ClientDetectionResponse' }))
    this.handle('ConnectResetRequest', (body) => {
      // Answer first (the server waits for it), then move to the server it names, if known.
      const known = namedServer(this.#opts.servers, body.serverIp, body.serverPort)
      const link = this.#link
      setImmediate(() => { if (link) this.#reconnect(link, new Error(`the server ${link.address} asked this client to reconnect${known ? ` to ${grpcAddress(known, this.#opts.grpcPortOffset)}` : ''}`), known) })
      return { type: 'ConnectResetResponse' }
    })
  }

  get ready (): boolean {
    return this.#state === 'ready'
  }

  get closed (): boolean {
    return this.#state === 'closed'
  }

  /** host:grpcPort of the server connected to now, if any. */
  get server (): string | undefined {
    return this.#link?.address
  }

  get connectionId (): string | undefined {
    return this.#link?.connectionId
  }

  /** The servers as configured (HTTP ports). */
  get servers (): readonly ServerAddress[] {
    return this.#opts.servers
  }

  /** Every gRPC address this connection may use, for messages. */
  get addresses (): string[] {
    return this.#opts.servers.map((s) => grpcAddress(s, this.#opts.grpcPortOffset))
  }

  /** Starts connecting (idempotent); requests wait for the connection. */
  start (): void {
    if (this.#state !== 'idle') return
    this.#state = 'connecting'
    this.#health.start()
    void this.#connectLoop()
  }

  /** Registers the answer to one type of server request (a push). */
  handle (type: string, handler: ServerRequestHandler): void {
    this.#handlers.set(type, handler)
  }

  /** Called each time a connection is (re)established and registered with the server. */
  onUp (fn: () => void): () => void {
    this.#upListeners.add(fn)
    return () => { this.#upListeners.delete(fn) }
  }

  /** Called when the connection is lost, and after each full round of servers that failed. */
  onDown (fn: (err: Error) => void): () => void {
    this.#downListeners.add(fn)
    return () => { this.#downListeners.delete(fn) }
  }

  /**
   * Sends one request and resolves with the response body when the server answers with success.
   * Waits for a connection, and retries on a new one while the timeout allows when the server is
   * unreachable or has forgotten the connection. A Nacos error answer rejects with its code.
   */
  async request (type: string, body: Json, opts: RequestOptions = {}): Promise<Json> {
    const timeoutMs = opts.timeoutMs ?? this.#opts.requestTimeoutMs
    const started = Date.now()
    const deadline = started + timeoutMs
    let lastProblem = ''
    for (;;) {
      const link = await this.#waitReady(deadline, type, timeoutMs, lastProblem)
      const headers = opts.headers ? await opts.headers() : {}
      let res: Payload
      try {
        res = await unary(link.client, jsonPayload(type, body, headers, this.#opts.clientIp), deadline, this.#calls)
      } catch (err) {
        if (this.closed) throw closedError(type)
        const code = (err as grpc.ServiceError).code
        if (code === grpc.status.DEADLINE_EXCEEDED || Date.now() >= deadline) {
          throw new GrpcTransportError('timeout', `Nacos did not answer ${type} within ${timeoutMs} ms (server ${link.address})`, { requestType: type, cause: err })
        }
        lastProblem = `${link.address}: ${describeGrpcError(err)}`
        this.#health.suspect(link, new Error(`${type} failed on ${lastProblem}`))
        await this.#waits.sleep(Math.min(100, Math.max(0, deadline - Date.now())))
        continue
      }
      const json = parseBody(res)
      this.#opts.log.debug?.({ type, server: link.address, answer: res.type, ms: this.#health.touch() - started }, 'nacos grpc request')
      if (res.type === 'ErrorResponse') {
        const errorCode = Number(json.errorCode)
        const message = typeof json.message === 'string' ? json.message : ''
        if (errorCode === NACOS_UN_REGISTER || errorCode === NACOS_INVALID_SERVER_STATUS) {
          // The server does not know this connection (restarted, expired it) or is starting.
          lastProblem = `${link.address}: ${message || `error ${errorCode}`}`
          this.#reconnect(link, new Error(`the server ${link.address} answered ${type}: ${message}`))
          if (Date.now() >= deadline) throw new GrpcTransportError('unavailable', `Nacos could not serve ${type}: ${lastProblem}`, { errorCode, requestType: type })
          continue
        }
        throw answerError(type, errorCode, message)
      }
      if (json.resultCode !== undefined && Number(json.resultCode) !== 200) {
        throw answerError(type, Number(json.errorCode), typeof json.message === 'string' ? json.message : '')
      }
      return json
    }
  }

  /** Resolves when `server` answers a ServerCheckRequest on its gRPC port (a throwaway channel). */
  async checkServer (server: ServerAddress, timeoutMs: number): Promise<void> {
    await checkServer(server, this.#opts, timeoutMs, this.#calls)
  }

  async close (): Promise<void> {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#health.stop()
    this.#waits.close(() => closedError())
    for (const call of this.#calls) call.cancel()
    this.#calls.clear()
    const link = this.#link
    this.#link = undefined
    if (link) abandonLink(link)
    this.#upListeners.clear()
    this.#downListeners.clear()
  }

  // ---- connecting ----

  async #connectLoop (): Promise<void> {
    const servers = this.#opts.servers
    let attempt = 0
    let refusedInRound = 0
    while (this.#state === 'connecting') {
      const server = this.#recommended ?? servers[this.#next++ % servers.length] as ServerAddress
      this.#recommended = undefined
      let link: Link
      try {
        link = await this.#open(server)
      } catch (err) {
        if (this.closed) return
        this.#lastError = err instanceof Error ? err : new Error(String(err))
        attempt++
        if (/ECONNREFUSED/.test(this.#lastError.message)) refusedInRound++
        const roundDone = attempt % servers.length === 0
        this.#opts.log.debug?.({ server: grpcAddress(server, this.#opts.grpcPortOffset), attempt, err: this.#lastError.message }, 'nacos grpc connect attempt failed')
        if (roundDone) {
          const round = attempt / servers.length
          if (round === 1 || round % 10 === 0) {
            this.#opts.log.warn({ servers: this.addresses, attempts: attempt, err: this.#lastError.message }, 'nacos grpc: no server reachable, retrying')
          }
          const down = new GrpcTransportError('unavailable', `no Nacos server answered on its gRPC port (${this.addresses.join(', ')}); last error: ${this.#lastError.message}`, { cause: this.#lastError })
          this.#emitDown(down)
          // Never connected and every server refused: requests fail now, not at their deadline (a
          // start with Nacos down goes on to the snapshots). Once connected, they wait out a reconnect.
          this.#refusedAll = !this.#everConnected && refusedInRound === servers.length ? down : undefined
          if (this.#refusedAll !== undefined) this.#waits.reject(() => down)
          refusedInRound = 0
        }
        // The next server of a round at once (about); the n-th round failed, n steps later, capped
        // (linear, as the Java client's n × 100 ms: a restarted server is found again soon).
        const step = this.#opts.reconnectStepMs
        await this.#waits.sleep(jittered(roundDone ? Math.min(this.#opts.reconnectMaxMs, step * (attempt / servers.length)) : step))
        continue
      }
      if (this.#state !== 'connecting') {
        abandonLink(link)
        return
      }
      this.#link = link
      this.#everConnected = true
      this.#refusedAll = undefined
      this.#state = 'ready'
      this.#health.touch()
      this.#lastError = undefined
      this.#opts.log.info({ server: link.address, connectionId: link.connectionId }, 'nacos grpc connected')
      this.#waits.release(link)
      for (const fn of this.#upListeners) {
        try { fn() } catch (err) { this.#opts.log.error({ err }, 'nacos grpc: a connection listener threw') }
      }
      return
    }
  }

  async #open (server: ServerAddress): Promise<Link> {
    return await openLink(server, this.#opts, {
      calls: this.#calls,
      onPayload: (link, payload) => { this.#onServerPayload(link, payload) },
      onDown: (link, reason) => { this.#linkDown(link, reason) },
      sleep: async (ms) => { await this.#waits.sleep(ms) },
      closed: () => this.closed
    })
  }

  /** Drops `link` (if it is still the current one) and starts connecting again. */
  #reconnect (link: Link, reason: Error, recommended?: ServerAddress): void {
    if (this.#state !== 'ready' || this.#link !== link) return
    this.#opts.log.warn({ server: link.address, connectionId: link.connectionId, reason: reason.message }, 'nacos grpc connection lost, reconnecting')
    this.#link = undefined
    this.#state = 'connecting'
    this.#recommended = recommended
    abandonLink(link)
    this.#emitDown(new GrpcTransportError('unavailable', `the gRPC connection to Nacos was lost: ${reason.message}`, { cause: reason }))
    void this.#connectLoop()
  }

  #linkDown (link: Link, reason: Error): void {
    if (link.abandoned) return
    if (this.#link === link) this.#reconnect(link, reason)
    else link.abandoned = true
  }

  #emitDown (err: Error): void {
    for (const fn of this.#downListeners) {
      try { fn(err) } catch (e) { this.#opts.log.error({ err: e }, 'nacos grpc: a connection listener threw') }
    }
  }

  // ---- server requests ----

  #onServerPayload (link: Link, payload: Payload): void {
    if (link.abandoned) return
    this.#health.touch()
    answerServerRequest(link, payload, this.#handlers, this.#opts.log)
  }

  // ---- helpers ----

  async #waitReady (deadline: number, type: string, timeoutMs: number, lastProblem: string): Promise<Link> {
    if (this.#state === 'closed') throw closedError(type)
    if (this.#state === 'ready' && this.#link) return this.#link
    // Never connected, and the last round of servers all refused: known now, not at the deadline.
    if (this.#refusedAll !== undefined) throw this.#refusedAll
    this.start()
    return await this.#waits.until(deadline, () => {
      const why = lastProblem || this.#lastError?.message || 'still connecting'
      return new GrpcTransportError('unavailable', `no gRPC connection to Nacos within ${timeoutMs} ms for ${type} (servers ${this.addresses.join(', ')}): ${why}`, { requestType: type })
    })
  }
}
