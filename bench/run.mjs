// `npm run bench` (through scripts/bench.sh, which makes sure Nacos answers): runs every measure
// on this machine, each that involves the plugin once per transport (http and grpc, chosen
// explicitly), prints one table and puts it into BENCHMARKS.md between the bench markers.
import { cpus, loadavg } from 'node:os'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { NACOS_ADDR, TRANSPORTS, fmtMs, median, nacosVersion, uniqueService } from './lib.mjs'
import { throughputAndRss } from './throughput.mjs'
import { pickVsLookup } from './pick.mjs'
import { listenToVisible, publishToWatcher, sigtermToGone } from './latency.mjs'
import { changeToCache, restartToListed, sigkillToGone } from './failures.mjs'
import { fetchVsPlain } from './fetch.mjs'
import { dispatchCost } from './dispatch.mjs'
import { requestsPerMinute } from './requests.mjs'
import { metricsCost, metricsNote, metricsRows } from './metrics.mjs'
import { cycleRow, javaRow, mb, perTransport, renderTable, row, s, signed, spread, us, withJava, writeTable } from './table.mjs'

const run = promisify(execFile)
const started = Date.now()
const step = (name) => process.stderr.write(`[bench] ${name} (+${Math.round((Date.now() - started) / 1000)} s)\n`)
const MB = 2 ** 20 / 1e6

async function memoryCycles (transport) {
  const script = fileURLToPath(new URL('./cycles.mjs', import.meta.url))
  const { stdout } = await run(process.execPath, ['--expose-gc', script], {
    env: { ...process.env, NACOS_SERVER_ADDR: NACOS_ADDR, NACOS_TRANSPORT: transport, NACOS_SERVICE_NAME: uniqueService('cycles') },
    timeout: 180_000
  })
  return JSON.parse(stdout.trim().split('\n').pop())
}

/** Runs `measure(transport)` for each transport in turn: { http: …, grpc: … }. */
async function each (name, measure) {
  const out = {}
  for (const t of TRANSPORTS) {
    step(`${name} [${t}]`)
    out[t] = await measure(t)
  }
  return out
}

const load = loadavg()
step('throughput and RSS: bare app and one app per transport')
const tp = await throughputAndRss()
const pk = await each('pick() against a lookup that queries Nacos each time', pickVsLookup)
const lv = await each('listen() → visible in Nacos', listenToVisible)
const st = await each('SIGTERM → gone, → exited', sigtermToGone)
const cf = await each('config publish → watcher', publishToWatcher)
step('SIGKILL → gone (both transports and the Java client at once)')
const kl = await sigkillToGone()
step('change through Nacos\'s API → discovery cache (both transports and the Java client at once)')
const ch = await changeToCache()
step('requests per instance per minute (four apps and two Java clients at once, one 5-minute window)')
const rq = await requestsPerMinute()
step('Nacos restart → listed again (private Nacos, both transports and the Java client at once), and apps restarted while it is down → ready, → listed')
const rs = await restartToListed()
const cy = await each('memory over 1000 register/deregister and 1000 subscribe/unsubscribe cycles', memoryCycles)
step('app.nacos.fetch and app.nacos.dispatcher against undici to a fixed URL (default transport)')
const fe = await fetchVsPlain()
const dc = await dispatchCost()
step('metrics on vs off, one scrape with 100 looked-up services (default transport)')
const mx = await metricsCost()
step('done')

/** Measure 6: once, on the default transport (the request path is the same for both: a pick from the cache). */
function fetchRow (name, x) {
  const text = `${x.ratio.toFixed(3)} (${Math.round(x.medians.nacos)} vs ${Math.round(x.medians.plain)} req/s, median of ${fe.rounds} alternating rounds of ${x.requests} requests, ${fe.concurrency} at a time); ` +
    `added latency p50 ${signed(x.added.p50 * 1000, 0)} µs, p99 ${signed(x.added.p99 * 1000, 0)} µs (${fe.calls} sequential calls each, interleaved); client CPU ${Math.round(x.cpuUs.nacos)} vs ${Math.round(x.cpuUs.plain)} µs per request`
  return row(name, { grpc: text, http: '— (measured once, on the default transport)' }, '≥ 0.95', { grpc: x.ratio >= 0.95, http: null })
}

