#!/usr/bin/env node
// `npm run demo`: a real Nacos (reused if one answers, else installed and started), the example
// API and two echo instances registered with it, their URLs, logs in the foreground. Ctrl-C
// (SIGINT) or SIGTERM deregisters and stops every process the demo started, Nacos included.
//
// Environment: NACOS_SERVER_ADDR (first address used; default 127.0.0.1:$NACOS_PORT),
// NACOS_PORT (default 8848), API_PORT (3000), ECHO_PORTS (3101,3102), LOG_LEVEL (debug shows
// every Nacos call), NACOS_USERNAME/NACOS_PASSWORD for a Nacos with authentication on.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const env = process.env
const NACOS_ADDR = env.NACOS_SERVER_ADDR?.split(',')[0]?.trim() || `127.0.0.1:${env.NACOS_PORT || 8848}`
const [NACOS_HOST = '127.0.0.1', nacosPort = '8848'] = NACOS_ADDR.split(':')
const NACOS_PORT = Number(nacosPort)
const API_PORT = portFrom('API_PORT', env.API_PORT || '3000')
const ECHO_PORTS = (env.ECHO_PORTS ?? '3101,3102').split(',').map((p, i) => portFrom(`ECHO_PORTS[${i}]`, p.trim()))
const API_CONFIG = 'example-api.yaml'
const DEMO_SETTINGS = 'greeting: Hello from Nacos\nstrategy: round-robin\n'
// The monitoring write routes (manual register/deregister) exist only with a token: the demo makes one.
// A token of the user's own is never printed.
const MONITORING_TOKEN = env.NACOS_MONITORING_TOKEN || `demo-${randomBytes(12).toString('hex')}`
const SHOWN_TOKEN = env.NACOS_MONITORING_TOKEN ? '$NACOS_MONITORING_TOKEN' : MONITORING_TOKEN
const SERVICE_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 15_000

/** Every process the demo started and has not seen exit, by name. */
const running = new Map()
let nacosStarted = false
let stopping = false
// The terminal may be gone (closed window, SIGHUP): the clean-up must still run to its end.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {})

function portFrom (name, raw) {
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`invalid ${name}=${JSON.stringify(raw)}: expected a port 1-65535`)
  return port
}

function say (text) { process.stdout.write(`${tag('demo')} ${text}\n`) }
function tag (name) { return `[${name}]`.padEnd(9) }
function fail (message) {
  process.stderr.write(`${tag('demo')} error: ${message}\n`)
  process.exit(1)
}

const LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' }
const QUIET = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'plugin', 'reqId', 'req', 'res', 'responseTime'])

