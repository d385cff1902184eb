// What the monitoring routes answer, built field by field from app.nacos: a new field of the
// registry or the settings never reaches a client unless it is added here and in the schema.
import type { NacosRegistry } from '../types.js'
import type { RegistrationState } from '../naming/registry.js'
import { heartbeatTimeoutMs } from '../settings.js'
import type { MonitoringService } from './schemas.js'

export function serviceView (nacos: Pick<NacosRegistry, 'status' | 'settings'>, scrub: (text: string) => string): MonitoringService {
  const status = nacos.status()
  const c = nacos.settings
  const instance = status.instance
  return {
    serviceName: c.serviceName,
    group: c.group,
    namespace: c.namespace,
    ip: instance?.ip ?? c.ip ?? null,
    port: instance?.port ?? c.port ?? null,
    clusterName: c.clusterName,
    weight: c.weight,
    ephemeral: c.ephemeral,
    metadata: instance?.metadata ?? { ...c.metadata },
    registerEnabled: c.registerEnabled,
    state: status.state,
    registeredAt: status.registeredAt,
    lastBeatAt: status.lastBeatAt,
    heartbeat: {
      intervalMs: c.heartbeatIntervalMs,
      timeoutMs: heartbeatTimeoutMs(c),
      deregisterTimeMs: c.deregisterTimeMs
    },
    lastError: status.lastError === null ? null : scrub(status.lastError),
    counts: status.counts
  }
}

const REASONS: Record<RegistrationState, string | undefined> = {
  idle: 'not registered: the server does not listen yet',
  registering: 'not registered yet: registration in progress',
  registered: undefined,
  retrying: 'not registered: Nacos does not answer or refused; retrying',
  deregistered: 'deregistered from Nacos'
}

/** undefined: healthy (registered, or registration disabled); else why the instance is not ready. */
export function healthReason (state: RegistrationState, registerEnabled: boolean): string | undefined {
  return registerEnabled ? REASONS[state] : undefined
}
