// `npm run bench` (through scripts/bench.sh, which makes sure Nacos answers): runs every measure
// in one process on this machine, prints one table, and puts it into BENCHMARKS.md between the
// bench markers (set BENCH_WRITE=0 to leave the file alone).
import { cpus } from 'node:os'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { NACOS_ADDR, fmtMs, nacosVersion, uniqueService } from './lib.mjs'
import { throughputAndRss } from './throughput.mjs'
import { pickVsLookup } from './pick.mjs'
import { fetchVsPlain } from './fetch.mjs'
import { listenToVisible, publishToWatcher, restartToReRegistered, sigtermToGone } from './latency.mjs'

const run = promisify(execFile)
const RESTART_PORT = Number(process.env.BENCH_NACOS_PORT ?? 28948)
const OUT = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url))
const BEGIN = '<!-- bench:begin -->'
const END = '<!-- bench:end -->'
// Memory growth counted as noise: 1 MB of heap over 1000 cycles is 1 kB per cycle.
const HEAP_NOISE_MB = 1
const RSS_NOISE_MB = 5

const MB = 2 ** 20 / 1e6
const mb = (mib) => (mib * MB).toFixed(1)
const signed = (v, digits) => `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`
const us = (v) => `${v < 10 ? v.toFixed(2) : Math.round(v)} µs`
const started = Date.now()
const step = (name) => process.stderr.write(`[bench] ${name} (+${Math.round((Date.now() - started) / 1000)} s)\n`)

async function memoryCycles () {
  const script = fileURLToPath(new URL('./cycles.mjs', import.meta.url))
  const { stdout } = await run(process.execPath, ['--expose-gc', script], {
    env: { ...process.env, NACOS_SERVER_ADDR: NACOS_ADDR, NACOS_SERVICE_NAME: uniqueService('cycles') },
    timeout: 180_000
  })
  return JSON.parse(stdout.trim().split('\n').pop())
}

function cycleRow (name, r) {
  const heap = (r.after.heapMiB - r.before.heapMiB) * MB
  const rss = (r.after.rssMiB - r.before.rssMiB) * MB
  return [name,
    `heap ${mb(r.before.heapMiB)} → ${mb(r.after.heapMiB)} MB (${signed(heap, 2)}), RSS ${mb(r.before.rssMiB)} → ${mb(r.after.rssMiB)} MB (${signed(rss, 1)}) in ${r.ms} ms; ` +
      `a further 1000: heap ${signed((r.further.heapMiB - r.after.heapMiB) * MB, 2)}, RSS ${signed((r.further.rssMiB - r.after.rssMiB) * MB, 1)}`,
    `no growth beyond noise (heap < +${HEAP_NOISE_MB} MB, RSS < +${RSS_NOISE_MB} MB)`, heap < HEAP_NOISE_MB && rss < RSS_NOISE_MB]
}

/** Measure 5's rows: throughput ratio (goal ≥ 0.95), added latency and client CPU per request. */
function fetchRows (r) {
  const row = (name, x) => [name,
    `${x.ratio.toFixed(3)} (${Math.round(x.medians.nacos)} vs ${Math.round(x.medians.plain)} req/s, median of ${r.rounds} alternating rounds of ${r.requests} requests, ${r.concurrency} at a time); ` +
      `added latency p50 ${signed(x.added.p50 * 1000, 0)} µs, p99 ${signed(x.added.p99 * 1000, 0)} µs (${r.calls} sequential calls each, interleaved); client CPU ${Math.round(x.cpuUs.nacos)} vs ${Math.round(x.cpuUs.plain)} µs per request`,
    '≥ 0.95', x.ratio >= 0.95]
  return [
    row('5. app.nacos.fetch vs undici fetch to a fixed URL', r.fetch),
    row('5. undici.request via app.nacos.dispatcher vs plain undici.request', r.request)
  ]
}

step('throughput and RSS, with and without the plugin')
const tp = await throughputAndRss()
step('pick() against a lookup that queries Nacos each time')
const pk = await pickVsLookup()
step('listen() → visible in Nacos')
const lv = await listenToVisible()
step('SIGTERM → gone, → exited')
const st = await sigtermToGone()
step(`Nacos restart → re-registered (private Nacos on ${RESTART_PORT})`)
const rs = await restartToReRegistered(RESTART_PORT)
step('config publish → watcher')
const cf = await publishToWatcher()
step('memory over 1000 register/deregister and 1000 subscribe/unsubscribe cycles')
const cy = await memoryCycles()
step('app.nacos.fetch and app.nacos.dispatcher against undici to a fixed URL')
const fe = await fetchVsPlain()
step('done')

