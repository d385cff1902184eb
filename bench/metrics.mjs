// The metrics' cost (issue 23): throughput of the same app with the plugin, metrics on vs off
// (median of BENCH_ROUNDS alternating rounds, default 9), RSS of each, and one scrape of
// <prefix>/metrics with 100 looked-up services. Run by `npm run bench:metrics`; prints its rows.
import autocannon from 'autocannon'
import { fileURLToPath } from 'node:url'
import { NACOS_ADDR, apiInstance, listed, median, rssMiB, sleep, startChild, tcpListener, uniqueService, waitFor } from './lib.mjs'

const APP = fileURLToPath(new URL('./app.mjs', import.meta.url))
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9)
const DURATION = Number(process.env.BENCH_DURATION ?? 2)
const LOOKUPS = 100

const cannon = (port, duration) => new Promise((resolve, reject) => {
  autocannon({ url: `http://127.0.0.1:${port}/hello`, connections: 10, duration }, (err, result) => {
    if (err) reject(err)
    else if (result.non2xx > 0 || result.errors > 0) reject(new Error(`${result.non2xx} non-2xx, ${result.errors} errors`))
    else resolve(result.requests.average)
  })
})

const env = (metrics, name, extra = {}) => ({ WITH_NACOS: '1', NACOS_SERVER_ADDR: NACOS_ADDR, NACOS_SERVICE_NAME: name, NACOS_METRICS: metrics ? 'true' : 'false', ...extra })

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
  const rssScrape = rssMiB(apps.scrape.proc.pid)
  const r = (v) => Math.round(v)
  process.stdout.write([
    '| measure | result | goal |',
    '|---|---|---|',
    `| throughput, metrics on / off (median of ${ROUNDS} alternating rounds of ${DURATION} s) | ${(medians.on / medians.off).toFixed(3)} (${r(medians.on)} / ${r(medians.off)} req/s) | ≥ 0.98 |`,
    `| one scrape of /metrics, ${LOOKUPS} looked-up services | first ${times[0].toFixed(1)} ms, median of the next 20 ${median(times.slice(1)).toFixed(1)} ms (${bytes} bytes) | < 5 ms |`,
    `| RSS, metrics off / on / on with ${LOOKUPS} looked-up services | ${rss.off.toFixed(1)} / ${rss.on.toFixed(1)} / ${rssScrape.toFixed(1)} MiB | — |`,
    '',
    `req/s by round: off ${rates.off.map(r).join(', ')}; on ${rates.on.map(r).join(', ')}`,
    ''
  ].join('\n'))
} finally {
  for (const app of Object.values(apps)) app.proc.kill('SIGTERM')
  await Promise.all(Object.values(apps).map(async (app) => await app.exited))
  for (const s of services) await apiInstance('DELETE', s, listener.port).catch(() => {})
  await listener.close()
}
