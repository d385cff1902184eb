// Instances registered through Nacos's own HTTP API, as another application would. They are
// persistent (no heartbeats needed) and point at TCP ports of this process on 127.0.0.1: Nacos
// health-checks persistent instances over TCP, so a port that listens stays healthy, a closed one
// stays unhealthy, and no check ever leaves the machine.
import { createServer, type Server } from 'node:net'
import { NACOS_ADDR, instanceCall, listInstances, waitFor, type NacosHost } from './nacos-api.ts'

export interface ApiInstance {
  port: number
  weight?: number
  healthy?: boolean
  enabled?: boolean
  clusterName?: string
  metadata?: Record<string, string>
}

export async function register (service: string, spec: ApiInstance, addr = NACOS_ADDR): Promise<void> {
  await instanceCall('POST', {
    serviceName: service,
    ip: '127.0.0.1',
    port: String(spec.port),
    weight: String(spec.weight ?? 1),
    healthy: String(spec.healthy ?? true),
    enabled: String(spec.enabled ?? true),
    ephemeral: 'false',
    clusterName: spec.clusterName ?? 'DEFAULT',
    metadata: JSON.stringify(spec.metadata ?? {})
  }, addr)
}

export async function deregister (service: string, spec: ApiInstance, addr = NACOS_ADDR): Promise<void> {
  await instanceCall('DELETE', {
    serviceName: service,
    ip: '127.0.0.1',
    port: String(spec.port),
    clusterName: spec.clusterName ?? 'DEFAULT',
    ephemeral: 'false'
  }, addr)
}

/** `count` TCP ports that accept connections, closed by the returned function. */
export async function openPorts (count: number): Promise<{ ports: number[], close: () => Promise<void> }> {
  const servers: Server[] = []
  for (let i = 0; i < count; i++) {
    const server = createServer((socket) => socket.destroy())
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    servers.push(server)
  }
  const ports = servers.map((s) => (s.address() as { port: number }).port)
  const close = async (): Promise<void> => {
    await Promise.all(servers.map(async (s) => await new Promise((resolve) => s.close(resolve))))
  }
  return { ports, close }
}

/** A port nothing listens on (taken, then released). */
export async function closedPort (): Promise<number> {
  const { ports, close } = await openPorts(1)
  await close()
  return ports[0] as number
}

/** Logger that records what was logged, for assertions on warn-once and info-once. */
export function recordingLog (): { log: { info: Fn, warn: Fn, debug: Fn, error: Fn }, lines: Array<{ level: string, msg: string, obj: object }> } {
  const lines: Array<{ level: string, msg: string, obj: object }> = []
  const at = (level: string): Fn => (obj, msg) => { lines.push({ level, msg, obj }) }
  return { log: { info: at('info'), warn: at('warn'), debug: at('debug'), error: at('error') }, lines }
}

type Fn = (obj: object, msg: string) => void

/**
 * Nacos's list of `service` once it shows every change made before the call: Nacos publishes
 * instance changes after a short delay (~0.5 s, longer on a loaded machine) and rebuilds the
 * service's whole list on each change, so once a marker instance registered now is listed, the
 * list is as new as everything before it. The marker (ephemeral, on a closed port) is then removed
 * and left out of the answer. Waits for an event instead of a fixed time.
 */
export async function settledList (service: string, addr = NACOS_ADDR): Promise<NacosHost[]> {
  const port = String(await closedPort())
  const marker = { serviceName: service, ip: '127.0.0.1', port, ephemeral: 'true' }
  await instanceCall('POST', marker, addr)
  try {
    const hosts = await waitFor(async () => { const l = await listInstances(service, { addr }); return l.some((h) => String(h.port) === port) ? l : undefined })
    return hosts.filter((h) => String(h.port) !== port)
  } finally {
    await instanceCall('DELETE', marker, addr)
  }
}
