// Talks to the real Nacos server through its own HTTP API, independent of the plugin and the SDK,
// so tests assert on what Nacos itself reports.
import { randomUUID } from 'node:crypto'
import type { Instance } from '../../src/naming/balancer.ts'

export const NACOS_ADDR = process.env.NACOS_SERVER_ADDR?.split(',')[0] ?? '127.0.0.1:8848'

/** A host as Nacos's list API answers it: the same fields discovery hands out, bar the service name. */
export type NacosHost = Omit<Instance, 'serviceName'>

export function uniqueService (prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`
}

export async function nacosRequest (path: string, params: Record<string, string> = {}, method = 'GET', addr = NACOS_ADDR): Promise<Response> {
  const query = new URLSearchParams(params).toString()
  const url = `http://${addr}/nacos${path}${query ? `?${query}` : ''}`
  return await fetch(url, { method, signal: AbortSignal.timeout(5000) })
}

/** Instances of a service as Nacos lists them (healthy and unhealthy alike). */
export async function listInstances (serviceName: string, opts: { group?: string, namespace?: string, addr?: string } = {}): Promise<NacosHost[]> {
  const res = await nacosRequest('/v1/ns/instance/list', {
    serviceName,
    groupName: opts.group ?? 'DEFAULT_GROUP',
    namespaceId: opts.namespace ?? 'public',
    healthyOnly: 'false'
  }, 'GET', opts.addr)
  if (res.status !== 200) throw new Error(`instance/list answered ${res.status}: ${await res.text()}`)
  const body = await res.json() as { hosts: NacosHost[] }
  return body.hosts
}

/** Polls `check` every `interval` ms until it returns a truthy value or `timeout` ms pass. */
export async function waitFor<T> (check: () => Promise<T> | T, timeout = 10_000, interval = 25): Promise<NonNullable<T>> {
  const start = Date.now()
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value as NonNullable<T>
    } catch (err) {
      last = err
    }
    if (Date.now() - start > timeout) {
      throw new Error(`condition not met within ${timeout} ms${last ? `: ${String(last)}` : ''}`)
    }
    await new Promise((resolve) => setTimeout(resolve, interval))
  }
}
