// Measure 3: how long the things that matter take, each seen through Nacos's own HTTP API.
import Fastify from 'fastify'
import { fileURLToPath } from 'node:url'
import nacos from '../dist/index.js'
import { NACOS_ADDR, listed, median, sleep, startChild, uniqueService, unlisted, waitFor } from './lib.mjs'

export const FIXTURE = fileURLToPath(new URL('../test/fixtures/app.mjs', import.meta.url))
const ROUNDS = 5
const opts = { serverAddr: NACOS_ADDR, ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'warn' }

export const summary = (samples) => ({ median: median(samples), max: Math.max(...samples), samples })

/** listen() resolved → the instance is in Nacos's instance list (polled every 2 ms). */
export async function listenToVisible (transport) {
  const samples = []
  for (let i = 0; i < ROUNDS; i++) {
    const serviceName = uniqueService('listen')
    const app = Fastify()
    await app.register(nacos, { ...opts, transport, serviceName })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const t0 = performance.now()
    await waitFor(listed(serviceName), 5000, 2)
    samples.push(performance.now() - t0)
    await app.close()
  }
  return summary(samples)
}

/** SIGTERM → gone from the list, and → the process exited (test/fixtures/app.mjs, the plugin's signal handling). */
export async function sigtermToGone (transport) {
  const gone = []
  const exited = []
  for (let i = 0; i < ROUNDS; i++) {
    const serviceName = uniqueService('sigterm')
    const child = await startChild(FIXTURE, { NACOS_SERVER_ADDR: NACOS_ADDR, NACOS_SERVICE_NAME: serviceName, NACOS_TRANSPORT: transport })
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

/** Publish through Nacos's HTTP API → the app's watcher is called with the new content. */
export async function publishToWatcher (transport) {
  const dataId = `${uniqueService('config')}.json`
  const app = Fastify()
  await app.register(nacos, { ...opts, transport, serviceName: 'bench-config' })
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
