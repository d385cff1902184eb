// What the monitoring routes answer, built field by field from app.nacos: a new field of the
// registry or the settings never reaches a client unless it is added here and in the schema.
import type { NacosRegistry } from '../types.js'
import type { RegistrationState, RegistryStatus } from '../naming/registry.js'
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
    counts: status.counts,
    snapshots: { services: status.snapshots.services.map((s) => ({ ...s, clusters: [...s.clusters] })), configs: status.snapshots.configs.map((c) => ({ ...c })) }
  }
}

const REASONS: Record<RegistrationState, string | undefined> = {
  idle: 'not registered: the server does not listen yet',
  registering: 'not registered yet: registration in progress',
  registered: undefined,
  retrying: 'not registered: Nacos does not answer or refused; retrying',
  deregistered: 'deregistered from Nacos'
}

/** /health's answer: DOWN means this instance should get no traffic; a Nacos outage after it registered is not that. */
export function healthOf (status: Pick<RegistryStatus, 'state' | 'registeredAt'>, settings: { registerEnabled: boolean, healthRequiresRegistration: boolean }):
  { status: 'UP', state: RegistrationState, degraded?: true, detail?: string } | { status: 'DOWN', state: RegistrationState, reason: string } {
  const { state } = status
  const reason = settings.registerEnabled ? REASONS[state] : undefined
  if (reason === undefined) return { status: 'UP', state }
  if ((state === 'retrying' || state === 'registering') && status.registeredAt !== null) {
    return { status: 'UP', state, degraded: true, detail: 'Nacos does not answer (or lost this instance) after it registered: serving from the local cache and snapshots; registering again in the background' }
  }
  // Started while Nacos is down: serving from snapshots, unless the user wants a registration first.
  if (state === 'retrying' && !settings.healthRequiresRegistration) {
    return { status: 'UP', state, degraded: true, detail: 'Nacos has not answered since start-up: serving from the local cache and snapshots; registering in the background' }
  }
  return { status: 'DOWN', state, reason }
}
