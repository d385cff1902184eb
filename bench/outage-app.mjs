// The app of the "Nacos down" rows (bench/outage.mjs): the plugin at default settings (NACOS_* from
// the environment) with one preloaded config, BENCH_CONFIG. Prints one JSON line once listening:
// its port, ms from the process's start to ready(), and from the plugin's registration to ready().
import Fastify from 'fastify'

const { default: nacos } = await import('../dist/index.js')
const app = Fastify({ logger: false })
const registering = performance.now()
await app.register(nacos, { ip: '127.0.0.1', dotenv: false, logLevel: 'warn', configs: [{ dataId: process.env.BENCH_CONFIG }] })
await app.ready()
const ready = performance.now()
await app.listen({ port: 0, host: '127.0.0.1' })
process.stdout.write(JSON.stringify({ port: app.server.address().port, readyMs: ready, pluginMs: ready - registering }) + '\n')