const cpu = cpus()
const rows = [
  ['1. throughput with / without the plugin', `${tp.ratio.toFixed(3)} (${Math.round(tp.medians.with)} vs ${Math.round(tp.medians.without)} req/s, median of ${tp.rounds} alternating ${tp.duration} s autocannon rounds, 10 connections)`, '≥ 0.98', tp.ratio >= 0.98],
  ['2. pick() vs a Nacos query per lookup', `${Math.round(pk.ratio)}× (lookup mean ${us(pk.lookup.mean)}, p50 ${us(pk.lookup.p50)}, p99 ${us(pk.lookup.p99)}; pick mean ${us(pk.pick.mean)})`, '≥ 1000×', pk.ratio >= 1000],
  ['2. pick() latency', `p50 ${us(pk.pick.p50)}, p99 ${us(pk.pick.p99)} (${pk.picks} awaited picks, 3 instances)`, 'p99 < 5 µs', pk.pick.p99 < 5],
  ['2. pickCached() latency (no goal)', `p50 ${us(pk.pickCached.p50)}, p99 ${us(pk.pickCached.p99)}`, '—', null],
  ['3. listen() → listed by Nacos', `median ${fmtMs(lv.median)}, max ${fmtMs(lv.max)} (${lv.samples.length} rounds)`, '< 100 ms', lv.max < 100],
  ['3. SIGTERM → gone from the list', `median ${fmtMs(st.gone.median)}, max ${fmtMs(st.gone.max)} (${st.gone.samples.length} rounds)`, '< 500 ms', st.gone.max < 500],
  ['3. SIGTERM → process exited', `median ${fmtMs(st.exited.median)}, max ${fmtMs(st.exited.max)}`, '< 2 s', st.exited.max < 2000],
  ['3. Nacos restart → re-registered', `${fmtMs(rs.ms)} from Nacos ready to listed (heartbeat ${rs.heartbeatMs / 1000} s)`, `< 2 heartbeat intervals (${2 * rs.heartbeatMs} ms)`, rs.ms < 2 * rs.heartbeatMs],
  ['3. config publish → watcher called', `median ${fmtMs(cf.median)}, max ${fmtMs(cf.max)} (${cf.samples.length} rounds)`, '< 1 s', cf.max < 1000],
  ['4. RSS with / without the plugin', `${mb(tp.rss.with)} vs ${mb(tp.rss.without)} MB: ${((tp.rss.with - tp.rss.without) * MB).toFixed(1)} MB apart (idle, registered)`, '< 15 MB apart', (tp.rss.with - tp.rss.without) * MB < 15],
  ...fetchRows(fe),
  cycleRow(`4. ${cy.cycles} register/deregister cycles`, cy.register),
  cycleRow(`4. ${cy.cycles} subscribe/unsubscribe cycles`, cy.subscribe)
]

const table = [
  `Run ${new Date().toISOString()} — ${cpu.length} cores (${cpu[0]?.model.trim()}), Node ${process.version}, Nacos ${await nacosVersion()} (standalone, ${NACOS_ADDR}; restart measure on a private one), bench took ${Math.round((Date.now() - started) / 1000)} s`,
  '',
  '| measure | result | goal | met |',
  '|---|---|---|---|',
  ...rows.map(([name, result, goal, met]) => `| ${name} | ${result} | ${goal} | ${met === null ? '—' : met ? 'yes' : '**no**'} |`),
  '',
  `Throughput rounds (req/s): with ${tp.rates.with.map(Math.round).join(', ')}; without ${tp.rates.without.map(Math.round).join(', ')}. ` +
    `listen → listed (ms): ${lv.samples.map((v) => v.toFixed(1)).join(', ')}. SIGTERM → gone (ms): ${st.gone.samples.join(', ')}. ` +
    `Publish → watcher (ms): ${cf.samples.map((v) => v.toFixed(1)).join(', ')}.`
].join('\n')

process.stdout.write(table + '\n')
if (process.env.BENCH_WRITE !== '0') {
  const text = existsSync(OUT) ? readFileSync(OUT, 'utf8') : `# Benchmarks\n\n${BEGIN}\n${END}\n`
  const at = text.indexOf(BEGIN)
  const end = text.indexOf(END)
  if (at < 0 || end < at) throw new Error(`${OUT} lacks the ${BEGIN} … ${END} markers`)
  writeFileSync(OUT, `${text.slice(0, at + BEGIN.length)}\n${table}\n${text.slice(end)}`)
  process.stderr.write(`[bench] table written to ${OUT}\n`)
}
