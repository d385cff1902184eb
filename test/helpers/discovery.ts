// What the discovery contract files share: a Discovery over a real transport that counts its
// watches and its re-reads, and a promise for the moment a subscriber sees a list.
import { Discovery } from '../../src/naming/discovery.ts'
import type { Instance } from '../../src/naming/balancer.ts'
import type { Transport } from '../../src/transport/types.ts'
import { NACOS_ADDR, uniqueService } from './nacos-api.ts'
import { openPorts, recordingLog, register } from './instances.ts'
import { openTransport, type TransportName } from './transports.ts'

type Teardown = { teardown: (fn: () => Promise<void>) => void }

export async function discoverySetup (t: Teardown, transportName: TransportName, opts: { addr?: string, refreshInterval?: number } = {}) {
  const { log, lines } = recordingLog()
  const transport = await openTransport(transportName, log, { serverAddr: opts.addr ?? NACOS_ADDR })
  // Counts the watches open on the transport, so a test can tell that close() ended them, and the
  // re-reads that failed or succeeded, so that a test can wait for them.
  let watching = 0
  const reads = { failed: 0, ok: 0 }
  const watch: Transport['naming']['watch'] = (ref, onChange) => {
    const stop = transport.naming.watch(ref, onChange)
    watching++
    return () => { watching--; stop() }
  }
  const query: Transport['naming']['query'] = async (ref) => {
    try {
      const snapshot = await transport.naming.query(ref)
      reads.ok++
      return snapshot
    } catch (err) {
      reads.failed++
      throw err
    }
  }
  const discovery = new Discovery({ transport: { ...transport.naming, watch, query }, log, refreshInterval: opts.refreshInterval ?? 1000 })
  t.teardown(async () => {
    discovery.close()
    await transport.close()
  })
  return { discovery, transport, lines, reads, watching: () => watching }
}

/** Resolves with the time at which a subscriber first sees a list that satisfies `check`. */
export async function seen (discovery: Discovery, service: string, check: (list: readonly Instance[]) => boolean, timeout = 8000): Promise<number> {
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`${service}: condition not seen within ${timeout} ms`)) }, timeout)
    const off = discovery.subscribe(service, (list) => {
      if (!check(list)) return
      clearTimeout(timer)
      off()
      resolve(Date.now())
    })
  })
}

/** Two listening ports, the first registered under a fresh service name that discovery has read. */
export async function oneOfTwoRegistered (t: Teardown, transportName: TransportName, prefix: string, opts: Parameters<typeof discoverySetup>[2] = {}) {
  const open = await openPorts(2)
  t.teardown(open.close)
  const [a, b] = open.ports as [number, number]
  const service = uniqueService(prefix)
  await register(service, { port: a })
  const setupResult = await discoverySetup(t, transportName, opts)
  await setupResult.discovery.instances(service)
  return { a, b, service, ...setupResult }
}

export const ports = (list: readonly Instance[]): number[] => list.map((i) => i.port).sort((a, b) => a - b)
