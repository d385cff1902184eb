// Shared by the benchmarks: Nacos's own HTTP API (what Nacos itself reports), child apps, timing.
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import { createServer, connect } from 'node:net'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

export const NACOS_ADDR = (process.env.NACOS_SERVER_ADDR ?? '127.0.0.1:8848').split(',')[0]

/** Every measure that involves the plugin is taken once per transport, in this order. */
export const TRANSPORTS = ['http', 'grpc']
const NACOS_SCRIPT = fileURLToPath(new URL('../scripts/nacos.sh', import.meta.url))

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
export const uniqueService = (prefix) => `bench-${prefix}-${randomUUID().slice(0, 8)}`

export async function listInstances (serviceName, addr = NACOS_ADDR) {
  const query = new URLSearchParams({ serviceName, healthyOnly: 'false' })
  const res = await fetch(`http://${addr}/nacos/v1/ns/instance/list?${query}`, { signal: AbortSignal.timeout(5000) })
  if (res.status !== 200) throw new Error(`instance/list answered ${res.status}`)
  return (await res.json()).hosts
}

export async function nacosVersion (addr = NACOS_ADDR) {
  const res = await fetch(`http://${addr}/nacos/v1/console/server/state`, { signal: AbortSignal.timeout(5000) })
  return (await res.json()).version
}

/** Polls `check` every `interval` ms until it returns truthy; throws after `timeout` ms. */
export async function waitFor (check, timeout = 10_000, interval = 5) {
  const start = Date.now()
  for (;;) {
    const value = await check().catch(() => undefined)
    if (value) return value
    if (Date.now() - start > timeout) throw new Error(`condition not met within ${timeout} ms`)
    await sleep(interval)
  }
}

/**
 * An instance registered (or removed) through Nacos's HTTP API; persistent, so it stays without
 * heartbeats. Nacos health-checks a persistent instance by TCP: give it a port that listens.
 */
export async function apiInstance (method, serviceName, port, addr = NACOS_ADDR) {
  const query = new URLSearchParams({ serviceName, ip: '127.0.0.1', port: String(port), ephemeral: 'false' })
  const res = await fetch(`http://${addr}/nacos/v1/ns/instance?${query}`, { method, signal: AbortSignal.timeout(5000) })
  const text = await res.text()
  if (text !== 'ok') throw new Error(`${method} instance answered ${res.status} ${text}`)
}

/** scripts/nacos.sh start|stop for a private Nacos on `port` (the shared one is never touched). */
export async function nacosScript (command, port) {
  await promisify(execFile)('bash', [NACOS_SCRIPT, command], { env: { ...process.env, NACOS_PORT: String(port) } })
}

/** A TCP server on a free loopback port, for Nacos's health check of a persistent instance. */
export async function tcpListener () {
  const server = createServer((socket) => socket.destroy())
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { port: server.address().port, close: async () => { server.close(); await once(server, 'close') } }
}

async function freePort () {
  const { port, close } = await tcpListener()
  await close()
  return port
}

async function refused (port) {
  const socket = connect(port, '127.0.0.1')
  try {
    await once(socket, 'connect')
    return false
  } catch (err) {
    return err.code === 'ECONNREFUSED'
  } finally {
    socket.destroy()
  }
}

/** A free HTTP port for a private Nacos whose gRPC ports (+1000, +1001) are free too. */
export async function freeNacosPort () {
  for (;;) {
    const p = await freePort()
    if (p + 1001 <= 65535 && await refused(p + 1000) && await refused(p + 1001)) return p
  }
}

export const listed = (serviceName, addr) => async () => (await listInstances(serviceName, addr)).length > 0
/** Gone from what a consumer is routed to: no healthy instance left (Nacos may still list an unhealthy one). */
export const noHealthy = (serviceName, addr) => async () => (await listInstances(serviceName, addr)).every((h) => !h.healthy)
export const unlisted = (serviceName, addr) => async () => (await listInstances(serviceName, addr)).length === 0

/** Spawns `script` with `env`; resolves once it prints its {"port"} line (the whole line: `first`). */
export async function startChild (script, env, nodeArgs = []) {
  const proc = spawn(process.execPath, [...nodeArgs, script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = once(proc, 'exit').then(([code, signal]) => ({ code, signal, at: Date.now() }))
  const first = await new Promise((resolve, reject) => {
    let buf = ''
    proc.stdout.on('data', (d) => {
      buf += d.toString()
      if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0]))
    })
    void exited.then(({ code }) => reject(new Error(`${script} exited (${code}) before it printed its port`)))
  })
  return { proc, port: first.port, first, exited }
}

/** Resident set size of a process, MiB, from /proc (Linux). */
export function rssMiB (pid) {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1])
  return kb / 1024
}

export function median (values) {
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/** p-th percentile (0–100) of a sorted numeric array. */
export function percentile (sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

export const fmtMs = (ms) => `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`
