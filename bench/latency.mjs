// Measure 3: how long the things that matter take, each seen through Nacos's own HTTP API.
import Fastify from 'fastify'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import nacos from '../dist/index.js'
import { NACOS_ADDR, listed, median, sleep, startChild, uniqueService, unlisted, waitFor } from './lib.mjs'

const run = promisify(execFile)
const SCRIPT = fileURLToPath(new URL('../scripts/nacos.sh', import.meta.url))
const FIXTURE = fileURLToPath(new URL('../test/fixtures/app.mjs', import.meta.url))
const ROUNDS = 5
const opts = { serverAddr: NACOS_ADDR, ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'warn' }

const summary = (samples) => ({ median: median(samples), max: Math.max(...samples), samples })

/** listen() resolved → the instance is in Nacos's instance list (polled every 2 ms). */
export async function listenToVisible () {
  const samples = []
  for (let i = 0; i < ROUNDS; i++) {
    const serviceName = uniqueService('listen')
    const app = Fastify()
    await app.register(nacos, { ...opts, serviceName })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const t0 = performance.now()
    await waitFor(listed(serviceName), 5000, 2)
    samples.push(performance.now() - t0)
    await app.close()
  }
  return summary(samples)
}

/** SIGTERM → gone from the list, and → the process exited (test/fixtures/app.mjs, the plugin's signal handling). */
export async function sigtermToGone () {
  const gone = []
  const exited = []
  for (let i = 0; i < ROUNDS; i++) {
    const serviceName = uniqueService('sigterm')
    const child = await startChild(FIXTURE, { NACOS_SERVER_ADDR: NACOS_ADDR, NACOS_SERVICE_NAME: serviceName })
    await waitFor(listed(serviceName), 10_000)
    await sleep(500)
    const t0 = Date.now()
    child.proc.kill('SIGTERM')
    await waitFor(unlisted(serviceName), 5000, 2)
    gone.push(Date.now() - t0)
    const { code, at } = await child.exited
    if (code !== 0) throw new Error(`the app exited with ${code}`)
    exited.push(at - t0)
  }
  return { gone: summary(gone), exited: summary(exited) }
}

async function nacosScript (command, port) {
  await run('bash', [SCRIPT, command], { env: { ...process.env, NACOS_PORT: String(port) } })
}

/** A private Nacos restarted under a registered app (heartbeat 1 s): Nacos ready → listed again. */
export async function restartToReRegistered (port) {
  const addr = `127.0.0.1:${port}`
  await nacosScript('start', port)
  const serviceName = uniqueService('restart')
  const app = Fastify()
  await app.register(nacos, { ...opts, serverAddr: addr, serviceName, heartbeatInterval: 1, deregisterTime: 3 })
  try {
    await app.listen({ port: 0, host: '127.0.0.1' })
    await waitFor(listed(serviceName, addr), 10_000)
    await nacosScript('stop', port)
    await waitFor(async () => app.nacos.status().state === 'retrying', 5000)
    await nacosScript('start', port)
    const t0 = Date.now()
    await waitFor(listed(serviceName, addr), 10_000, 5)
    return { ms: Date.now() - t0, heartbeatMs: 1000 }
  } finally {
    await app.close()
    await nacosScript('stop', port)
  }
}

/** Publish through Nacos's HTTP API → the app's watcher is called with the new content. */
export async function publishToWatcher () {
  const dataId = `${uniqueService('config')}.json`
  const app = Fastify()
  await app.register(nacos, { ...opts, serviceName: 'bench-config' })
  await app.ready()
  let seen = { raw: undefined, at: 0 }
  const unwatch = app.nacos.config.watch(dataId, {}, (value, raw) => { seen = { raw, at: performance.now() } })
  const samples = []
  try {
    await sleep(1000)
    for (let i = 0; i < ROUNDS; i++) {
      const content = JSON.stringify({ round: i, at: Date.now() })
      const t0 = performance.now()
      const body = new URLSearchParams({ dataId, group: 'DEFAULT_GROUP', content, type: 'json' })
      const res = await fetch(`http://${NACOS_ADDR}/nacos/v1/cs/configs`, { method: 'POST', body })
      if (await res.text() !== 'true') throw new Error(`publish answered ${res.status}`)
      await waitFor(async () => seen.raw === content, 5000, 1)
      samples.push(seen.at - t0)
      await sleep(300)
    }
  } finally {
    unwatch()
    await fetch(`http://${NACOS_ADDR}/nacos/v1/cs/configs?${new URLSearchParams({ dataId, group: 'DEFAULT_GROUP' })}`, { method: 'DELETE' })
    await app.close()
  }
  return summary(samples)
}
