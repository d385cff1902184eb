// Measure 1 and the first half of measure 4: the same app without the plugin and with it (one
// process per transport), side by side — idle RSS, then autocannon rounds on a loopback route.
import autocannon from 'autocannon'
import { fileURLToPath } from 'node:url'
import { NACOS_ADDR, TRANSPORTS, listed, median, rssMiB, sleep, startChild, uniqueService, waitFor } from './lib.mjs'

const APP = fileURLToPath(new URL('./app.mjs', import.meta.url))
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9)
const DURATION = Number(process.env.BENCH_DURATION ?? 2)
const GC = ['--expose-gc']

function cannon (port, duration) {
  return new Promise((resolve, reject) => {
    autocannon({ url: `http://127.0.0.1:${port}/hello`, connections: 10, duration }, (err, result) => {
      if (err) reject(err)
      else if (result.non2xx > 0 || result.errors > 0) reject(new Error(`${result.non2xx} non-2xx, ${result.errors} errors`))
      else resolve(result.requests.average)
    })
  })
}

/**
 * One bare app and one app with the plugin per transport, side by side in their own processes:
 * idle RSS, then autocannon rounds, the order rotated every round so a drift in machine load hits
 * each alike; per transport, the ratio of its median to the bare app's median.
 */
export async function throughputAndRss () {
  const apps = { without: await startChild(APP, { WITH_NACOS: '0' }, GC) }
  const services = {}
  try {
    for (const transport of TRANSPORTS) {
      services[transport] = uniqueService(`throughput-${transport}`)
      apps[transport] = await startChild(APP, { WITH_NACOS: '1', NACOS_TRANSPORT: transport, NACOS_SERVER_ADDR: NACOS_ADDR, NACOS_SERVICE_NAME: services[transport] }, GC)
    }
    await Promise.all(TRANSPORTS.map(async (t) => await waitFor(listed(services[t]), 10_000)))
    // Idle RSS once all have settled (registered, first heartbeat sent).
    await sleep(6000)
    const names = Object.keys(apps)
    const rss = Object.fromEntries(names.map((n) => [n, rssMiB(apps[n].proc.pid)]))
    // Then after three forced GCs in each: what stays, without the start-up's garbage not collected yet.
    for (const n of names) apps[n].proc.kill('SIGPWR')
    await sleep(1000)
    const rssAfterGc = Object.fromEntries(names.map((n) => [n, rssMiB(apps[n].proc.pid)]))
    for (const n of names) await cannon(apps[n].port, 1)
    const rates = Object.fromEntries(names.map((n) => [n, []]))
    for (let round = 0; round < ROUNDS; round++) {
      const order = names.map((_, i) => names[(i + round) % names.length])
      for (const n of order) rates[n].push(await cannon(apps[n].port, DURATION))
    }
    const medians = Object.fromEntries(names.map((n) => [n, median(rates[n])]))
    const ratio = Object.fromEntries(TRANSPORTS.map((t) => [t, medians[t] / medians.without]))
    return { rss, rssAfterGc, rates, medians, ratio, rounds: ROUNDS, duration: DURATION }
  } finally {
    for (const app of Object.values(apps)) app.proc.kill('SIGTERM')
    await Promise.all(Object.values(apps).map(async (app) => await app.exited))
  }
}
