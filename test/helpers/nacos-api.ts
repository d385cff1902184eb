// Talks to the real Nacos server through its own HTTP API, independent of the plugin and the SDK,
// so tests assert on what Nacos itself reports. A 3.x server is asked through its v3 admin API
// (its v1 client API may be switched off, as Nacos 3.2 removed it); a 2.x server through v1.
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

const generation = new Map<string, Promise<boolean>>()

/** Whether the server on `addr` is a Nacos 3 (it serves the v3 admin API; 2.x answers it 404). */
export async function isNacos3 (addr = NACOS_ADDR): Promise<boolean> {
  let known = generation.get(addr)
  if (!known) {
    known = nacosRequest('/v3/admin/core/state/readiness', {}, 'GET', addr).then((res) => res.status !== 404)
    known.catch(() => generation.delete(addr))
    generation.set(addr, known)
  }
  return await known
}

const v1 = new Map<string, Promise<boolean>>()

/** Whether the server serves the v1 HTTP client API (3.2, or 3.0/3.1 with it off, answer 410). */
export async function hasV1Api (addr = NACOS_ADDR): Promise<boolean> {
  let known = v1.get(addr)
  if (!known) {
    known = nacosRequest('/v1/ns/operator/metrics', {}, 'GET', addr).then((res) => res.status !== 410)
    known.catch(() => v1.delete(addr))
    v1.set(addr, known)
  }
  return await known
}

/** The path to log in at: v3 on 3.x (the v1 path is part of the API 3.2 removed), v1 on 2.x. */
export async function loginPath (addr = NACOS_ADDR): Promise<string> {
  return await isNacos3(addr) ? '/v3/auth/user/login' : '/v1/auth/login'
}

/** An access token for `username` (a server with auth on). */
export async function tokenFor (addr = NACOS_ADDR, username = 'nacos', password = 'nacos'): Promise<string> {
  const login = await fetch(`http://${addr}/nacos${await loginPath(addr)}`, { method: 'POST', body: new URLSearchParams({ username, password }), signal: AbortSignal.timeout(5000) })
  if (login.status !== 200) throw new Error(`login as ${username} at ${addr}: ${login.status} ${await login.text()}`)
  return (await login.json() as { accessToken: string }).accessToken
}

/** Query/form parameters without the ones left unset. */
function defined (params: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''))
}

interface V3Answer<T> { code: number, message: string, data: T }

/** A v3 admin call; `undefined` when Nacos says the resource does not exist (404). */
async function admin<T> (path: string, params: Record<string, string>, method: string, addr: string, token?: string): Promise<T | undefined> {
  const res = await nacosRequest(`/v3/admin${path}`, token ? { ...params, accessToken: token } : params, method, addr)
  const text = await res.text()
  if (res.status === 404) return undefined
  if (res.status !== 200) throw new Error(`${method} /v3/admin${path} answered ${res.status}: ${text}`)
  return (JSON.parse(text) as V3Answer<T>).data
}

export interface ApiOptions { group?: string, namespace?: string, addr?: string, token?: string }

/** Instances of a service as Nacos lists them (healthy and unhealthy alike). */
export async function listInstances (serviceName: string, opts: ApiOptions = {}): Promise<NacosHost[]> {
  const addr = opts.addr ?? NACOS_ADDR
  const params = { serviceName, groupName: opts.group ?? 'DEFAULT_GROUP', namespaceId: opts.namespace ?? 'public', healthyOnly: 'false', accessToken: opts.token }
  // An unknown service (or one whose last instance left) answers 404 "not found" on 3.x.
  if (await isNacos3(addr)) return await admin<NacosHost[]>('/ns/instance/list', defined(params), 'GET', addr) ?? []
  const res = await nacosRequest('/v1/ns/instance/list', defined(params), 'GET', addr)
  if (res.status !== 200) throw new Error(`instance/list answered ${res.status}: ${await res.text()}`)
  const body = await res.json() as { hosts: NacosHost[] }
  return body.hosts
}

/**
 * Registers (POST) or removes (DELETE) an instance through Nacos's HTTP API, as an operator or
 * another application would; resolves when Nacos answers ok.
 */
export async function instanceCall (method: 'POST' | 'DELETE', params: Record<string, string>, addr = NACOS_ADDR): Promise<void> {
  if (await isNacos3(addr)) {
    const answer = await admin<string>('/ns/instance', params, method, addr)
    if (answer !== 'ok') throw new Error(`${method} /v3/admin/ns/instance ${JSON.stringify(params)}: ${String(answer)}`)
    return
  }
  const res = await nacosRequest('/v1/ns/instance', params, method, addr)
  const text = await res.text()
  if (text !== 'ok') throw new Error(`${method} /v1/ns/instance ${JSON.stringify(params)}: ${res.status} ${text}`)
}

