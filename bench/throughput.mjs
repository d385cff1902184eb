// Measure 1 and the first half of measure 4: the same app with and without the plugin, side by
// side in two processes — idle RSS, then autocannon rounds on a loopback route, alternating.
import autocannon from 'autocannon'
import { fileURLToPath } from 'node:url'
import { NACOS_ADDR, listed, median, rssMiB, sleep, startChild, uniqueService, waitFor } from './lib.mjs'

const APP = fileURLToPath(new URL('./app.mjs', import.meta.url))
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const DURATION = Number(process.env.BENCH_DURATION ?? 3)

function cannon (port, duration) {
  return new Promise((resolve, reject) => {
    autocannon({ url: `http://127.0.0.1:${port}/hello`, connections: 10, duration }, (err, result) => {
      if (err) reject(err)
      else if (result.non2xx > 0 || result.errors > 0) reject(new Error(`${result.non2xx} non-2xx, ${result.errors} errors`))
      else resolve(result.requests.average)
    })
  })
}

export async function throughputAndRss () {
  const serviceName = uniqueService('throughput')
  const withPlugin = await startChild(APP, { WITH_NACOS: '1', NACOS_SERVER_ADDR: NACOS_ADDR, NACOS_SERVICE_NAME: serviceName })
  const without = await startChild(APP, { WITH_NACOS: '0' })
  try {
    await waitFor(listed(serviceName), 10_000)
    // Idle RSS once both have settled (registered, first heartbeat sent).
    await sleep(6000)
    const rss = { with: rssMiB(withPlugin.proc.pid), without: rssMiB(without.proc.pid) }
    await cannon(withPlugin.port, 1)
    await cannon(without.port, 1)
    const rates = { with: [], without: [] }
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first, so a drift in machine load hits both alike.
      const order = round % 2 === 0 ? ['with', 'without'] : ['without', 'with']
      for (const which of order) {
        rates[which].push(await cannon((which === 'with' ? withPlugin : without).port, DURATION))
      }
    }
    const stillListed = await listed(serviceName)()
    return {
      rss,
      rates,
      medians: { with: median(rates.with), without: median(rates.without) },
      ratio: median(rates.with) / median(rates.without),
      rounds: ROUNDS,
      duration: DURATION,
      stillListed
    }
  } finally {
    withPlugin.proc.kill('SIGTERM')
    without.proc.kill('SIGTERM')
    await Promise.all([withPlugin.exited, without.exited])
  }
}
