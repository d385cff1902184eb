// The bench table: one row per measure, one column per transport and one for the Java client (its
// figure where a measure takes it, "—" elsewhere), and its place in BENCHMARKS.md (between the
// bench markers; BENCH_WRITE=0 leaves the file alone).
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { TRANSPORTS, fmtMs } from './lib.mjs'
import { JAVA_CLIENT } from './java.mjs'

const OUT = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url))
const BEGIN = '<!-- bench:begin -->'
const END = '<!-- bench:end -->'
// Memory growth counted as noise: 1 MB of heap over 1000 cycles is 1 kB per cycle.
const HEAP_NOISE_MB = 1
const RSS_NOISE_MB = 5

const MB = 2 ** 20 / 1e6
export const mb = (mib) => (mib * MB).toFixed(1)
export const signed = (v, digits) => `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`
export const us = (v) => `${v < 10 ? v.toFixed(2) : Math.round(v)} µs`
export const s = (ms) => ms < 1000 ? fmtMs(ms) : `${(ms / 1000).toFixed(1)} s`
export const spread = (r, fmt = fmtMs) => `median ${fmt(r.median)}, max ${fmt(r.max)} (${r.samples.length} rounds)`

/**
 * A row: `results` maps each transport to its text, `met` maps each transport to true/false, or
 * null where the goal does not apply to it (or is a comparison this run does not make).
 */
export const row = (name, results, goal, met = {}) => ({ name, results, goal, met })

/** A row whose text and verdict come from the same function of each transport's figures. */
export function perTransport (name, figures, text, goal, meets) {
  return row(name,
    Object.fromEntries(TRANSPORTS.map((t) => [t, text(figures[t], t)])),
    goal,
    Object.fromEntries(TRANSPORTS.map((t) => [t, meets === null ? null : meets(figures[t], t)])))
}

/** `r` with the Java client's figure in its column (a measure whose goal does not compare with it). */
export const withJava = (r, text) => ({ ...r, results: { ...r.results, java: text } })

/**
 * A row of a measure the Java client took too (`figures` keyed by transport and `java`): each
 * transport's text ends with its ratio to the Java client's `of` (read by `value`); the goal is met
 * when grpc's ratio is ≤ `limit` (and `also` holds for grpc's figures); http has no such goal.
 */
export function javaRow (name, figures, { text, value, of, goal, limit, also = () => true }) {
  const ratio = (f) => value(f) / value(figures.java)
  return withJava(perTransport(name, figures, (f) => `${text(f)}; ${ratio(f).toFixed(2)}× the Java client's${of ? ` ${of}` : ''}`, goal,
    (f, t) => t === 'grpc' ? ratio(f) <= limit && also(f) : null), text(figures.java))
}

export function cycleRow (name, figures) {
  const growth = (r) => ({ heap: (r.after.heapMiB - r.before.heapMiB) * MB, rss: (r.after.rssMiB - r.before.rssMiB) * MB })
  return perTransport(name, figures, (r) => {
    const g = growth(r)
    return `heap ${mb(r.before.heapMiB)} → ${mb(r.after.heapMiB)} MB (${signed(g.heap, 2)}), RSS ${mb(r.before.rssMiB)} → ${mb(r.after.rssMiB)} MB (${signed(g.rss, 1)}) in ${r.ms} ms; ` +
      `a further 1000: heap ${signed((r.further.heapMiB - r.after.heapMiB) * MB, 2)}, RSS ${signed((r.further.rssMiB - r.after.rssMiB) * MB, 1)}`
  }, `no growth beyond noise (heap < +${HEAP_NOISE_MB} MB, RSS < +${RSS_NOISE_MB} MB)`, (r) => {
    const g = growth(r)
    return g.heap < HEAP_NOISE_MB && g.rss < RSS_NOISE_MB
  })
}

const verdict = (met) => met === null || met === undefined ? '—' : met ? 'yes' : '**no**'

export function renderTable (heading, rows, notes) {
  return [
    heading,
    '',
    `| measure | ${TRANSPORTS.join(' | ')} | ${JAVA_CLIENT} | goal | met (${TRANSPORTS.join(' / ')}) |`,
    `|---|${TRANSPORTS.map(() => '---|').join('')}---|---|---|`,
    ...rows.map((r) => `| ${r.name} | ${[...TRANSPORTS, 'java'].map((t) => r.results[t] ?? '—').join(' | ')} | ${r.goal} | ${TRANSPORTS.map((t) => verdict(r.met[t])).join(' / ')} |`),
    '',
    ...notes
  ].join('\n')
}

export function writeTable (table) {
  if (process.env.BENCH_WRITE === '0') return
  const text = existsSync(OUT) ? readFileSync(OUT, 'utf8') : `# Benchmarks\n\n${BEGIN}\n${END}\n`
  const at = text.indexOf(BEGIN)
  const end = text.indexOf(END)
  if (at < 0 || end < at) throw new Error(`${OUT} lacks the ${BEGIN} … ${END} markers`)
  writeFileSync(OUT, `${text.slice(0, at + BEGIN.length)}\n${table}\n${text.slice(end)}`)
  process.stderr.write(`[bench] table written to ${OUT}\n`)
}
