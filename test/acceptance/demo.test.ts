// `npm run demo` as a user runs it, on a Nacos port of its own (free at run time) so that the demo installs,
// starts and stops its own server: the banner, the services answering and registered in Nacos,
// live config, load balancing, the monitoring routes, LOG_LEVEL=debug, then Ctrl-C (SIGINT to the process group, as a
// terminal sends it) and nothing left: no process, no listening port.
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { listInstances, nacosRequest, waitFor } from '../helpers/nacos-api.ts'
import { freeNacosPort, freePort, gone, refused } from '../helpers/ports.ts'
import { SUITE_TRANSPORT } from '../helpers/transports.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const NACOS_PORT = await freeNacosPort()
const NACOS = `127.0.0.1:${NACOS_PORT}`
const DATA_ID = 'example-api.yaml'

t.test('npm run demo starts Nacos and the services, and Ctrl-C leaves nothing behind', async (t) => {
  t.ok(await refused(NACOS_PORT), `nothing answers on ${NACOS_PORT} before the demo (it must start its own Nacos)`)
  const apiPort = await freePort()
  const echoPorts = [await freePort(), await freePort()]
  const demo = spawn('npm', ['run', 'demo'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NACOS_SERVER_ADDR: NACOS, API_PORT: String(apiPort), ECHO_PORTS: echoPorts.join(','), LOG_LEVEL: 'debug' }
  })
  let out = ''
  demo.stdout.on('data', (d: Buffer) => { out += d.toString() })
  demo.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const exited = once(demo, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  let finished = false
  t.teardown(async () => {
    if (!finished) {
      try { process.kill(-(demo.pid as number), 'SIGINT') } catch {}
      await exited
    }
  })

  const started = Date.now()
  await waitFor(() => out.includes('Ctrl-C stops everything') || out.includes('error:') || demo.exitCode !== null, 200_000, 200)
  t.comment(`banner after ${((Date.now() - started) / 1000).toFixed(1)} s`)
  t.match(out, new RegExp(`no Nacos on 127\\.0\\.0\\.1:${NACOS_PORT}: installing .* and starting one`), 'the demo starts a Nacos of its own')
  t.match(out, new RegExp(`API +http://127\\.0\\.0\\.1:${apiPort}/hello`), 'prints the API URL')
  t.match(out, new RegExp(`Swagger UI +http://127\\.0\\.0\\.1:${apiPort}/documentation`), 'prints the Swagger UI URL')
  t.match(out, new RegExp(`Nacos console +http://127\\.0\\.0\\.1:${NACOS_PORT}/nacos`), 'prints the Nacos console URL')

  const api = `http://127.0.0.1:${apiPort}`
  const hello = await (await fetch(`${api}/hello?name=demo`)).json() as { message: string, source: string }
  t.equal(hello.source, `nacos:${DATA_ID}`, 'the greeting comes from the Nacos config center')

  const spread = await (await fetch(`${api}/echo/spread?calls=4`)).json() as { byInstance: Record<string, number> }
  t.same(spread.byInstance, Object.fromEntries(echoPorts.map((p) => [`127.0.0.1:${p}`, 2])), 'round-robin over both echo instances')

  const echoes = await listInstances('example-echo', { addr: NACOS })
  t.same(echoes.map((h) => h.port).sort(), [...echoPorts].sort(), 'Nacos lists both echo instances')
  t.same((await listInstances('example-api', { addr: NACOS })).map((h) => h.port), [apiPort], 'Nacos lists the API')

  t.equal((await fetch(`${api}/documentation`)).status, 200, 'the Swagger UI is served')
  const self = await (await fetch(`${api}/monitoring/nacos/service`)).json() as { state: string, port: number }
  t.match(self, { state: 'registered', port: apiPort }, 'the monitoring route shows the registration')

  // The seed's manual deregister/register, with the token the demo printed.
  const token = /Authorization: Bearer (\S+)\)/.exec(out)?.[1] ?? ''
  const post = async (action: string): Promise<number> =>
    (await fetch(`${api}/monitoring/nacos/service/${action}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status
  t.equal(await post('deregister'), 200, 'POST .../deregister with the printed token')
  t.ok(await waitFor(async () => (await listInstances('example-api', { addr: NACOS })).length === 0, 5000, 50), 'Nacos no longer lists the API')
  t.equal(await post('register'), 200, 'POST .../register')
  t.ok(await waitFor(async () => (await listInstances('example-api', { addr: NACOS })).length === 1, 5000, 50), 'Nacos lists the API again')

  const greeting = `Hi ${Date.now()}`
  const published = await nacosRequest('/v1/cs/configs', { dataId: DATA_ID, group: 'DEFAULT_GROUP', content: `greeting: ${greeting}\nstrategy: round-robin\n`, type: 'yaml' }, 'POST', NACOS)
  t.equal(await published.text(), 'true', 'a new greeting is published')
  const live = await waitFor(async () => {
    const body = await (await fetch(`${api}/hello?name=demo`)).json() as { message: string }
    return body.message === `${greeting}, demo!` ? body : undefined
  }, 15_000, 100)
  t.ok(live, 'the API follows the change without a restart')
  // Next run starts from the demo's own settings again.
  await nacosRequest('/v1/cs/configs', { dataId: DATA_ID, group: 'DEFAULT_GROUP' }, 'DELETE', NACOS)

  const call = SUITE_TRANSPORT === 'http'
    ? new RegExp(`DEBUG nacos http .*url=http://127\\.0\\.0\\.1:${NACOS_PORT}/nacos/v1/ns/instance `)
    : new RegExp(`DEBUG nacos grpc request .*type=InstanceRequest.*server=127\\.0\\.0\\.1:${NACOS_PORT + 1000}`)
  t.match(out, call, 'LOG_LEVEL=debug shows the Nacos calls')

  const pids = [...out.matchAll(/\] +(\S+) started \(pid (\d+), port \d+\)/g)].map((m) => ({ name: m[1] as string, pid: Number(m[2]) }))
  t.same(pids.map((p) => p.name).sort(), ['api', 'echo-1', 'echo-2'], 'the demo names the processes it started')
  const nacosPid = Number(readFileSync(`${ROOT}/.nacos/node-${NACOS_PORT}/nacos.pid`, 'utf8'))

  const stopAt = Date.now()
  process.kill(-(demo.pid as number), 'SIGINT')
  const [code, signal] = await exited
  finished = true
  t.comment(`stopped ${((Date.now() - stopAt) / 1000).toFixed(1)} s after SIGINT`)
  t.ok(code === 0 || signal === 'SIGINT', `npm run demo ends on Ctrl-C (code ${code}, signal ${signal})`)
  for (const name of ['api', 'echo-1', 'echo-2']) {
    t.match(out, new RegExp(`\\[${name}\\] +\\S+ INFO  nacos deregistered`), `${name} deregistered on the way out`)
  }
  t.match(out, new RegExp(`stopped Nacos on port ${NACOS_PORT}`), 'the Nacos the demo started is stopped')
  for (const { name, pid } of [...pids, { name: 'nacos', pid: nacosPid }]) t.ok(gone(pid), `${name} (pid ${pid}) is gone`)
  t.ok(gone(-(demo.pid as number)), 'no process is left in the demo\'s process group')
  for (const port of [apiPort, ...echoPorts, NACOS_PORT, NACOS_PORT + 1000, NACOS_PORT + 1001]) {
    t.ok(await refused(port), `nothing listens on ${port}`)
  }
})
