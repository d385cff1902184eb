// What the gRPC transport's test files share: a transport on the shared Nacos whose log lines
// the test reads, instances to register, and recorders of what watches deliver.
import { createGrpcTransport, type GrpcTransportOptions } from '../../src/transport/grpc/index.ts'
import type { InstanceSpec, ServiceSnapshot, Transport } from '../../src/transport/types.ts'
import { NACOS_ADDR } from './nacos-api.ts'
import { recordingLog } from './instances.ts'

export const GROUP = 'DEFAULT_GROUP'

export function transport (t: { teardown: (fn: () => Promise<void>) => void }, opts: Partial<GrpcTransportOptions> = {}): Transport & { lines: ReturnType<typeof recordingLog>['lines'] } {
  const { log, lines } = recordingLog()
  const tr = createGrpcTransport({ serverAddr: [NACOS_ADDR], log, ...opts })
  t.teardown(async () => { await tr.close() })
  return Object.assign(tr, { lines })
}

export function instance (service: string, port: number, extra: Partial<InstanceSpec> = {}): InstanceSpec {
  return { serviceName: service, groupName: GROUP, ip: '127.0.0.1', port, clusterName: 'DEFAULT', weight: 1, ephemeral: true, enabled: true, metadata: {}, ...extra }
}

/** Resolves with the first snapshot `watch` delivers that satisfies `check`, and when. */
export function nextSnapshot (snapshots: ServiceSnapshot[], listeners: Set<() => void>, check: (s: ServiceSnapshot) => boolean, timeout = 8000): Promise<{ snapshot: ServiceSnapshot, at: number }> {
  return new Promise((resolve, reject) => {
    const seen = (): boolean => {
      const hit = snapshots.find(check)
      if (!hit) return false
      clearTimeout(timer)
      listeners.delete(seen)
      resolve({ snapshot: hit, at: Date.now() })
      return true
    }
    const timer = setTimeout(() => { listeners.delete(seen); reject(new Error(`no such snapshot within ${timeout} ms; got ${JSON.stringify(snapshots.map((s) => s.hosts.map((h) => h.port)))}`)) }, timeout)
    listeners.add(seen)
    seen()
  })
}

export function recordWatch (tr: Transport, service: string, clusters: string[] = []) {
  const snapshots: ServiceSnapshot[] = []
  const listeners = new Set<() => void>()
  const stop = tr.naming.watch({ service, group: GROUP, clusters }, (s) => {
    snapshots.push(s)
    for (const l of [...listeners]) l()
  })
  return { snapshots, stop, next: (check: (s: ServiceSnapshot) => boolean, timeout?: number) => nextSnapshot(snapshots, listeners, check, timeout) }
}

export function recordConfig (tr: Transport, dataId: string) {
  const values: Array<{ content: string | null, at: number }> = []
  const listeners = new Set<() => void>()
  const stop = tr.config.watch({ dataId, group: GROUP }, (content) => {
    values.push({ content, at: Date.now() })
    for (const l of [...listeners]) l()
  })
  const next = (check: (c: string | null) => boolean, timeout = 8000): Promise<number> => new Promise((resolve, reject) => {
    const seen = (): void => {
      const hit = values.find((v) => check(v.content))
      if (!hit) return
      clearTimeout(timer)
      listeners.delete(seen)
      resolve(hit.at)
    }
    const timer = setTimeout(() => { listeners.delete(seen); reject(new Error(`config value not seen within ${timeout} ms; got ${JSON.stringify(values)}`)) }, timeout)
    listeners.add(seen)
    seen()
  })
  return { values, stop, next }
}

export const byPort = (hosts: Array<{ port: number }>): number[] => hosts.map((h) => h.port).sort((a, b) => a - b)
