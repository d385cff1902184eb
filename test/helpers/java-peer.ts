// The official Nacos Java client as a peer process (test/interop): built by Maven once, rebuilt
// only when its sources change, driven one command per line; its events come back as JSON lines.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NACOS_ADDR } from './nacos-api.ts'

const DIR = fileURLToPath(new URL('../interop/', import.meta.url))
/**
 * The official client's version: NACOS_JAVA_CLIENT_VERSION, else the one matching the server line
 * (NACOS_VERSION 3.x: 3.0.3; 2.x: the pom's 2.5.1). Each version is built in its own folder.
 */
export const JAVA_CLIENT_VERSION = process.env.NACOS_JAVA_CLIENT_VERSION ?? (process.env.NACOS_VERSION?.startsWith('3.') === true ? '3.0.3' : '2.5.1')
const BUILD = join(DIR, 'target', `client-${JAVA_CLIENT_VERSION}`)
const CLASSPATH = join(BUILD, 'classpath.txt')

export interface PeerEvent {
  event: string
  /** Wall-clock ms in the Java process (same machine, so comparable with Date.now()). */
  at: number
  [field: string]: unknown
}

export interface PeerHost { ip: string, port: number, healthy: boolean, enabled: boolean, metadata: Record<string, string> }

function newestSource (dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs)
  }
  return newest
}

function has (cmd: string): boolean {
  try {
    execFileSync(cmd, ['-version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** The peer's classpath; runs `mvn package` first when target/ is missing or older than a source. */
export function buildPeer (): string {
  const built = (() => { try { return statSync(CLASSPATH).mtimeMs } catch { return 0 } })()
  const sources = Math.max(statSync(join(DIR, 'pom.xml')).mtimeMs, newestSource(join(DIR, 'src')))
  // In CI a missing toolchain must fail the suite, never skip it: say what to install.
  if (!has('java')) throw new Error('interop: `java` not found; install a JDK 17+ (README prerequisites)')
  if (built < sources) {
    if (!has('mvn')) throw new Error('interop: `mvn` not found; install Apache Maven (README prerequisites): it builds test/interop')
    execFileSync('mvn', ['-B', '-q', `-Dnacos.client.version=${JAVA_CLIENT_VERSION}`, 'package'], { cwd: DIR, stdio: ['ignore', 'inherit', 'inherit'] })
    // Maven leaves an unchanged classpath.txt with its old date: date it by this build.
    utimesSync(CLASSPATH, new Date(), new Date())
  }
  return `${join(BUILD, 'classes')}:${readFileSync(CLASSPATH, 'utf8').trim()}`
}

export class JavaPeer {
  readonly events: PeerEvent[] = []
  readonly #proc: ChildProcess
  readonly #home: string
  #stderr = ''
  #waiters = new Set<() => void>()
  readonly exited: Promise<void>

  constructor (classpath: string, auth: string[] = []) {
    // Its own user.home: the client keeps logs and caches there, which must not outlive the test.
    this.#home = mkdtempSync(join(tmpdir(), 'nacos-java-peer-'))
    this.#proc = spawn('java', [
      `-Duser.home=${this.#home}`, '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-XX:TieredStopAtLevel=1',
      '-cp', classpath, 'interop.Peer', NACOS_ADDR, ...auth
    ], { stdio: ['pipe', 'pipe', 'pipe'] })
    let buf = ''
    this.#proc.stdout?.on('data', (d: Buffer) => {
      buf += d.toString()
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        if (line.startsWith('{')) this.events.push(JSON.parse(line) as PeerEvent)
      }
      for (const wake of this.#waiters) wake()
    })
    this.#proc.stderr?.on('data', (d: Buffer) => { this.#stderr = (this.#stderr + d.toString()).slice(-4000) })
    this.exited = new Promise((resolve) => this.#proc.once('exit', () => {
      rmSync(this.#home, { recursive: true, force: true })
      for (const wake of this.#waiters) wake()
      resolve()
    }))
  }

  get pid (): number | undefined { return this.#proc.pid }

  send (command: string): void {
    this.#proc.stdin?.write(command + '\n')
  }

  /** The first event (from index `from` on) that satisfies `match`; rejects after `timeout` ms. */
  async next (match: (e: PeerEvent) => boolean, timeout = 10_000, from = 0): Promise<PeerEvent> {
    const deadline = Date.now() + timeout
    for (;;) {
      const found = this.events.slice(from).find(match)
      if (found) return found
      const error = this.events.slice(from).find((e) => e.event === 'error')
      if (error) throw new Error(`java peer: ${String(error.command)}: ${String(error.message)}`)
      if (this.#proc.exitCode !== null || this.#proc.signalCode !== null || Date.now() > deadline) {
        throw new Error(`java peer: no matching event within ${timeout} ms (exit ${this.#proc.exitCode ?? this.#proc.signalCode}); last events: ${JSON.stringify(this.events.slice(-3))}; stderr: ${this.#stderr.slice(-1500)}`)
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => { clearTimeout(timer); this.#waiters.delete(wake); resolve() }
        const timer = setTimeout(wake, Math.max(0, deadline - Date.now()) + 1)
        this.#waiters.add(wake)
      })
    }
  }

  /** Sends a command and resolves with the first answering event after it. */
  async request (command: string, answer: string, timeout = 15_000): Promise<PeerEvent> {
    const from = this.events.length
    this.send(command)
    return await this.next((e) => e.event === answer, timeout, from)
  }

  kill (signal: NodeJS.Signals): void {
    this.#proc.kill(signal)
  }

  /** Closes stdin (the peer shuts its clients down and exits); kills it if it lingers. */
  async close (): Promise<void> {
    if (this.#proc.exitCode !== null || this.#proc.signalCode !== null) return
    this.#proc.stdin?.end()
    const timer = setTimeout(() => this.#proc.kill('SIGKILL'), 5000)
    await this.exited
    clearTimeout(timer)
  }
}

export function hostsOf (e: PeerEvent): PeerHost[] {
  return (e.instances ?? []) as PeerHost[]
}
