// Issue 22's rows, taken in the restart of the private Nacos (bench/failures.mjs, restartToListed):
// one app per transport (bench/outage-app.mjs, a child process, default settings, one preloaded
// config) runs once with Nacos up and exits; restarted while Nacos is down, its start → ready()
// is timed; once Nacos is ready again, → listed by Nacos (registered).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { TRANSPORTS, listed, startChild, uniqueService, waitFor } from './lib.mjs'

const APP = fileURLToPath(new URL('./outage-app.mjs', import.meta.url))

async function publish (addr, dataId, content) {
  const body = new URLSearchParams({ dataId, group: 'DEFAULT_GROUP', content, type: 'json' })
  const res = await fetch(`http://${addr}/nacos/v1/cs/configs`, { method: 'POST', body, signal: AbortSignal.timeout(5000) })
  if (await res.text() !== 'true') throw new Error(`publish ${dataId} answered ${res.status}`)
}

/**
 * With Nacos up on `addr`: each transport's app runs once (reads its config, registers, is listed)
 * and exits on SIGTERM. Returns what the outage rows take later, and `close` for the end.
 */
export async function ranBeforeOutage (addr) {
  // The apps' snapshots go to a directory of this run, not to the user's.
  const dir = mkdtempSync(join(tmpdir(), 'bench-outage-'))
  const apps = TRANSPORTS.map((transport) => ({ transport, serviceName: uniqueService(`outage-${transport}`), dataId: `${uniqueService('outage')}.json` }))
  const children = []
  const start = async ({ transport, serviceName, dataId }) => {
    const child = await startChild(APP, { NACOS_SERVER_ADDR: addr, NACOS_TRANSPORT: transport, NACOS_SERVICE_NAME: serviceName, NACOS_SNAPSHOT_DIR: dir, BENCH_CONFIG: dataId })
    children.push(child)
    return child
  }
  const close = async () => {
    for (const { proc } of children) proc.kill('SIGKILL')
    await Promise.all(children.map(async ({ exited }) => await exited))
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (const app of apps) {
      await publish(addr, app.dataId, '{"limit":1}')
      const child = await start(app)
      await waitFor(listed(app.serviceName, addr), 10_000)
      child.proc.kill('SIGTERM')
      const { code } = await child.exited
      if (code !== 0) throw new Error(`the ${app.transport} app exited with ${code}`)
    }
  } catch (err) {
    await close()
    throw err
  }
  return {
    /** Nacos is down: each app started again, one after the other; ms to ready() by transport. */
    restart: async () => {
      const ready = {}
      for (const app of apps) ready[app.transport] = await start(app)
      return Object.fromEntries(TRANSPORTS.map((t) => [t, { processMs: ready[t].first.readyMs, pluginMs: ready[t].first.pluginMs }]))
    },
    /** Nacos answered ready at `t0` (performance.now()): ms until each restarted app is listed. */
    registered: async (t0) => Object.fromEntries(await Promise.all(apps.map(async ({ transport, serviceName }) => {
      await waitFor(listed(serviceName, addr), 120_000)
      return [transport, performance.now() - t0]
    }))),
    close
  }
}
