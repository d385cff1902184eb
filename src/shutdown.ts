// SIGINT/SIGTERM (and uncaught errors) → app.close(), through close-with-grace. Installed once the
// server listens, uninstalled on close, so tests and inject()-only apps leave no listener behind.
import closeWithGrace from 'close-with-grace'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'

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
