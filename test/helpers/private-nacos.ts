// A Nacos server of the test's own on a private port, for tests that stop, restart or
// reconfigure it (the shared server on NACOS_SERVER_ADDR is never touched).
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'

const run = promisify(execFile)
const SCRIPT = fileURLToPath(new URL('../../scripts/nacos.sh', import.meta.url))

export async function startNacos (port: number, opts: { auth?: boolean } = {}): Promise<string> {
  await run('bash', [SCRIPT, 'start', ...(opts.auth === true ? ['--auth'] : [])], { env: { ...process.env, NACOS_PORT: String(port) } })
  return `127.0.0.1:${port}`
}

export async function stopNacos (port: number): Promise<void> {
  await run('bash', [SCRIPT, 'stop'], { env: { ...process.env, NACOS_PORT: String(port) } })
}
