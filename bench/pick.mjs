// Measure 2: app.nacos.pick() from the subscribed cache against the seed's way, a GET of
// Nacos's instance list and a random choice on every lookup.
import Fastify from 'fastify'
import nacos from '../dist/index.js'
import { NACOS_ADDR, listInstances, percentile, uniqueService, waitFor } from './lib.mjs'

const PICKS = 200_000
const LOOKUPS = 500
const opts = { serverAddr: NACOS_ADDR, ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'warn' }

function stats (samples) {
  const sorted = Float64Array.from(samples).sort()
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length
  return { mean, p50: percentile(sorted, 50), p99: percentile(sorted, 99) }
}

async function seedLookup (serviceName) {
  const query = new URLSearchParams({ serviceName, healthyOnly: 'true' })
  const res = await fetch(`http://${NACOS_ADDR}/nacos/v1/ns/instance/list?${query}`)
  const { hosts } = await res.json()
  return hosts[Math.floor(Math.random() * hosts.length)]
}

export async function pickVsLookup (transport) {
  const serviceName = uniqueService('pick')
  const providers = []
  const consumer = Fastify()
  try {
    // Three real instances of the service, kept alive by the plugin's heartbeats.
    for (let i = 0; i < 3; i++) {
      const app = Fastify()
      await app.register(nacos, { ...opts, transport, serviceName })
      await app.listen({ port: 0, host: '127.0.0.1' })
      providers.push(app)
    }
    await waitFor(async () => (await listInstances(serviceName)).length === 3, 10_000)
    await consumer.register(nacos, { ...opts, transport, serviceName: 'bench-consumer' })
    await consumer.ready()
    await waitFor(async () => (await consumer.nacos.instances(serviceName)).length === 3, 10_000)

    const lookup = new Float64Array(LOOKUPS)
    for (let i = 0; i < 50; i++) await seedLookup(serviceName)
    for (let i = 0; i < LOOKUPS; i++) {
      const t0 = process.hrtime.bigint()
      const host = await seedLookup(serviceName)
      lookup[i] = Number(process.hrtime.bigint() - t0) / 1000
      if (host === undefined) throw new Error('the seed lookup found no instance')
    }

    const picks = new Float64Array(PICKS)
    for (let i = 0; i < 10_000; i++) await consumer.nacos.pick(serviceName)
    for (let i = 0; i < PICKS; i++) {
      const t0 = process.hrtime.bigint()
      const host = await consumer.nacos.pick(serviceName)
      picks[i] = Number(process.hrtime.bigint() - t0) / 1000
      if (host === undefined) throw new Error('pick found no instance')
    }
    const cached = new Float64Array(PICKS)
    for (let i = 0; i < PICKS; i++) {
      const t0 = process.hrtime.bigint()
      consumer.nacos.pickCached(serviceName)
      cached[i] = Number(process.hrtime.bigint() - t0) / 1000
    }
    const l = stats(lookup)
    const p = stats(picks)
    return { lookup: l, pick: p, pickCached: stats(cached), ratio: l.mean / p.mean, picks: PICKS, lookups: LOOKUPS }
  } finally {
    await consumer.close()
    await Promise.all(providers.map(async (app) => await app.close()))
  }
}
