// Child process of measure 4 (run with --expose-gc): heap and RSS of an app with the plugin
// before and after 1000 register/deregister cycles, and 1000 subscribe/unsubscribe cycles.
// Prints one JSON line.
import Fastify from 'fastify'
import nacos from '../dist/index.js'
import { setTimeout as sleep } from 'node:timers/promises'

const CYCLES = 1000
// Checkpoints every 250–500 cycles showed heap and RSS rising over the first ~600–1100 cycles and
// flat after (optimized code, the allocator's and grpc-js/SDK buffers reaching their size): a
// 100-cycle warm-up left that in the figure. 1000 warm-up cycles take it out.
const WARMUP = 1000
const app = Fastify()
await app.register(nacos, { ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'warn' })
await app.listen({ port: 0, host: '127.0.0.1' })

async function snapshot () {
  for (let i = 0; i < 3; i++) { globalThis.gc(); await sleep(100) }
  const m = process.memoryUsage()
  return { heapMiB: m.heapUsed / 2 ** 20, rssMiB: m.rss / 2 ** 20 }
}

async function registerCycle () {
  await app.nacos.deregister()
  await app.nacos.register()
}

async function subscribeCycle () {
  let unsubscribe
  await new Promise((resolve) => { unsubscribe = app.nacos.subscribe(process.env.NACOS_SERVICE_NAME, resolve) })
  unsubscribe()
}

async function measure (cycle) {
  for (let i = 0; i < WARMUP; i++) await cycle()
  const before = await snapshot()
  const t0 = Date.now()
  for (let i = 0; i < CYCLES; i++) await cycle()
  const ms = Date.now() - t0
  const after = await snapshot()
  // A further 1000 cycles tell warm-up (allocator, compiled code) from steady growth.
  for (let i = 0; i < CYCLES; i++) await cycle()
  const further = await snapshot()
  return { before, after, further, ms }
}

await app.nacos.register()
const register = await measure(registerCycle)
const subscribe = await measure(subscribeCycle)
const status = app.nacos.status()
await app.close()
process.stdout.write(JSON.stringify({ register, subscribe, cycles: CYCLES, warmup: WARMUP, registrations: status.counts.registrations }) + '\n')