/** A pino JSON line as one readable line: time, level, message, the fields that matter. */
function formatLog (line) {
  let rec
  try { rec = JSON.parse(line) } catch { return line }
  if (rec === null || typeof rec !== 'object' || typeof rec.msg !== 'string') return line
  let text = rec.msg
  if (rec.req) text += ` ${rec.req.method} ${rec.req.url}`
  if (rec.res) text += ` → ${rec.res.statusCode} (${Math.round(rec.responseTime ?? 0)} ms)`
  const fields = Object.entries(rec).filter(([k]) => !QUIET.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
  const time = new Date(rec.time ?? Date.now()).toISOString().slice(11, 23)
  return `${time} ${LEVELS[rec.level] ?? rec.level} ${text}${fields.length > 0 ? `  ${fields.join(' ')}` : ''}`
}

/**
 * Starts a process in its own process group, so a Ctrl-C in the terminal reaches only the demo,
 * which then signals each process exactly once (a second SIGINT would make close-with-grace exit
 * without finishing the deregistration).
 */
function start (name, command, args, extraEnv = {}, onLine = () => {}) {
  const proc = spawn(command, args, { cwd: ROOT, env: { ...env, ...extraEnv }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = once(proc, 'exit').then(([code, signal]) => { running.delete(name); return { code, signal } })
  running.set(name, { proc, exited })
  for (const stream of [proc.stdout, proc.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      onLine(line)
      process.stdout.write(`${tag(name)} ${formatLog(line)}\n`)
    })
  }
  return { proc, exited }
}

async function nacosReady () {
  try {
    const res = await fetch(`http://${NACOS_ADDR}/nacos/v1/console/health/readiness`, { signal: AbortSignal.timeout(2000) })
    return res.status === 200
  } catch {
    return false
  }
}

async function nacosScript (command) {
  const { exited } = start('nacos', 'bash', ['scripts/nacos.sh', command], { NACOS_PORT: String(NACOS_PORT) })
  const { code } = await exited
  if (code !== 0) throw new Error(`scripts/nacos.sh ${command} failed (exit code ${code})`)
}

async function ensureNacos () {
  if (await nacosReady()) {
    say(`using the Nacos server that answers on ${NACOS_ADDR} (it stays up after the demo)`)
    return
  }
  if (!['127.0.0.1', 'localhost'].includes(NACOS_HOST)) throw new Error(`no Nacos answers on ${NACOS_ADDR}, and the demo starts one only on this machine`)
  say(`no Nacos on ${NACOS_ADDR}: installing (first run: Maven downloads the server once) and starting one`)
  nacosStarted = true
  await nacosScript('start')
}

/** Newest modification time under `path` of the files `keep` accepts (0 when none). */
function newest (path, keep = () => true) {
  if (!existsSync(path)) return 0
  const stat = statSync(path)
  if (!stat.isDirectory()) return keep(path) ? stat.mtimeMs : 0
  return Math.max(0, ...readdirSync(path).filter((f) => f !== 'dist').map((f) => newest(join(path, f), keep)))
}

const inRoot = (...parts) => join(ROOT, ...parts)
const isTs = (f) => f.endsWith('.ts') || f.endsWith('.json')
/** What to compile, and when its output is older than its sources. */
const PROJECTS = [
  { project: 'tsconfig.json', output: inRoot('dist/index.js'), sources: () => Math.max(newest(inRoot('src'), isTs), newest(inRoot('tsconfig.json'))) },
  { project: 'example/tsconfig.json', output: inRoot('example/dist/api.js'), sources: () => Math.max(newest(inRoot('example'), isTs), newest(inRoot('dist/index.d.ts'))) }
]

/** Compiles the plugin and the example when their sources changed since the last build. */
async function build () {
  const tsc = inRoot('node_modules/typescript/bin/tsc')
  for (const { project, output, sources } of PROJECTS) {
    if (newest(output) > sources()) continue
    say(`compiling ${project} (tsc)`)
    const { exited } = start('tsc', process.execPath, [tsc, '-p', project])
    const { code } = await exited
    if (code !== 0) throw new Error(`tsc -p ${project} failed`)
  }
}

/** Nacos's open API, with a token when the server has authentication on. */
async function nacosFetch (path, params, method = 'GET') {
  const query = new URLSearchParams(params)
  if (env.NACOS_USERNAME && env.NACOS_PASSWORD) {
    const login = await fetch(`http://${NACOS_ADDR}/nacos/v1/auth/login`, {
      method: 'POST', body: new URLSearchParams({ username: env.NACOS_USERNAME, password: env.NACOS_PASSWORD }), signal: AbortSignal.timeout(5000)
    })
    if (login.status !== 200) throw new Error(`Nacos refused the login of ${env.NACOS_USERNAME} (HTTP ${login.status})`)
    query.set('accessToken', (await login.json()).accessToken)
  }
  const tenant = env.NACOS_NAMESPACE && env.NACOS_NAMESPACE !== 'public' ? { tenant: env.NACOS_NAMESPACE } : {}
  for (const [k, v] of Object.entries(tenant)) query.set(k, v)
  const url = `http://${NACOS_ADDR}/nacos${path}`
  return method === 'GET'
    ? await fetch(`${url}?${query}`, { signal: AbortSignal.timeout(5000) })
    : await fetch(url, { method, body: query, signal: AbortSignal.timeout(5000) })
}

/** The API's settings, published once: later edits in the Nacos console are kept. */
async function ensureConfig () {
  const key = { dataId: API_CONFIG, group: 'DEFAULT_GROUP' }
  const current = await nacosFetch('/v1/cs/configs', key)
  if (current.status === 200) {
    say(`config ${API_CONFIG} exists in Nacos: kept as it is`)
    return
  }
  const res = await nacosFetch('/v1/cs/configs', { ...key, content: DEMO_SETTINGS, type: 'yaml' }, 'POST')
  if (res.status !== 200) throw new Error(`publishing ${API_CONFIG} failed: HTTP ${res.status} ${await res.text()}`)
  say(`published config ${API_CONFIG} to Nacos: ${DEMO_SETTINGS.trim().replace(/\n/g, ', ')}`)
}

/** Starts an example service and resolves once the plugin reports it registered with Nacos. */
async function startService (name, file, port) {
  let registered
  const isRegistered = new Promise((resolve) => { registered = resolve })
  const { proc, exited } = start(name, process.execPath, [`example/dist/${file}`], {
    NACOS_SERVER_ADDR: NACOS_ADDR,
    // The demo keeps all traffic on this machine.
    NACOS_SERVICE_IP: '127.0.0.1',
    HOST: '127.0.0.1',
    PORT: String(port),
    NACOS_MONITORING_TOKEN: MONITORING_TOKEN
  }, (line) => { if (line.includes('"msg":"nacos registered"')) registered() })
  say(`${name} started (pid ${proc.pid}, port ${port})`)
  let timer
  const outcome = await Promise.race([
    isRegistered.then(() => 'registered'),
    exited.then(({ code, signal }) => `exited (${signal ?? `code ${code}`})`),
    new Promise((resolve) => { timer = setTimeout(resolve, SERVICE_TIMEOUT_MS, `not registered after ${SERVICE_TIMEOUT_MS / 1000} s`) })
  ])
  clearTimeout(timer)
  if (outcome !== 'registered') throw new Error(`${name} ${outcome}`)
}

function banner () {
  const api = `http://127.0.0.1:${API_PORT}`
  const lines = [
    '',
    `fastify-nacos demo: example-api and ${ECHO_PORTS.length} example-echo instances are registered with Nacos`,
    `  API            ${api}/hello`,
    `  Swagger UI     ${api}/documentation`,
    `  Monitoring     ${api}/monitoring/nacos/service   (write routes: Authorization: Bearer ${SHOWN_TOKEN})`,
    `  Nacos console  http://${NACOS_ADDR}/nacos   (Service Management → Service List)`,
    `  Echo           ${ECHO_PORTS.map((p) => `http://127.0.0.1:${p}/echo`).join('  ')}`,
    'Try:',
    `  curl '${api}/echo/spread?calls=6'    load balancing over the echo instances`,
    `  curl ${api}/hello                    then edit ${API_CONFIG} in the Nacos console (Configuration Management) and call it again`,
    `  curl -X POST -H "Authorization: Bearer ${SHOWN_TOKEN}" ${api}/monitoring/nacos/service/deregister   (and .../register)`,
    'Ctrl-C stops everything the demo started (the services deregister first).',
    ''
  ]
  process.stdout.write(lines.join('\n') + '\n')
}

/** Signals each running process once, waits for it, and stops the Nacos the demo started. */
async function shutdown (reason, exitCode) {
  if (stopping) return
  stopping = true
  const what = [...running.keys()].filter((n) => n !== 'nacos').map((n) => (n === 'tsc' ? 'the build' : n)).join(', ')
  say(`${reason}: stopping ${[what, nacosStarted ? 'the Nacos the demo started' : ''].filter(Boolean).join(' and ') || 'nothing'}`)
  await Promise.all([...running.entries()].map(async ([name, { proc, exited }]) => {
    // nacos.sh start still running (Ctrl-C during start-up): end the script, the pid file says what to stop.
    signalGroup(proc, name === 'nacos' ? 'SIGTERM' : 'SIGINT')
    let timer
    const result = await Promise.race([exited, new Promise((resolve) => { timer = setTimeout(resolve, STOP_TIMEOUT_MS) })])
    clearTimeout(timer)
    if (result === undefined) {
      say(`${name} did not exit within ${STOP_TIMEOUT_MS / 1000} s: killing it`)
      signalGroup(proc, 'SIGKILL')
      await exited
    }
  }))
  if (nacosStarted) {
    try {
      await nacosScript('stop')
    } catch (err) {
      say(`${err.message}: check with \`NACOS_PORT=${NACOS_PORT} npm run nacos -- status\``)
      exitCode = 1
    }
  }
  say(exitCode === 0 ? 'stopped; no process of the demo is left' : 'stopped')
  process.exit(exitCode)
}

function signalGroup (proc, signal) {
  try { process.kill(-proc.pid, signal) } catch { /* already gone */ }
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => { void shutdown(`${signal} received`, 0) })
}

async function main () {
  const steps = [
    ensureNacos,
    build,
    ensureConfig,
    async () => { await Promise.all(ECHO_PORTS.map(async (port, i) => await startService(`echo-${i + 1}`, 'echo.js', port))) },
    async () => { await startService('api', 'api.js', API_PORT) }
  ]
  for (const step of steps) {
    // A signal during start-up: shutdown() owns the exit from here.
    if (stopping) return
    await step()
  }
  banner()
  // Any exit of a service while the demo runs ends the demo: a half-running demo misleads.
  for (const [name, { exited }] of running) {
    void exited.then(({ code, signal }) => { if (!stopping) void shutdown(`${name} exited (${signal ?? `code ${code}`})`, 1) })
  }
}

main().catch(async (err) => {
  if (stopping) return
  process.stderr.write(`${tag('demo')} error: ${err.message}\n`)
  await shutdown('start-up failed', 1)
})
