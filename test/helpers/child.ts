import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { now } from './nacos-api.ts'

export const APP = fileURLToPath(new URL('../fixtures/app.mjs', import.meta.url))

/**
 * Environment that turns coverage off in a child process (tap turns it on in every process it
 * starts, through NODE_OPTIONS): for children that add nothing to src/'s coverage, such as npm,
 * tsc or echo instances under load. Block coverage costs them about a third more CPU, and each
 * leaves a coverage file of megabytes for the report to read.
 */
export const NO_COVERAGE = { _TAPJS_PROCESSINFO_COVERAGE_: '0' } as const

export interface Child {
  proc: ChildProcess
  port: number
  output: () => string
  /** `at`: when it exited, by now() (the monotonic clock). */
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null, at: number }>
}

/** Starts test/fixtures/app.mjs (or `script`) with `env` and resolves once it prints its port. */
export async function startApp (env: Record<string, string>, script = APP): Promise<Child> {
  const proc = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  proc.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  const exited = once(proc, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null, at: now() }))
  const port = await new Promise<number>((resolve, reject) => {
    let buf = ''
    proc.stdout?.on('data', (d: Buffer) => {
      buf += d.toString()
      const line = buf.split('\n')[0]
      if (buf.includes('\n') && line) resolve((JSON.parse(line) as { port: number }).port)
    })
    void exited.then(({ code }) => reject(new Error(`app exited (${code}) before listening: ${out}`)))
  })
  return { proc, port, output: () => out, exited }
}
