// Measure 6's cause, apart from the network: the service dispatcher's own CPU per dispatch. The
// options undici.request hands a dispatcher are captured once, then dispatched many times through
// the plugin's dispatcher (pick from a warm cache, the attempt's options, the handler calls) to
// an Agent stub that answers at once, against the same stub called directly, in alternating
// rounds. `node bench/dispatch.mjs` runs it alone and prints its figures as JSON.
import { fileURLToPath } from 'node:url'
import { Dispatcher, request } from 'undici'
import { dispatchToService } from '../dist/naming/interceptor.js'
import { createBalancerState } from '../dist/naming/balancer.js'
import { resolveFetchOptions } from '../dist/naming/fetch-options.js'
import { Outliers } from '../dist/naming/outliers.js'
import { median } from './lib.mjs'

const ROUNDS = 9
const DISPATCHES = 200_000

/** The options undici.request gives a dispatcher for a GET by service name. */
async function requestOptions () {
  let captured
  class Capture extends Dispatcher {
    dispatch (opts, handler) { captured = opts; handler.onError(new Error('captured')); return true }
  }
  await request('http://bench-svc/hello', { dispatcher: new Capture() }).catch(() => {})
  return captured
}

export async function dispatchCost () {
  const opts = await requestOptions()
  const instances = [{ ip: '127.0.0.1', port: 1, healthy: true, enabled: true, weight: 1, clusterName: 'DEFAULT', metadata: {}, instanceId: 'a', serviceName: 'bench-svc' }]
  const headers = [Buffer.from('content-type'), Buffer.from('text/plain')]
  const chunk = Buffer.from('ok')
  const agent = (o, h) => { h.onConnect(() => {}); h.onHeaders(200, headers, () => {}, 'OK'); h.onData(chunk); h.onComplete(null); return true }
  // The handler counts what completes, and the count is checked: no loop can be optimized away.
  let completed = 0
  const handler = { onConnect () {}, onHeaders () { return true }, onData () { return true }, onComplete () { completed++ }, onError (err) { throw err } }
  const ctx = { lookup: { cached: () => instances, instances: async () => instances }, outliers: new Outliers(undefined), balancer: createBalancerState(), cluster: 'DEFAULT', log: { warn () {} }, attemptHook: () => undefined }
  const resolved = resolveFetchOptions({})
  const resolve = () => resolved
  const direct = { ...opts, origin: 'http://127.0.0.1:1' }
  const kinds = {
    plugin: () => { for (let i = 0; i < DISPATCHES; i++) dispatchToService(agent, ctx, opts, handler, resolve) },
    stub: () => { for (let i = 0; i < DISPATCHES; i++) agent(direct, handler) }
  }
  for (const run of Object.values(kinds)) run()
  const ns = { plugin: [], stub: [] }
  for (let r = 0; r < ROUNDS; r++) {
    for (const kind of r % 2 ? ['stub', 'plugin'] : ['plugin', 'stub']) {
      const start = process.hrtime.bigint()
      kinds[kind]()
      ns[kind].push(Number(process.hrtime.bigint() - start) / DISPATCHES)
    }
  }
  if (completed !== 2 * (ROUNDS + 1) * DISPATCHES) throw new Error(`dispatch bench: ${completed} dispatches completed`)
  return { ownNs: median(ns.plugin) - median(ns.stub), ns, rounds: ROUNDS, dispatches: DISPATCHES }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(await dispatchCost(), null, 2) + '\n')
}