const byTransport = (f) => Object.fromEntries(TRANSPORTS.map((t) => [t, f(t)]))
const rssOver = byTransport((t) => (tp.rss[t] - tp.rss.without) * MB)
const rssOverAfterGc = byTransport((t) => (tp.rssAfterGc[t] - tp.rssAfterGc.without) * MB)
const requests = (lookups) => Object.fromEntries([...TRANSPORTS, 'java'].map((t) => [t, rq.find((r) => r.transport === t && r.lookups === lookups)]))
const perMinute = { text: (r) => r.perMinute.toFixed(1), value: (r) => r.perMinute, goal: 'grpc ≤ the Java client\'s', limit: 1 }
const rows = [
  perTransport('1. throughput with / without the plugin', byTransport((t) => t),
    (t) => `${tp.ratio[t].toFixed(3)} (${Math.round(tp.medians[t])} vs ${Math.round(tp.medians.without)} req/s)`, '≥ 0.98', (t) => tp.ratio[t] >= 0.98),
  perTransport('2. pick() vs a Nacos query per lookup', pk,
    (p) => `${Math.round(p.ratio)}× (lookup mean ${us(p.lookup.mean)}, p99 ${us(p.lookup.p99)}; pick mean ${us(p.pick.mean)})`, '≥ 1000×', (p) => p.ratio >= 1000),
  perTransport('2. pick() latency', pk, (p) => `p50 ${us(p.pick.p50)}, p99 ${us(p.pick.p99)}`, 'p99 < 5 µs', (p) => p.pick.p99 < 5),
  perTransport('2. pickCached() latency (no goal)', pk, (p) => `p50 ${us(p.pickCached.p50)}, p99 ${us(p.pickCached.p99)}`, '—', null),
  perTransport('3. listen() → listed by Nacos', lv, (r) => spread(r), '< 100 ms', (r) => r.max < 100),
  perTransport('3. SIGTERM → gone from the list', st, (r) => spread(r.gone), '< 500 ms', (r) => r.gone.max < 500),
  perTransport('3. SIGTERM → process exited', st, (r) => spread(r.exited), '< 2 s', (r) => r.exited.max < 2000),
  perTransport('3. config publish → watcher called', cf, (r) => spread(r), '< 1 s', (r) => r.max < 1000),
  row('4. RSS, bare app (no goal)', { http: `${mb(tp.rss.without)} MB (the same process for both columns)`, grpc: `${mb(tp.rss.without)} MB` }, '—'),
  perTransport('4. RSS over a bare app (idle, registered)', rssOver, (v, t) => `+${v.toFixed(1)} MB (${mb(tp.rss[t])} MB)`, '≤ 15 MB', (v) => v <= 15),
  perTransport('4. the same after three forced GCs in each process (no goal: what the start-up retains)', rssOverAfterGc, (v, t) => `+${v.toFixed(1)} MB (${mb(tp.rssAfterGc[t])} MB; bare ${mb(tp.rssAfterGc.without)} MB)`, '—', null),
  cycleRow('4. 1000 register/deregister cycles', byTransport((t) => cy[t].register)),
  cycleRow('4. 1000 subscribe/unsubscribe cycles', byTransport((t) => cy[t].subscribe)),
  withJava(perTransport('5. SIGKILL → no healthy instance listed', kl, (r) => spread(r.unhealthy, s), 'grpc ≤ 3 s', (r, t) => t === 'grpc' ? r.unhealthy.max <= 3000 : null),
    spread(kl.java.unhealthy, s)),
  javaRow('5. SIGKILL → gone from the list', kl, {
    text: (r) => spread(r.gone, s), value: (r) => r.gone.median, of: 'median', goal: 'grpc ≤ 3 s and ≤ 1.1× the Java client\'s (medians)', limit: 1.1, also: (r) => r.gone.max <= 3000
  }),
  javaRow('5. Nacos restarted → listed again', rs.ms, { text: (ms) => `${s(ms)} from Nacos ready to listed (1 round)`, value: (ms) => ms, goal: 'grpc ≤ the Java client\'s', limit: 1 }),
  javaRow('5. change (instance added through Nacos\'s API) → discovery cache', ch, {
    text: (r) => spread(r), value: (r) => r.median, of: 'median', goal: 'grpc ≤ 1.1× the Java client\'s (medians)', limit: 1.1
  }),
  javaRow('5. requests Nacos serves per instance per minute, idle', requests(0), perMinute),
  javaRow('5. requests Nacos serves per instance per minute, 3 looked-up services', requests(3), perMinute),
  fetchRow('6. app.nacos.fetch vs undici fetch to a fixed URL', fe.fetch),
  fetchRow('6. undici.request via app.nacos.dispatcher vs plain undici.request', fe.request),
  row('6. the dispatcher\'s own CPU per dispatch, no network (no goal: the cause of the row above; bench/dispatch.mjs)',
    { grpc: `${Math.round(dc.ownNs)} ns (median of ${dc.rounds} alternating rounds of ${dc.dispatches} dispatches, plugin ${Math.round(median(dc.ns.plugin))} ns vs an Agent stub alone ${Math.round(median(dc.ns.stub))} ns)`, http: '— (the same code on both transports)' }, '—', { grpc: null, http: null }),
  perTransport('8. restarted while Nacos is down → ready()', rs.outage.ready,
    (r) => `${s(r.processMs)} from the process's start (${s(r.pluginMs)} from the plugin's registration; 1 round)`, '< 3 s', (r) => r.processMs < 3000),
  perTransport('8. restarted while Nacos was down: Nacos ready → listed (registered)', rs.outage.registered, (ms) => `${s(ms)} (1 round)`, '≤ 5 s', (ms) => ms <= 5000),
  ...metricsRows(mx)
]

