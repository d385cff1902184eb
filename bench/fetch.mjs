// Measure 5: app.nacos.fetch against undici's own fetch to a fixed URL of the same echo instance,
// and undici.request through app.nacos.dispatcher against undici.request with a plain Agent:
// throughput (alternating rounds, median ratio) and the latency each adds (sequential calls).
// `node bench/fetch.mjs` runs this measure alone and prints its figures as JSON.
import Fastify from 'fastify'
import { fileURLToPath } from 'node:url'
import { Agent, fetch, request } from 'undici'
import nacos from '../dist/index.js'
import { NACOS_ADDR, median, percentile, startChild, uniqueService, waitFor } from './lib.mjs'

const ROUNDS = 9
// Requests per round: about a second each way on this machine (undici.request is ~4× as fast as
// fetch), so that a burst of load elsewhere falls inside rounds rather than deciding one.
const ROUND_REQUESTS = { fetch: 4000, request: 16000 }
const CONCURRENCY = 20
const LATENCY_CALLS = 2000
const APP = fileURLToPath(new URL('./app.mjs', import.meta.url))

/** Requests per second of `count` calls of `call`, `concurrency` at a time, and this process's CPU µs per call. */
async function rate (call, count, concurrency = CONCURRENCY) {
  let next = 0
  const start = performance.now()
  const cpu = process.cpuUsage()
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next++ < count) await call() }))
  const used = process.cpuUsage(cpu)
  return { rps: count / ((performance.now() - start) / 1000), cpuUs: (used.user + used.system) / count }
}

/** Latencies of sequential calls, ms, the two kinds interleaved call by call. */
async function latencies (a, b) {
  const samples = { a: [], b: [] }
  for (let i = 0; i < LATENCY_CALLS; i++) {
    for (const [key, call] of i % 2 ? [['a', a], ['b', b]] : [['b', b], ['a', a]]) {
      const start = performance.now()
      await call()
      samples[key].push(performance.now() - start)
    }
  }
  const stats = (list) => { const s = Float64Array.from(list).sort(); return { p50: percentile(s, 50), p99: percentile(s, 99) } }
  return { a: stats(samples.a), b: stats(samples.b) }
}

async function compare (nacosCall, plainCall, requests) {
  for (let i = 0; i < 500; i++) { await nacosCall(); await plainCall() }
  const rates = { nacos: [], plain: [] }
  const cpu = { nacos: [], plain: [] }
  for (let r = 0; r < ROUNDS; r++) {
    // Alternating which goes first, so neither always runs on a warmer (or busier) machine.
    for (const kind of r % 2 ? ['plain', 'nacos'] : ['nacos', 'plain']) {
      const { rps, cpuUs } = await rate(kind === 'nacos' ? nacosCall : plainCall, requests)
      rates[kind].push(rps)
      cpu[kind].push(cpuUs)
    }
  }
  const lat = await latencies(nacosCall, plainCall)
  return {
    ratio: median(rates.nacos) / median(rates.plain),
    medians: { nacos: median(rates.nacos), plain: median(rates.plain) },
    rates,
    cpuUs: { nacos: median(cpu.nacos), plain: median(cpu.plain) },
    requests,
    added: { p50: lat.a.p50 - lat.b.p50, p99: lat.a.p99 - lat.b.p99 },
    latency: { nacos: lat.a, plain: lat.b }
  }
}

export async function fetchVsPlain () {
  const serviceName = uniqueService('fetch')
  const echo = await startChild(APP, { WITH_NACOS: '1', NACOS_SERVER_ADDR: NACOS_ADDR, NACOS_SERVICE_NAME: serviceName })
  const consumer = Fastify()
  const agent = new Agent()
  try {
    await consumer.register(nacos, { serverAddr: NACOS_ADDR, serviceName: 'bench-fetch-consumer', registerEnabled: false, dotenv: false, handleSignals: false, logLevel: 'warn', monitoring: false })
    await consumer.ready()
    await waitFor(async () => (await consumer.nacos.instances(serviceName)).length === 1, 10_000)
    const fixed = `http://127.0.0.1:${echo.port}/hello`
    const byName = `http://${serviceName}/hello`
    const fetchResult = await compare(
      async () => { await (await consumer.nacos.fetch(byName)).text() },
      async () => { await (await fetch(fixed, { dispatcher: agent })).text() }, ROUND_REQUESTS.fetch)
    const requestResult = await compare(
      async () => { await (await request(byName, { dispatcher: consumer.nacos.dispatcher })).body.text() },
      async () => { await (await request(fixed, { dispatcher: agent })).body.text() }, ROUND_REQUESTS.request)
    return { fetch: fetchResult, request: requestResult, rounds: ROUNDS, concurrency: CONCURRENCY, calls: LATENCY_CALLS }
  } finally {
    await consumer.close()
    await agent.close()
    echo.proc.kill('SIGTERM')
    await echo.exited
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(await fetchVsPlain(), null, 2) + '\n')
}
