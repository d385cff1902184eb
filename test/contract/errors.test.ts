// Contract suite, one error shape: the same failures through both transports end in the same
// declared FST_NACOS_* code, whatever the transport (or the SDK under it) threw inside. Each
// failure is met by a config read, a config publish and a service query, as the app's calls
// through app.nacos would meet it.
import t from 'tap'
import { createServer, type Server, type Socket } from 'node:net'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { recordingLog } from '../helpers/instances.ts'
import { freeNacosPort } from '../helpers/ports.ts'
import { startNacos, stopNacos } from '../helpers/private-nacos.ts'
import { TRANSPORTS, openTransport, type TransportName } from '../helpers/transports.ts'
import type { AllSettings } from '../../src/settings.ts'
import type { Transport } from '../../src/transport/types.ts'

const cacheDir = mkdtempSync(join(tmpdir(), 'fastify-nacos-errors-'))
t.teardown(() => { rmSync(cacheDir, { recursive: true, force: true }) })

/** A TCP server on the HTTP and the gRPC port (+1000) that does `onSocket` with every connection. */
async function tcpServers (onSocket: (socket: Socket) => void): Promise<{ addr: string, close: () => Promise<void> }> {
  const port = await freeNacosPort()
  const sockets = new Set<Socket>()
  const servers: Server[] = [port, port + 1000].map((p) => createServer((s) => { sockets.add(s); s.on('error', () => {}); onSocket(s) }).listen(p, '127.0.0.1'))
  await Promise.all(servers.map(async (s) => await once(s, 'listening')))
  return {
    addr: `127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy()
      await Promise.all(servers.map(async (s) => await new Promise((resolve) => s.close(resolve))))
    }
  }
}

const OPERATIONS: Record<string, (transport: Transport) => Promise<unknown>> = {
  'config read': async (tr) => await tr.config.get({ dataId: 'errors-contract.json', group: 'DEFAULT_GROUP' }),
  'config publish': async (tr) => await tr.config.publish({ dataId: 'errors-contract.json', group: 'DEFAULT_GROUP' }, '{}', 'json'),
  'service query': async (tr) => await tr.naming.query({ service: 'errors-contract', group: 'DEFAULT_GROUP', clusters: [] })
}

/** The code of each operation's error over `transport`; the message too, for the diagnostics. */
async function codes (transport: TransportName, settings: AllSettings, closeFirst = false): Promise<Record<string, string>> {
  const { log } = recordingLog()
  const tr = await openTransport(transport, log, { requestTimeout: 1000, snapshotDir: cacheDir, ...settings })
  if (closeFirst) await tr.close()
  // A server that answers is reached first (the probe waits for the gRPC connection), so that
  // what is compared is its answer, not a connection still being set up on a busy machine.
  else if (settings.username !== undefined) await tr.naming.probe().catch(() => undefined)
  const seen: Record<string, string> = {}
  try {
    for (const [name, op] of Object.entries(OPERATIONS)) {
      try {
        await op(tr)
        seen[name] = 'resolved'
      } catch (err) {
        seen[name] = String((err as { code?: unknown }).code ?? `no code: ${(err as Error).name}: ${(err as Error).message}`)
      }
    }
  } finally {
    await tr.close()
  }
  return seen
}

async function sameOnBoth (t: Tap, expected: string, settings: AllSettings, closeFirst = false): Promise<void> {
  const byTransport: Record<string, Record<string, string>> = {}
  for (const transport of TRANSPORTS) byTransport[transport] = await codes(transport, settings, closeFirst)
  const want = Object.fromEntries(Object.keys(OPERATIONS).map((name) => [name, expected]))
  for (const transport of TRANSPORTS) t.same(byTransport[transport], want, `${transport}: every operation fails with ${expected}`)
}
type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

t.test('refused: nothing listens on the server\'s ports', async (t) => {
  await sameOnBoth(t, 'FST_NACOS_REQUEST_FAILED', { serverAddr: `127.0.0.1:${await freeNacosPort()}` })
})

t.test('unreachable: the ports accept and reset every connection (no Nacos behind them)', async (t) => {
  const server = await tcpServers((s) => { s.resetAndDestroy() })
  t.teardown(server.close)
  await sameOnBoth(t, 'FST_NACOS_REQUEST_FAILED', { serverAddr: server.addr })
})

t.test('timed out: the ports accept and never answer', async (t) => {
  const server = await tcpServers(() => {})
  t.teardown(server.close)
  await sameOnBoth(t, 'FST_NACOS_REQUEST_FAILED', { serverAddr: server.addr })
})

t.test('closed: a call after close()', async (t) => {
  await sameOnBoth(t, 'FST_NACOS_CLOSED', {}, true)
})

t.test('auth: a Nacos with authentication on refuses the password', async (t) => {
  const port = await freeNacosPort()
  await startNacos(port, { auth: true })
  t.teardown(async () => { await stopNacos(port) })
  await sameOnBoth(t, 'FST_NACOS_AUTH_FAILED', { serverAddr: `127.0.0.1:${port}`, username: 'nacos', password: 'not-the-password', requestTimeout: 5000 })
})