const list = (values, fmt = (v) => Math.round(v)) => values.map(fmt).join(', ')
const breakdown = (r) => Object.entries(r.counts).map(([k, v]) => `${k} ×${v}`).join(', ') || 'none'
const cpu = cpus()
const heading = `Run ${new Date().toISOString()} — ${cpu.length} cores (${cpu[0]?.model.trim()}), load average ${load.map((v) => v.toFixed(1)).join(' ')} at the start` +
  `${load[0] > cpu.length ? ' (a loaded machine: more runnable work than cores, so every figure is noisy)' : ''}, Node ${process.version}, Nacos ${await nacosVersion()} (standalone, ${NACOS_ADDR}; ` +
  `restart measure on a private one on port ${rs.port}), bench took ${Math.round((Date.now() - started) / 1000)} s. Every transport at its default settings unless said.`
const notes = [
  `Throughput: median of ${tp.rounds} rounds of ${tp.duration} s each (autocannon, 10 connections), the three apps' order rotated every round; ` +
    `req/s by round: bare ${list(tp.rates.without)}; ${TRANSPORTS.map((t) => `${t} ${list(tp.rates[t])}`).join('; ')}.`,
  ...TRANSPORTS.map((t) => `${t}: listen → listed (ms) ${list(lv[t].samples, (v) => v.toFixed(1))}; SIGTERM → gone (ms) ${list(st[t].gone.samples)}; ` +
    `publish → watcher (ms) ${list(cf[t].samples, (v) => v.toFixed(1))}; SIGKILL → no healthy (ms) ${list(kl[t].unhealthy.samples)}, → gone (ms) ${list(kl[t].gone.samples)}; ` +
    `change → cache (ms) ${list(ch[t].samples, (v) => v.toFixed(1))}; requests over ${rq[0].minutes.toFixed(2)} min, idle: ${breakdown(requests(0)[t])}; ` +
    `3 looked-up services: ${breakdown(requests(3)[t])}.`),
  `Java client (nacos-client 2.5.1, test/interop's Peer, naming client only, default settings, one process per measure, started with the apps): ` +
    `SIGKILL → no healthy (ms) ${list(kl.java.unhealthy.samples)}, → gone (ms) ${list(kl.java.gone.samples)} (registered with Nacos, SIGKILLed at the same moment as the apps); ` +
    `change → cache (ms) ${list(ch.java.samples)} (its subscribe listener's event, timed by its wall clock against a Date.now() taken with the round's start); ` +
    `requests counted by a TCP proxy in front of Nacos's HTTP and gRPC ports (bench/proxy.mjs: request lines, and each gRPC message the client sends, decoded for its type), ` +
    `two processes, each behind its own proxy, counted over the apps' window of ${requests(0).java.minutes.toFixed(2)} min: registered and idle: ${breakdown(requests(0).java)}; registered and subscribed to the 3 services (as Spring Cloud Alibaba's discovery does on a lookup): ${breakdown(requests(3).java)}.`,
  `Measure 6, req/s by round (by name / fixed URL): fetch ${list(fe.fetch.rates.nacos)} / ${list(fe.fetch.rates.plain)}; undici.request ${list(fe.request.rates.nacos)} / ${list(fe.request.rates.plain)}.`,
  metricsNote(mx),
  `Restart: Nacos was down for ${fmtMs(rs.downMs)} (the start script's run, until Nacos answered ready).`
].flatMap((n) => [n, ''])

const table = renderTable(heading, rows, notes.slice(0, -1))
process.stdout.write(table + '\n')
writeTable(table)
