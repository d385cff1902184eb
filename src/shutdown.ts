// SIGINT/SIGTERM (and uncaught errors) → app.close(), through close-with-grace. Installed once the
// server listens, uninstalled on close, so tests and inject()-only apps leave no listener behind.
import closeWithGrace from 'close-with-grace'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Server, Socket } from 'node:net'
import { SettingError } from './errors.js'

export interface SignalHandlers {
  uninstall: () => void
}

export function installSignalHandlers (app: FastifyInstance, delay: number, log: FastifyBaseLogger): SignalHandlers {
  return closeWithGrace({ delay, logger: { error: (msg: unknown) => log.error(msg) } as never }, async ({ signal, err }) => {
    if (err !== undefined) log.error({ err }, 'uncaught error; closing')
    else log.info({ signal }, 'signal received; deregistering and closing')
    await app.close()
  })
}

/**
 * On a signal, close-with-grace exits with code 1 once `closeGraceDelay` has passed: a drain delay
 * that, with the deregistration's own request (up to the request timeout), does not fit in it
 * would be cut short in the middle of the drain. Said at start-up instead.
 */
export function checkGraceDelay (closeGraceDelay: number, drainDelayMs: number, requestTimeoutMs: number): void {
  if (drainDelayMs === 0 || drainDelayMs + requestTimeoutMs < closeGraceDelay) return
  throw new SettingError('closeGraceDelay', `${closeGraceDelay} ms`,
    `more than NACOS_DRAIN_DELAY (${drainDelayMs} ms) + NACOS_REQUEST_TIMEOUT (${requestTimeoutMs} ms, the deregistration's own request): the drain would be cut short by the forced exit; raise closeGraceDelay or lower the drain delay`)
}

export interface SilentConnections {
  /** Destroys the connections that have not sent a byte yet; returns how many. */
  close: () => number
  /** Stops following the server's connections. */
  stop: () => void
}

/**
 * The server's connections that never sent a byte. Node's server.close() waits for them as for a
 * request in flight (only a connection that has finished a request counts as idle), and Nacos's
 * TCP health check of a persistent instance keeps one open to the instance's port from one check
 * to the next: after the deregistration no next check comes, and close() would wait until
 * close-with-grace's forced exit. Closed once the instance is deregistered (and drained); a
 * connection that sent anything (a request, part of one, a TLS handshake) is left to finish.
 */
export function silentConnections (server: Server): SilentConnections {
  const open = new Set<Socket>()
  const track = (socket: Socket): void => {
    open.add(socket)
    socket.once('close', () => open.delete(socket))
  }
  server.on('connection', track)
  return {
    close: () => {
      let closed = 0
      for (const socket of open) {
        if (socket.bytesRead !== 0) continue
        socket.destroy()
        open.delete(socket)
        closed++
      }
      return closed
    },
    stop: () => {
      server.off('connection', track)
      open.clear()
    }
  }
}
