// Requests Nacos serves per instance per minute, for each transport, idle and with 3 looked-up
// services: one child process (bench/app.mjs, default settings) per case, all four running at the
// same time, each with the bench/count-requests.mjs preload counting what it sends over one window.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NACOS_ADDR, TRANSPORTS, apiInstance, listed, sleep, startChild, tcpListener, uniqueService, waitFor } from './lib.mjs'

const APP = fileURLToPath(new URL('./app.mjs', import.meta.url))
const PRELOAD = fileURLToPath(new URL('./count-requests.mjs', import.meta.url))
const WINDOW_S = Number(process.env.BENCH_REQUEST_WINDOW ?? 60)
const LOOKED_UP = 3

export async function requestsPerMinute () {
  const dir = mkdtempSync(join(tmpdir(), 'bench-requests-'))
  const services = []
  const cases = []
  try {
    for (let i = 0; i < LOOKED_UP; i++) {
      const server = await tcpListener()
      const serviceName = uniqueService('looked-up')
      await apiInstance('POST', serviceName, server.port)
      services.push({ serviceName, server })
    }
    for (const transport of TRANSPORTS) {
      for (const lookups of [0, LOOKED_UP]) {
        const serviceName = uniqueService(`requests-${transport}`)
        const file = join(dir, `${serviceName}.json`)
        const child = await startChild(APP, {
          WITH_NACOS: '1',
          NACOS_TRANSPORT: transport,
          NACOS_SERVER_ADDR: NACOS_ADDR,
          NACOS_SERVICE_NAME: serviceName,
          BENCH_LOOKUPS: services.slice(0, lookups).map((s) => s.serviceName).join(','),
          BENCH_COUNT_FILE: file
        }, ['--import', PRELOAD])
        cases.push({ transport, lookups, serviceName, file, child })
      }
    }
    await Promise.all(cases.map(async ({ serviceName }) => await waitFor(listed(serviceName), 10_000)))
    // Past start-up (first beats, first list reads, connection set-up): the steady state is counted.
    await sleep(5000)
    for (const { child } of cases) child.proc.kill('SIGWINCH')
    const t0 = performance.now()
    await sleep(WINDOW_S * 1000)
    for (const { child } of cases) child.proc.kill('SIGWINCH')
    const minutes = (performance.now() - t0) / 60_000
    const counts = await Promise.all(cases.map(async ({ file }) => await waitFor(async () => JSON.parse(readFileSync(file, 'utf8')), 5000)))
    return cases.map(({ transport, lookups }, i) => {
      const total = Object.values(counts[i]).reduce((a, b) => a + b, 0)
      return { transport, lookups, perMinute: total / minutes, counts: counts[i], minutes }
    })
  } finally {
    for (const { child } of cases) child.proc.kill('SIGTERM')
    await Promise.all(cases.map(async ({ child }) => await child.exited))
    for (const { serviceName, server } of services) {
      await apiInstance('DELETE', serviceName, server.port).catch(() => {})
      await server.close()
    }
    rmSync(dir, { recursive: true, force: true })
  }
}
