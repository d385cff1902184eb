// Measure 7, the metrics' cost (issue 23), on the default transport (gRPC): throughput of the same
// app with the plugin, metrics on vs off, on a route that calls the app's own /hello by name (the
// path where the metrics do work per request: a route that calls nothing does none, the plugin
// adds no request hook), median of BENCH_ROUNDS alternating rounds (default 9); RSS of each; one
// scrape of <prefix>/metrics with 100 looked-up services. `npm run bench` takes it with the other
// measures; `npm run bench:metrics` (node bench/metrics.mjs) takes it alone and prints its rows.
import autocannon from 'autocannon'
import Fastify from 'fastify'
import { Registry } from 'prom-client'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { NACOS_ADDR, apiInstance, listed, median, rssMiB, sleep, startChild, tcpListener, uniqueService, waitFor } from './lib.mjs'
import { mb, renderTable, row } from './table.mjs'
import nacos from '../dist/index.js'

const APP = fileURLToPath(new URL('./app.mjs', import.meta.url))
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9)
const DURATION = Number(process.env.BENCH_DURATION ?? 2)
const LOOKUPS = 100
const ROUTE = '/call'
const WARM_UP = 5000
const CPU_SCRAPES = 100
const TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString())

/** CPU time a process has used, ms (user + system, from /proc; Linux). */
function cpuMs (pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 1000 / TICKS
}

const cannon = (port, length) => new Promise((resolve, reject) => {
  autocannon({ url: `http://127.0.0.1:${port}${ROUTE}`, connections: 10, ...length }, (err, result) => {
    if (err) reject(err)
    else if (result.non2xx > 0 || result.errors > 0) reject(new Error(`${result.non2xx} non-2xx, ${result.errors} errors`))
    else resolve({ rate: result.requests.average, requests: result.requests.total })
  })
})

/** One round on `app`: its rate and the app's CPU time per request, µs (which the load stretches much less than the rate). */
async function round (app) {
  const before = cpuMs(app.proc.pid)
  const { rate, requests } = await cannon(app.port, { duration: DURATION })
  return { rate, cpuUs: (cpuMs(app.proc.pid) - before) * 1000 / requests }
}

const env = (metrics, name, extra = {}) => ({ WITH_NACOS: '1', NACOS_TRANSPORT: 'grpc', NACOS_SERVER_ADDR: NACOS_ADDR, NACOS_SERVICE_NAME: name, NACOS_METRICS: metrics ? 'true' : 'false', ...extra })

const IN_PROCESS = { rounds: 20, calls: 2000, concurrency: 10 }

/**
 * The same cost without two processes' scheduling between them (which made either process 10 %
 * dearer than the other in some runs): two callers in this process, metrics on and off, call the
 * /hello of `service` (the metrics-off app) by name in alternating rounds; CPU µs per call of this
 * process (the callers only), medians.
 */
async function inProcess (service) {
  const caller = async (metrics) => {
    const app = Fastify()
    await app.register(nacos, { serverAddr: NACOS_ADDR, transport: 'grpc', serviceName: 'bench-metrics-caller', registerEnabled: false, dotenv: false, handleSignals: false, logLevel: 'warn', monitoring: false, metrics: metrics ? { registry: new Registry() } : false })
    await app.ready()
    return app
  }
  const callers = { off: await caller(false), on: await caller(true) }
  try {
    const calls = async (app, count) => {
      let next = 0
      await Promise.all(Array.from({ length: IN_PROCESS.concurrency }, async () => { while (next++ < count) await (await app.nacos.fetch(`http://${service}/hello`)).arrayBuffer() }))
    }
    for (const n of ['off', 'on']) await calls(callers[n], WARM_UP)
    const cpuUs = { off: [], on: [] }
    for (let r = 0; r < IN_PROCESS.rounds; r++) {
      for (const n of r % 2 === 0 ? ['off', 'on'] : ['on', 'off']) {
        const before = process.cpuUsage()
        await calls(callers[n], IN_PROCESS.calls)
        const used = process.cpuUsage(before)
        cpuUs[n].push((used.user + used.system) / IN_PROCESS.calls)
      }
    }
    return { cpuUs, off: median(cpuUs.off), on: median(cpuUs.on) }
  } finally {
    for (const app of Object.values(callers)) await app.close()
  }
}

