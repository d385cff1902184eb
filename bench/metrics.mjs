// Measure 7, the metrics' cost (issue 23), on the default transport (gRPC): throughput of the same
// app with the plugin, metrics on vs off, on a route that calls the app's own /hello by name (the
// path where the metrics do work per request: a route that calls nothing does none, the plugin
// adds no request hook), median of BENCH_ROUNDS alternating rounds (default 9); RSS of each; one
// scrape of <prefix>/metrics with 100 looked-up services. `npm run bench` takes it with the other
// measures; `npm run bench:metrics` (node bench/metrics.mjs) takes it alone and prints its rows.
import autocannon from 'autocannon'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { NACOS_ADDR, apiInstance, listed, median, rssMiB, sleep, startChild, tcpListener, uniqueService, waitFor } from './lib.mjs'
import { mb, renderTable, row } from './table.mjs'

const APP = fileURLToPath(new URL('./app.mjs', import.meta.url))
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9)
const DURATION = Number(process.env.BENCH_DURATION ?? 2)
const LOOKUPS = 100
const ROUTE = '/call'
const CPU_SCRAPES = 100
const TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString())

/** CPU time a process has used, ms (user + system, from /proc; Linux). */
function cpuMs (pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 1000 / TICKS
}

const cannon = (port, duration) => new Promise((resolve, reject) => {
  autocannon({ url: `http://127.0.0.1:${port}${ROUTE}`, connections: 10, duration }, (err, result) => {
    if (err) reject(err)
    else if (result.non2xx > 0 || result.errors > 0) reject(new Error(`${result.non2xx} non-2xx, ${result.errors} errors`))
    else resolve(result.requests.average)
  })
})

const env = (metrics, name, extra = {}) => ({ WITH_NACOS: '1', NACOS_TRANSPORT: 'grpc', NACOS_SERVER_ADDR: NACOS_ADDR, NACOS_SERVICE_NAME: name, NACOS_METRICS: metrics ? 'true' : 'false', ...extra })

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
    for (const n of ['off', 'on']) await cannon(apps[n].port, 1)
    const rates = { off: [], on: [] }
    for (let round = 0; round < ROUNDS; round++) {
      for (const n of round % 2 === 0 ? ['off', 'on'] : ['on', 'off']) rates[n].push(await cannon(apps[n].port, DURATION))
    }
    const medians = { off: median(rates.off), on: median(rates.on) }

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
    const cpu = (cpuMs(apps.scrape.proc.pid) - cpuBefore) / CPU_SCRAPES
    rss.scrape = rssMiB(apps.scrape.proc.pid)
    return { rates, medians, ratio: medians.on / medians.off, rounds: ROUNDS, duration: DURATION, rss, scrape: { first: times[0], median: median(times.slice(1)), cpu, bytes } }
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
    once([`7. throughput, metrics on / off (a call by name per request, ${ROUTE})`, `${x.ratio.toFixed(3)} (${Math.round(x.medians.on)} / ${Math.round(x.medians.off)} req/s, median of ${x.rounds} alternating rounds of ${x.duration} s)`], '≥ 0.98', x.ratio >= 0.98),
    once([`7. one scrape of /metrics, ${LOOKUPS} looked-up services`, `first ${x.scrape.first.toFixed(1)} ms, median of the next 20 ${x.scrape.median.toFixed(1)} ms (${x.scrape.bytes} bytes); the app's CPU ${x.scrape.cpu.toFixed(2)} ms a scrape (mean of ${CPU_SCRAPES})`], '< 5 ms', x.scrape.median < 5),
    once(['7. RSS, metrics off / on / on with 100 looked-up services (no goal)', `${mb(x.rss.off)} / ${mb(x.rss.on)} / ${mb(x.rss.scrape)} MB (idle, registered)`], '—', null)
  ]
}

/** The note under the table: every round's rate. */
export const metricsNote = (x) => `Measure 7, req/s by round (metrics off / on): ${x.rates.off.map(Math.round).join(', ')} / ${x.rates.on.map(Math.round).join(', ')}.`

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const x = await metricsCost()
  process.stdout.write(renderTable(`Measure 7 alone, ${new Date().toISOString()}`, metricsRows(x), [metricsNote(x)]) + '\n')
}
