// The app the throughput and memory benchmarks load: one loopback route; with WITH_NACOS=1 the
// plugin is registered (and the app registered with Nacos), otherwise it is the same app without it.
import Fastify from 'fastify'

const app = Fastify({ logger: false })
if (process.env.WITH_NACOS === '1') {
  const { default: nacos } = await import('../dist/index.js')
  await app.register(nacos, { ip: '127.0.0.1', dotenv: false, handleSignals: true, logLevel: 'warn' })
}
app.get('/hello', async () => ({ hello: 'world' }))
await app.listen({ port: 0, host: '127.0.0.1' })
process.stdout.write(JSON.stringify({ port: app.server.address().port }) + '\n')