/** Publishes a config through Nacos's HTTP API (3.x: the admin API), as an operator would. */
export async function publishConfig (dataId: string, content: string, opts: ApiOptions & { type?: string } = {}): Promise<void> {
  const addr = opts.addr ?? NACOS_ADDR
  const group = opts.group ?? 'DEFAULT_GROUP'
  if (await isNacos3(addr)) {
    const ok = await admin<boolean>('/cs/config', defined({ dataId, groupName: group, content, type: opts.type, namespaceId: opts.namespace }), 'POST', addr, opts.token)
    if (ok !== true) throw new Error(`publish ${dataId}: ${String(ok)}`)
    return
  }
  const res = await nacosRequest('/v1/cs/configs', defined({ dataId, group, content, type: opts.type, tenant: opts.namespace, accessToken: opts.token }), 'POST', addr)
  const answer = await res.text()
  if (answer !== 'true') throw new Error(`publish ${dataId}: ${res.status} ${answer}`)
}

/**
 * A config's content as Nacos serves it to clients; undefined when there is none. On 3.x this is
 * the v3 client API (the server's cache, which a publish reaches a little after the database the
 * admin API reads): a test that waits for it knows the plugin will read the same.
 */
export async function readConfig (dataId: string, opts: ApiOptions = {}): Promise<string | undefined> {
  const addr = opts.addr ?? NACOS_ADDR
  const group = opts.group ?? 'DEFAULT_GROUP'
  if (await isNacos3(addr)) {
    const res = await nacosRequest('/v3/client/cs/config', defined({ dataId, groupName: group, namespaceId: opts.namespace, accessToken: opts.token }), 'GET', addr)
    const text = await res.text()
    if (res.status !== 200) throw new Error(`read ${dataId}: ${res.status} ${text}`)
    const answer = JSON.parse(text) as V3Answer<{ content: string } | null>
    return answer.code === 0 ? answer.data?.content : undefined
  }
  const res = await nacosRequest('/v1/cs/configs', defined({ dataId, group, tenant: opts.namespace, accessToken: opts.token }), 'GET', addr)
  if (res.status === 404) return undefined
  const text = await res.text()
  if (res.status !== 200) throw new Error(`read ${dataId}: ${res.status} ${text}`)
  return text
}

/**
 * How long a watcher may take to see a published change over HTTP: a change whose notification
 * lands while Nacos re-arms the long poll is missed by that poll (Nacos compares the MD5s, then
 * joins the poll to its subscribers on another thread) and read when the poll ends, 29.5 s later.
 * A publish right after the watcher got the last value (a poll re-arming) hits it now and then.
 */
export const LONG_POLL_CHANGE_MS = 35_000

/** Waits for a watcher to see a config change: waitFor with room for one missed long poll. */
export async function waitForChange<T> (check: () => Promise<T> | T, interval?: number): Promise<NonNullable<T>> {
  return await waitFor(check, LONG_POLL_CHANGE_MS, interval)
}

/**
 * Milliseconds on the monotonic clock (as tap times its tests), for the suite's durations: the wall
 * clock can be stepped under a running test (seen in one run: a 10 s waitFor gave up 6.2 s into
 * its test by tap's clock, and a process's exit measured 4.5 s late in the next one).
 */
export const now = (): number => Math.round(performance.now())

/** Polls `check` every `interval` ms until it returns a truthy value or `timeout` ms pass. */
export async function waitFor<T> (check: () => Promise<T> | T, timeout = 10_000, interval = 25): Promise<NonNullable<T>> {
  const start = now()
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value as NonNullable<T>
    } catch (err) {
      last = err
    }
    if (now() - start > timeout) {
      throw new Error(`condition not met within ${timeout} ms${last ? `: ${String(last)}` : ''}`)
    }
    await new Promise((resolve) => setTimeout(resolve, interval))
  }
}

/**
 * `promise`'s value, or `fallback` once `ms` pass, whichever comes first. The timer is cleared
 * either way: a timer left running (a race against a bare setTimeout or a waitFor) holds the test
 * process open after its last test, and its job slot with it.
 */
export async function within<T, F> (promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([promise, new Promise<F>((resolve) => { timer = setTimeout(resolve, ms, fallback) })])
  } finally {
    clearTimeout(timer)
  }
}