/** Runs the measure; its figures for metricsRows. */
export async function metricsCost () {
  const listener = await tcpListener()
  const services = Array.from({ length: LOOKUPS }, (_, i) => uniqueService(`metrics-${i}`))
  const apps = {}
  try {
    const names = { off: uniqueService('metrics-off'), on: uniqueService('metrics-on') }
    apps.off = await startChild(APP, env(false, names.off))
    apps.on = await startChild(APP, env(true, names.on))
    await Promise.all(Object.values(names).map(async (n) => await waitFor(listed(n), 10_000)))
    await sleep(6000)
    const rss = { off: rssMiB(apps.off.proc.pid), on: rssMiB(apps.on.proc.pid) }
    // Warm-up by count, not time: with a 3 s warm-up the first rounds still took 2–6× the CPU per
    // request of the later ones (on a loaded machine 3 s were a few hundred requests).
    for (const n of ['off', 'on']) await cannon(apps[n].port, { amount: WARM_UP })
    const rates = { off: [], on: [] }
    const cpuUs = { off: [], on: [] }
    for (let r = 0; r < ROUNDS; r++) {
      for (const n of r % 2 === 0 ? ['off', 'on'] : ['on', 'off']) {
        const one = await round(apps[n])
        rates[n].push(one.rate)
        cpuUs[n].push(one.cpuUs)
      }
    }
    const medians = { off: median(rates.off), on: median(rates.on) }
    const cpu = { off: median(cpuUs.off), on: median(cpuUs.on) }
    const oneProcess = await inProcess(names.off)

    for (const s of services) await apiInstance('POST', s, listener.port)
    apps.scrape = await startChild(APP, env(true, uniqueService('metrics-scrape'), { BENCH_LOOKUPS: services.join(',') }))
    const url = `http://127.0.0.1:${apps.scrape.port}/monitoring/nacos/metrics`
    const times = []
    let bytes = 0
    for (let i = 0; i < 21; i++) {
      const start = performance.now()
      const res = await fetch(url)
      const text = await res.text()
      times.push(performance.now() - start)
      bytes = text.length
      if (!text.includes(services[LOOKUPS - 1])) throw new Error('the scrape lacks a looked-up service')
    }
    // The scrape's own cost, which the machine's load does not stretch: the app's CPU time over more scrapes, one at a time.
    const cpuBefore = cpuMs(apps.scrape.proc.pid)
    for (let i = 0; i < CPU_SCRAPES; i++) await (await fetch(url)).text()
    const scrapeCpu = (cpuMs(apps.scrape.proc.pid) - cpuBefore) / CPU_SCRAPES
    rss.scrape = rssMiB(apps.scrape.proc.pid)
    return { rates, medians, ratio: medians.on / medians.off, cpu, cpuUs, oneProcess, rounds: ROUNDS, duration: DURATION, rss, scrape: { first: times[0], median: median(times.slice(1)), cpu: scrapeCpu, bytes } }
  } finally {
    for (const app of Object.values(apps)) app.proc.kill('SIGTERM')
    await Promise.all(Object.values(apps).map(async (app) => await app.exited))
    for (const s of services) await apiInstance('DELETE', s, listener.port).catch(() => {})
    await listener.close()
  }
}

const once = (text, goal, met) => row(text[0], { grpc: text[1], http: '— (measured once, on the default transport)' }, goal, { grpc: met, http: null })

/** The table's rows of measure 7. */
export function metricsRows (x) {
  return [
    once([`7. throughput, metrics on / off (a call by name per request, ${ROUTE})`, `${x.ratio.toFixed(3)} (${Math.round(x.medians.on)} / ${Math.round(x.medians.off)} req/s, median of ${x.rounds} alternating rounds of ${x.duration} s); the app's CPU per request ${Math.round(x.cpu.on)} / ${Math.round(x.cpu.off)} µs (medians), ${(x.cpu.off / x.cpu.on).toFixed(3)} as a ratio of rates`], '≥ 0.98', x.ratio >= 0.98),
    once(['7. the same in one process: CPU per call by name, metrics on / off (no goal)', `${x.oneProcess.on.toFixed(0)} / ${x.oneProcess.off.toFixed(0)} µs (the caller's, medians of ${IN_PROCESS.rounds} alternating rounds of ${IN_PROCESS.calls} calls), ${(x.oneProcess.off / x.oneProcess.on).toFixed(3)} as a ratio of rates`], '—', null),
    once([`7. one scrape of /metrics, ${LOOKUPS} looked-up services`, `first ${x.scrape.first.toFixed(1)} ms, median of the next 20 ${x.scrape.median.toFixed(1)} ms (${x.scrape.bytes} bytes); the app's CPU ${x.scrape.cpu.toFixed(2)} ms a scrape (mean of ${CPU_SCRAPES})`], '< 5 ms', x.scrape.median < 5),
    once(['7. RSS, metrics off / on / on with 100 looked-up services (no goal)', `${mb(x.rss.off)} / ${mb(x.rss.on)} / ${mb(x.rss.scrape)} MB (idle, registered)`], '—', null)
  ]
}

/** The note under the table: every round's rate. */
export const metricsNote = (x) => `Measure 7, by round (metrics off / on): req/s ${x.rates.off.map(Math.round).join(', ')} / ${x.rates.on.map(Math.round).join(', ')}; ` +
  `the app's CPU µs per request ${x.cpuUs.off.map(Math.round).join(', ')} / ${x.cpuUs.on.map(Math.round).join(', ')}; ` +
  `in one process, CPU µs per call ${x.oneProcess.cpuUs.off.map(Math.round).join(', ')} / ${x.oneProcess.cpuUs.on.map(Math.round).join(', ')}.`

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const x = await metricsCost()
  process.stdout.write(renderTable(`Measure 7 alone, ${new Date().toISOString()}`, metricsRows(x), [metricsNote(x)]) + '\n')
}
