// The official Nacos Java client (com.alibaba.nacos:nacos-client 2.5.1, test/interop's Peer) as the
// bench's Java column: one process per use, driven one command per stdin line; its events come back
// as JSON lines whose "at" is the Java process's wall clock (ms, comparable with Date.now()).
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const DIR = fileURLToPath(new URL('../test/interop/', import.meta.url))
const VERSION = '2.5.1'
// Each client version is built in a folder of its own (test/helpers/java-peer.ts).
const BUILD = join(DIR, 'target', `client-${VERSION}`)
const CLASSPATH = join(BUILD, 'classpath.txt')
export const JAVA_CLIENT = `Java client (nacos-client ${VERSION})`

const mtime = (path) => { try { return statSync(path).mtimeMs } catch { return 0 } }

let built = false

/**
 * The peer's classpath; `mvn package` first when target/ is missing or older than a source (Maven
 * leaves an unchanged classpath.txt as it was: touched here, so that it dates the build).
 */
function classpath () {
  const sources = readdirSync(join(DIR, 'src'), { recursive: true }).map((f) => mtime(join(DIR, 'src', f)))
  if (!built && mtime(CLASSPATH) < Math.max(mtime(join(DIR, 'pom.xml')), ...sources)) {
    execFileSync('mvn', ['-B', '-q', `-Dnacos.client.version=${VERSION}`, 'package'], { cwd: DIR, stdio: ['ignore', 'inherit', 'inherit'] })
    utimesSync(CLASSPATH, new Date(), new Date())
  }
  built = true
  return `${join(BUILD, 'classes')}:${readFileSync(CLASSPATH, 'utf8').trim()}`
}

export class JavaPeer {
  events = []
  #waiters = new Set()
  #stderr = ''

  /** `addr` is host:port of Nacos's HTTP port (the client adds 1000 for gRPC); `namingOnly`: no config client. */
  constructor (addr, { namingOnly = false } = {}) {
    this.namingOnly = namingOnly
    this.home = mkdtempSync(join(tmpdir(), 'bench-java-peer-'))
    this.proc = spawn('java', [
      `-Duser.home=${this.home}`, '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', `-Dpeer.naming-only=${namingOnly}`,
      '-cp', classpath(), 'interop.Peer', addr
    ], { stdio: ['pipe', 'pipe', 'pipe'] })
    let buf = ''
    this.proc.stdout.on('data', (d) => {
      buf += d.toString()
      let nl
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        if (line.startsWith('{')) this.events.push(JSON.parse(line))
      }
      this.#wake()
    })
    this.proc.stderr.on('data', (d) => { this.#stderr = (this.#stderr + d.toString()).slice(-2000) })
    this.exited = once(this.proc, 'exit').then(() => {
      rmSync(this.home, { recursive: true, force: true })
      this.#wake()
    })
  }

  #wake () { for (const wake of this.#waiters) wake() }

  /** The first event from index `from` on that satisfies `match`; rejects after `timeout` ms or on an error event. */
  async next (match, timeout = 30_000, from = 0) {
    const deadline = Date.now() + timeout
    for (;;) {
      const found = this.events.slice(from).find(match)
      if (found) return found
      const error = this.events.slice(from).find((e) => e.event === 'error')
      if (error) throw new Error(`java peer: ${error.command}: ${error.message}`)
      if (this.proc.exitCode !== null || this.proc.signalCode !== null || Date.now() > deadline) {
        throw new Error(`java peer: no matching event within ${timeout} ms; last events ${JSON.stringify(this.events.slice(-3))}; stderr ${this.#stderr}`)
      }
      await new Promise((resolve) => {
        const wake = () => { clearTimeout(timer); this.#waiters.delete(wake); resolve() }
        const timer = setTimeout(wake, Math.max(0, deadline - Date.now()) + 1)
        this.#waiters.add(wake)
      })
    }
  }

  /** Sends a command; resolves with the first `answer` event after it. */
  async request (command, answer, timeout) {
    const from = this.events.length
    this.proc.stdin.write(command + '\n')
    return await this.next((e) => e.event === answer, timeout, from)
  }

  /** Resolves once the peer's clients are up. */
  async ready () {
    const e = await this.next((e) => e.event === 'ready', 60_000)
    if (this.namingOnly && e.config !== 'none') throw new Error('java peer: made a config client though asked for naming only (a Peer built before -Dpeer.naming-only?)')
    return e
  }

  kill () { this.proc.kill('SIGKILL') }

  /** Closes stdin (the peer shuts its clients down and exits); SIGKILL if it lingers. */
  async close () {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.stdin.end()
      const timer = setTimeout(() => this.kill(), 5000)
      await this.exited
      clearTimeout(timer)
    }
    await this.exited
  }
}
