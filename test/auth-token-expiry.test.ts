// Auth tokens against a real auth-enabled Nacos: a short token lifetime is crossed several times
// with heartbeats, discovery reads and a config watch going on and no request failing. (A server
// restart that invalidates the token: test/auth-restart.test.ts, beside this one.)
import t from 'tap'
import Fastify from 'fastify'
import nacos from '../src/index.ts'
import { loginPath, uniqueService, waitFor, waitForChange } from './helpers/nacos-api.ts'
import { startNacos, stopNacos } from './helpers/private-nacos.ts'
import { freeNacosPort } from './helpers/ports.ts'
import { TRANSPORTS } from './helpers/transports.ts'
import { Writable } from 'node:stream'
import { spyFetch, type Call } from './helpers/spy-fetch.ts'

const TTL_S = 4
const TTL_PROPERTY = 'nacos.core.auth.plugin.nacos.token.expire.seconds'


const port = await freeNacosPort()
const addr = `127.0.0.1:${port}`
const base = { serverAddr: addr, ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'silent' as const, username: 'nacos', password: 'nacos' }
t.teardown(async () => { await stopNacos(port) })

// Where the plugin logs in on this server (v3 on 3.x, v1 on 2.x): asked once, before any spy
// starts, since asking is itself a request to the server.
let login = ''
t.before(async () => {
  await startNacos(port, { auth: true, properties: { [TTL_PROPERTY]: String(TTL_S) } })
  login = await loginPath(addr)
})

/** What the app logs: a failed request over gRPC shows there (not in fetch), and so do its logins. */
function logged (): { stream: Writable, lines: string[] } {
  const lines: string[] = []
  return { lines, stream: new Writable({ write (chunk, _enc, cb) { lines.push(...String(chunk).split('\n').filter((l) => l !== '')); cb() } }) }
}

// Both transports at once, on the one server (each run lasts several token lifetimes). Only the
// HTTP transport calls fetch (gRPC logs in over node:http): every call the spy sees is the HTTP app's.
t.test('token expiries, both transports at the same time', { jobs: TRANSPORTS.length }, async (t) => {
  const httpCalls = spyFetch(t, port)
  for (const transport of TRANSPORTS) {
    t.test(`${transport}: registration, discovery reads and a config watch go on across ${TTL_S} s token expiries with no failed request`, async (t) => {
      const calls = transport === 'http' ? httpCalls : []
      const logs = logged()
      const serviceName = uniqueService('token-ttl')
      const dataId = `${serviceName}.json`
      const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
      await app.register(nacos, { ...base, transport, logLevel: 'info', serviceName, heartbeatInterval: 0.5, deregisterTime: 3, discoveryRefreshInterval: 500 })
      t.teardown(() => app.close())
      await app.listen({ port: 0, host: '127.0.0.1' })
      await waitFor(() => app.nacos.status().state === 'registered', 10_000)

      const seen: unknown[] = []
      app.nacos.config.watch(dataId, {}, (value) => { seen.push(value) })
      let listed = 0
      app.nacos.subscribe(serviceName, (instances) => { listed = instances.length })

      const start = Date.now()
      const published: number[] = []
      // Four lifetimes: at least three tokens expire while the app keeps working.
      for (let n = 0; Date.now() - start < 4 * TTL_S * 1000; n++) {
        await app.nacos.config.publish(dataId, { n })
        published.push(n)
        // Paced by the watch itself: the next change once this one arrived (over HTTP, a publish
        // as the poll re-arms arrives when that poll ends: CI saw one miss a 5 s wait).
        await waitForChange(() => seen.some((v) => (v as { n?: number } | undefined)?.n === n))
      }
      await waitForChange(() => seen.some((v) => (v as { n?: number } | undefined)?.n === published.at(-1)))
      const elapsed = Date.now() - start

      // A 404 to a config read is Nacos's answer "no such config" (the watch's first read), and a 404
      // to the v3 login is 2.x saying it has none (the login falls back to v1): neither is a failure.
      const absent = (c: Call): boolean => c.status === 404 && ((c.method === 'GET' && new URL(c.url).pathname.endsWith('/v1/cs/configs')) || (c.method === 'POST' && new URL(c.url).pathname.endsWith('/v3/auth/user/login')))
      const failed = calls.filter((c) => c.status === 'error' || (typeof c.status === 'number' && c.status >= 400 && !absent(c)))
      const warnings = logs.lines.filter((l) => /"level":(40|50|60)/.test(l))
      // Over HTTP each call carries the token it used; gRPC logs in over node:http and logs each login.
      const logins = transport === 'http' ? calls.filter((c) => c.url.endsWith(login)).length : logs.lines.filter((l) => l.includes('nacos login succeeded')).length
      const counts = app.nacos.status().counts
      const tokens = transport === 'http' ? new Set(calls.map((c) => c.token).filter((v) => v !== undefined)).size : logins
      t.comment(`${transport}: ${elapsed} ms = ${(elapsed / 1000 / TTL_S).toFixed(1)} token lifetimes; ${calls.length} HTTP requests, ${failed.length} failed; ${logins} logins, ${tokens} tokens used; ${counts.beats} beats (${counts.failedBeats} failed); ${warnings.length} warnings; ${published.length} configs published, the watcher saw ${seen.length} changes`)
      t.same(failed.map((c) => `${c.status} ${new URL(c.url).pathname}`), [], 'no HTTP request failed')
      t.same(warnings, [], 'nothing warned or failed')
      t.ok(tokens >= 4, `a fresh token before each expiry (${tokens} tokens over ${elapsed} ms)`)
      t.equal(counts.failedBeats, 0)
      t.equal(counts.failedRegistrations, 0)
      t.equal(counts.reRegistrations, 0, 'never lost')
      // Beats every 0.5 s: about 32 in the run; a starved event loop sends fewer (22 seen at load 19):
      // that none failed (above) is the claim, half of them is the floor.
      if (transport === 'http') t.ok(counts.beats >= (4 * TTL_S) / 0.5 / 2, `kept beating (${counts.beats})`)
      t.equal(listed, 1, 'discovery still lists the instance')
      // A watch follows the latest value (Nacos says "changed", the client reads what is there now):
      // two publishes closer together than one notify-and-read show as one. Order and the end are owed.
      const values = seen.filter((v) => v !== undefined).map((v) => (v as { n: number }).n)
      t.comment(`${transport}: published ${published.join(',')}; the watcher saw ${values.join(',')}`)
      t.ok(values.every((n, i) => i === 0 || n > (values[i - 1] as number)), 'the watcher saw the values in the order published, none twice')
      t.equal(values.at(-1), published.at(-1), 'and ended on the last one')
      t.ok(values.length >= published.length / 2, 'most values were seen one by one (1.5 s apart)')
    })
  }
})
