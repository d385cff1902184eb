// A Nacos server of the test's own on a private port, for tests that stop, restart or
// reconfigure it (the shared server on NACOS_SERVER_ADDR is never touched).
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'

const run = promisify(execFile)
const SCRIPT = fileURLToPath(new URL('../../scripts/nacos.sh', import.meta.url))

/** Ports this process has started a server on: a later start there is a restart, data kept. */
const started = new Set<number>()

export interface StartOptions {
  auth?: boolean
  /** Server properties, e.g. `{ 'nacos.core.auth.plugin.nacos.token.expire.seconds': '4' }`. */
  properties?: Record<string, string>
}

/**
 * Starts a server on `port`. The first start in this process begins with a new database (another
 * run's server on the same port left its home behind); a later one is a restart that keeps it.
 */
export async function startNacos (port: number, opts: StartOptions = {}): Promise<string> {
  const fresh = !started.has(port)
  started.add(port)
  const props = Object.entries(opts.properties ?? {}).map(([k, v]) => `-D${k}=${v}`)
  const env = { ...process.env, NACOS_PORT: String(port), ...(props.length > 0 ? { NACOS_JAVA_OPTS: `${process.env.NACOS_JAVA_OPTS ?? '-Xms256m -Xmx512m'} ${props.join(' ')}` } : {}) }
  await run('bash', [SCRIPT, 'start', ...(opts.auth === true ? ['--auth'] : []), ...(fresh ? ['--fresh'] : [])], { env })
  return `127.0.0.1:${port}`
}

export async function stopNacos (port: number): Promise<void> {
  await run('bash', [SCRIPT, 'stop'], { env: { ...process.env, NACOS_PORT: String(port) } })
}

