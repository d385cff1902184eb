// The app the throughput, memory and requests benchmarks load: one loopback route; with
// WITH_NACOS=1 the plugin is registered (and the app registered with Nacos; NACOS_TRANSPORT picks
// the transport) and /call calls /hello by name, otherwise it is the same app without them.
// BENCH_LOOKUPS (service names, comma separated) are looked up once through the plugin before the
// app says it listens.
import Fastify from 'fastify'

const app = Fastify({ logger: false })
if (process.env.WITH_NACOS === '1') {
  const { default: nacos } = await import('../dist/index.js')
  await app.register(nacos, { ip: '127.0.0.1', dotenv: false, handleSignals: true, logLevel: 'warn' })
}
app.get('/hello', async () => ({ hello: 'world' }))
// The metrics' measure: a call by name, to this app's own /hello (it is registered under NACOS_SERVICE_NAME).
if (process.env.WITH_NACOS === '1') app.get('/call', async () => await (await app.nacos.fetch(`http://${process.env.NACOS_SERVICE_NAME}/hello`)).json())
// Measure 4 also reads RSS after a forced GC: started with --expose-gc, SIGPWR collects (SIGUSR2 is close-with-grace's: it closes the app).
if (typeof globalThis.gc === 'function') process.on('SIGPWR', () => { for (let i = 0; i < 3; i++) globalThis.gc() })
await app.listen({ port: 0, host: '127.0.0.1' })
for (const service of (process.env.BENCH_LOOKUPS ?? '').split(',').filter(Boolean)) {
  if ((await app.nacos.instances(service)).length === 0) throw new Error(`no instance of ${service}`)
}
process.stdout.write(JSON.stringify({ port: app.server.address().port }) + '\n')
