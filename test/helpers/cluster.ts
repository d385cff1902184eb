// The 3-node Nacos cluster of the fault suite (scripts/nacos.sh cluster-start on NACOS_CLUSTER_PORT,
// +10, +20): its addresses, its JVMs' pids, and what each node itself reports.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { listInstances, nacosRequest, type NacosHost } from './nacos-api.ts'

const run = promisify(execFile)
const SCRIPT = fileURLToPath(new URL('../../scripts/nacos.sh', import.meta.url))
const CACHE = process.env.NACOS_CACHE_DIR ?? fileURLToPath(new URL('../../.nacos', import.meta.url))

export const BASE_PORT = Number(process.env.NACOS_CLUSTER_PORT ?? 28848)
export const PORTS = [BASE_PORT, BASE_PORT + 10, BASE_PORT + 20] as const
export const ADDRS = PORTS.map((p) => `127.0.0.1:${p}`)

async function script (command: string): Promise<void> {
  await run('bash', [SCRIPT, command], { env: { ...process.env, NACOS_PORT: String(BASE_PORT) } })
}

/** Starts the nodes that do not run and waits until all three are ready and see 3 members UP. */
export async function clusterStart (): Promise<void> { await script('cluster-start') }
export async function clusterStop (): Promise<void> { await script('cluster-stop') }

/** The pid of the node's JVM, from the pid file scripts/nacos.sh wrote. */
export function nodePid (port: number): number {
  return Number(readFileSync(`${CACHE}/node-${port}/nacos.pid`, 'utf8').trim())
}

export function signalNode (port: number, signal: NodeJS.Signals): void {
  process.kill(nodePid(port), signal)
}

/** The node that owns an ephemeral ip:port client (Distro): its heartbeats and expiry happen there. */
export async function responsibleNode (ip: string, port: number, via = ADDRS[0]): Promise<number> {
  const res = await nacosRequest('/v1/ns/operator/distro/client', { ip, port: String(port) }, 'GET', via)
  const { responsibleServer } = await res.json() as { responsibleServer: string }
  return Number(responsibleServer.split(':')[1])
}

/** The service's instances as each given node lists them. */
export async function listEverywhere (service: string, ports: readonly number[] = PORTS): Promise<NacosHost[][]> {
  return await Promise.all(ports.map(async (p) => await listInstances(service, { addr: `127.0.0.1:${p}` })))
}

/** True when every given node lists exactly `count` instances, all healthy. */
export async function listedEverywhere (service: string, count: number, ports: readonly number[] = PORTS): Promise<boolean> {
  const lists = await listEverywhere(service, ports)
  return lists.every((hosts) => hosts.length === count && hosts.every((h) => h.healthy))
}
