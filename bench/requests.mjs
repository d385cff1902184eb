// Requests Nacos serves per instance per minute, for each transport, idle and with 3 looked-up
// services: one child process (bench/app.mjs, default settings) per case, all four running at the
// same time, each with the bench/count-requests.mjs preload counting what it sends over one window.
// Beside them two processes of the official Java client (bench/java.mjs, naming only, default
// settings), each counted by a proxy of its own in front of Nacos (bench/proxy.mjs), both
// registered, one idle and one subscribed to the same 3 services (as Spring Cloud Alibaba's
// discovery client does on a lookup: selectInstances with subscribe), all counted over the same
// window. The window is 5 minutes: a health check every 5 s without traffic puts 10 to 12 of them
// in a 60 s window depending on where it starts, and a re-read every 5 min either falls in a
// minute or not; over 5 minutes both are counted as they average.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NACOS_ADDR, TRANSPORTS, apiInstance, listed, sleep, startChild, tcpListener, uniqueService, waitFor } from './lib.mjs'
import { JavaPeer } from './java.mjs'
import { countingProxy } from './proxy.mjs'

const APP = fileURLToPath(new URL('./app.mjs', import.meta.url))
const PRELOAD = fileURLToPath(new URL('./count-requests.mjs', import.meta.url))
const WINDOW_S = Number(process.env.BENCH_REQUEST_WINDOW ?? 300)
const LOOKED_UP = 3
const SETTLE_MS = 5000
const total = (counts) => Object.values(counts).reduce((a, b) => a + b, 0)

export async function requestsPerMinute () {
  const dir = mkdtempSync(join(tmpdir(), 'bench-requests-'))
  const services = []
  const cases = []
  const javas = []
  try {
    for (let i = 0; i < LOOKED_UP; i++) {
      const server = await tcpListener()
      const serviceName = uniqueService('looked-up')
      await apiInstance('POST', serviceName, server.port)
      services.push({ serviceName, server })
    }
    for (const lookups of [0, LOOKED_UP]) {
      const java = { lookups, serviceName: uniqueService(`requests-java-${lookups}`), port: await tcpListener() }
      javas.push(java)
      java.proxy = await countingProxy(Number(NACOS_ADDR.split(':')[1]))
      java.peer = new JavaPeer(java.proxy.addr, { namingOnly: true })
      await java.peer.ready()
      await java.peer.request(`register ${java.serviceName} ${java.port.port}`, 'registered')
      for (const { serviceName } of services.slice(0, lookups)) await java.peer.request(`subscribe ${serviceName}`, 'subscribed')
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
    await Promise.all([...cases, ...javas].map(async ({ serviceName }) => await waitFor(listed(serviceName), 10_000)))
    // Past start-up (first beats, first list reads, connection set-up): the steady state is counted.
    await sleep(SETTLE_MS)
    for (const { child } of cases) child.proc.kill('SIGWINCH')
    const t0 = performance.now()
    await sleep(WINDOW_S * 1000)
    for (const { child } of cases) child.proc.kill('SIGWINCH')
    const t1 = performance.now()
    const minutes = (t1 - t0) / 60_000
    const counts = await Promise.all(cases.map(async ({ file }) => await waitFor(async () => JSON.parse(readFileSync(file, 'utf8')), 5000)))
    return [
      ...cases.map(({ transport, lookups }, i) => ({ transport, lookups, perMinute: total(counts[i]) / minutes, counts: counts[i], minutes })),
      ...javas.map(({ lookups, proxy }) => { const c = proxy.counts(t0, t1); return { transport: 'java', lookups, perMinute: total(c) / minutes, counts: c, minutes } })
    ]
  } finally {
    for (const java of javas) {
      await java.peer?.close()
      await java.proxy?.close()
      await java.port.close()
    }
    for (const { child } of cases) child.proc.kill('SIGTERM')
    await Promise.all(cases.map(async ({ child }) => await child.exited))
    for (const { serviceName, server } of services) {
      await apiInstance('DELETE', serviceName, server.port).catch(() => {})
      await server.close()
    }
    rmSync(dir, { recursive: true, force: true })
  }
}
