// The instance we advertise: address chosen once the server listens, every field explicit, and
// metadata that tells Nacos our heartbeat timing and tells people what runs there.
import { createRequire } from 'node:module'
import { heartbeatTimeoutMs, type NacosConfig } from '../settings.js'
import { detectIp } from '../ip.js'
import type { InstanceSpec } from '../transport/types.js'

const pkg = createRequire(import.meta.url)('../../package.json') as { name: string, version: string }
const PLUGIN_VERSION = `${pkg.name}@${pkg.version}`

type InstanceSettings = Pick<NacosConfig, 'serviceName' | 'group' | 'ip' | 'port' | 'clusterName' | 'weight' | 'ephemeral' | 'metadata' |
'preferredInterfaces' | 'preferredNetworks' | 'heartbeatIntervalMs' | 'deregisterTimeMs'>

/** The instance to register, given the port the server bound (used unless a port is configured). */
export function advertisedInstance (c: InstanceSettings, boundPort: number): InstanceSpec {
  return {
    serviceName: c.serviceName,
    groupName: c.group,
    ip: c.ip ?? detectIp({ preferredInterfaces: c.preferredInterfaces, preferredNetworks: c.preferredNetworks }),
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
