// The instance we advertise: address chosen once the server listens, every field explicit, and
// metadata that tells Nacos our heartbeat timing and tells people what runs there.
import { createRequire } from 'node:module'
import { heartbeatTimeoutMs, type ResolvedSettings } from '../settings.js'
import { detectIp, isLoopback } from '../ip.js'
import type { InstanceSpec } from '../transport/types.js'

const pkg = createRequire(import.meta.url)('../../package.json') as { name: string, version: string }
const PLUGIN_VERSION = `${pkg.name}@${pkg.version}`

type IpSettings = Pick<ResolvedSettings, 'ip' | 'ipType' | 'preferredInterfaces' | 'preferredNetworks'>
type InstanceSettings = IpSettings & Pick<ResolvedSettings, 'serviceName' | 'group' | 'port' | 'clusterName' | 'weight' | 'ephemeral' | 'metadata' |
'heartbeatIntervalMs' | 'deregisterTimeMs'>

/** pino-like warn. */
export type Warn = (obj: object, msg: string) => void

const WILDCARDS = new Set(['0.0.0.0', '::'])
const HOW = 'listen on all interfaces (app.listen({ port, host: \'0.0.0.0\' }) or \'::\')'

/**
 * The IP to advertise, given the addresses the server listens on: callers must be able to reach
 * it. Bound to every interface (or to none we know of): the IP set, else detection. Bound to
 * specific addresses: the IP set, with a warning when the server does not listen on it; else one
 * of those addresses (of the preferred family, not loopback if it can), with a warning when only
 * loopback is left.
 */
export function advertisedIp (c: IpSettings, listening: readonly string[], warn: Warn): string {
  const wildcard = listening.length === 0 || listening.some((a) => WILDCARDS.has(a))
  if (c.ip !== undefined) {
    if (!wildcard && !listening.includes(c.ip.toLowerCase())) {
      warn({ ip: c.ip, listening }, `NACOS_SERVICE_IP is ${c.ip} but the server listens only on ${listening.join(', ')}: callers of ${c.ip} are refused; ${HOW}, or set NACOS_SERVICE_IP to an address it listens on`)
    }
    return c.ip
  }
  if (wildcard) return detectIp(c)
  const family = listening.filter((a) => a.includes(':') === (c.ipType === 'IPv6'))
  const ip = [...family, ...listening].find((a) => !isLoopback(a)) ?? family[0] ?? listening[0] as string
  if (isLoopback(ip)) {
    warn({ ip, listening }, `advertising ${ip}: the server listens only on ${listening.join(', ')}, which other hosts cannot reach; ${HOW}, or set NACOS_SERVICE_IP`)
  }
  return ip
}

/**
 * The instance to register, given the port the server bound (used unless a port is configured)
 * and the addresses it listens on.
 */
export function advertisedInstance (c: InstanceSettings, boundPort: number, listening: readonly string[] = [], warn: Warn = () => {}): InstanceSpec {
  return {
    serviceName: c.serviceName,
    groupName: c.group,
    ip: advertisedIp(c, listening, warn),
    port: c.port ?? boundPort,
    clusterName: c.clusterName,
    weight: c.weight,
    ephemeral: c.ephemeral,
    enabled: true,
    metadata: {
      ...c.metadata,
      'preserved.heart.beat.interval': String(c.heartbeatIntervalMs),
      'preserved.heart.beat.timeout': String(heartbeatTimeoutMs(c)),
      'preserved.ip.delete.timeout': String(c.deregisterTimeMs),
      'fastify-nacos.version': PLUGIN_VERSION,
      'node.version': process.version,
      'start.time': new Date().toISOString()
    }
  }
}
