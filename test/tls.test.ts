// https:// in NACOS_SERVER_ADDR is TLS to Nacos end to end: in front of the real Nacos, TLS
// terminators on a port Q (its HTTP API) and Q + 1000 (its gRPC port, ALPN h2) with a certificate
// made for the test; an app trusting it (NODE_EXTRA_CA_CERTS) logs in, registers and is listed,
// over each transport, every connection to Nacos going through TLS.
// (The CA of the certificate is given as README says: NODE_EXTRA_CA_CERTS for the HTTP API and the
// login, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH for the gRPC port.)
import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, type Socket } from 'node:net'
import { createServer, type TLSSocket } from 'node:tls'
import { once } from 'node:events'
import { NACOS_ADDR, listInstances, uniqueService, waitFor } from './helpers/nacos-api.ts'
import { startApp } from './helpers/child.ts'
import { freeNacosPort } from './helpers/ports.ts'
import { TRANSPORTS } from './helpers/transports.ts'

// Without openssl the test skips, saying so, unless FASTIFY_NACOS_REQUIRE_TLS=1 (set by `.ci/run`,
// which installs openssl): then it fails.
const hasOpenssl = spawnSync('openssl', ['version']).status === 0
const skip = hasOpenssl || process.env.FASTIFY_NACOS_REQUIRE_TLS === '1' ? false : 'openssl is not installed: no certificate to serve TLS with'
const dir = mkdtempSync(join(tmpdir(), 'nacos-tls-'))
t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
const keyFile = join(dir, 'key.pem')
const certFile = join(dir, 'cert.pem')
// A certificate for the name nacos.test only: valid for 127.0.0.1 only when checked against that name.
const namedKey = join(dir, 'named-key.pem')
const namedCert = join(dir, 'named-cert.pem')
if (skip === false) {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', namedKey, '-out', namedCert, '-days', '1',
    '-subj', '/CN=nacos.test', '-addext', 'subjectAltName=DNS:nacos.test'], { stdio: 'ignore' })
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' })
}

const [nacosHost, nacosPort] = NACOS_ADDR.split(':') as [string, string]

/** A TLS terminator on `port` that forwards the plain bytes to `target`; counts the handshakes. */
async function terminator (t: { teardown: (fn: () => void) => void }, port: number, target: number, alpn: string[], pair = { key: keyFile, cert: certFile }): Promise<{ handshakes: () => number }> {
  let handshakes = 0
  const sockets = new Set<Socket>()
  const server = createServer({ key: readFileSync(pair.key), cert: readFileSync(pair.cert), ALPNProtocols: alpn }, (tls: TLSSocket) => {
    handshakes++
    const upstream = connect(target, nacosHost)
    for (const s of [tls, upstream]) { sockets.add(s); s.on('error', () => {}) }
    tls.pipe(upstream).pipe(tls)
    tls.on('close', () => upstream.destroy())
    upstream.on('close', () => tls.destroy())
  })
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { for (const s of sockets) s.destroy(); server.close() })
  return { handshakes: () => handshakes }
}

for (const transport of TRANSPORTS) {
  t.test(`${transport}: https://127.0.0.1:Q logs in, registers and is listed, through TLS only`, { skip }, async (t) => {
    const q = await freeNacosPort()
    const http = await terminator(t, q, Number(nacosPort), ['http/1.1'])
    const grpc = await terminator(t, q + 1000, Number(nacosPort) + 1000, ['h2'])
    const serviceName = uniqueService('tls')
    const app = await startApp({
      NACOS_SERVER_ADDR: `https://127.0.0.1:${q}`,
      NACOS_TRANSPORT: transport,
      NACOS_SERVICE_NAME: serviceName,
      NACOS_USERNAME: 'nacos',
      NACOS_PASSWORD: 'nacos',
      // Node's https and fetch add this CA to theirs; @grpc/grpc-js reads its roots from the other.
      NODE_EXTRA_CA_CERTS: certFile,
      GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: certFile
    })
    t.teardown(() => { app.proc.kill('SIGKILL') })
    let stdout = ''
    app.proc.stdout?.on('data', (d: Buffer) => { stdout += d.toString() })
    const [host] = await waitFor(async () => { const l = await listInstances(serviceName); return l.length > 0 ? l : undefined }, 15_000).catch((err: Error) => { t.comment(stdout.split('\n').map((l) => l.slice(0, 400)).join('\n')); throw err })
    t.match(host, { ip: '127.0.0.1', port: app.port })
    t.ok(http.handshakes() >= 1, `TLS to the HTTP port: ${http.handshakes()} connection(s) (${transport === 'grpc' ? 'the login' : 'login, registration, beats'})`)
    if (transport === 'grpc') t.ok(grpc.handshakes() >= 1, `TLS to the gRPC port: ${grpc.handshakes()} connection(s)`)
    else t.equal(grpc.handshakes(), 0, 'the HTTP transport never touches the gRPC port')
    t.notMatch(app.output(), /error/i, 'nothing went wrong on the way')
  })
}

t.test('grpc: the CA and server name from the settings (NACOS_TLS_CA, NACOS_TLS_SERVER_NAME) serve the gRPC port and the login, no other variable', { skip }, async (t) => {
  const q = await freeNacosPort()
  const http = await terminator(t, q, Number(nacosPort), ['http/1.1'], { key: namedKey, cert: namedCert })
  const grpc = await terminator(t, q + 1000, Number(nacosPort) + 1000, ['h2'], { key: namedKey, cert: namedCert })
  const serviceName = uniqueService('tls-settings')
  const app = await startApp({
    NACOS_SERVER_ADDR: `https://127.0.0.1:${q}`,
    NACOS_TRANSPORT: 'grpc',
    NACOS_SERVICE_NAME: serviceName,
    // The login goes to the HTTP port over https with the same CA and name: no NODE_EXTRA_CA_CERTS.
    NACOS_USERNAME: 'nacos',
    NACOS_PASSWORD: 'nacos',
    NACOS_TLS_CA: namedCert,
    // The gRPC port's certificate names nacos.test only: checked against it, not against 127.0.0.1.
    NACOS_TLS_SERVER_NAME: 'nacos.test'
  })
  t.teardown(() => { app.proc.kill('SIGKILL') })
  const [host] = await waitFor(async () => { const l = await listInstances(serviceName); return l.length > 0 ? l : undefined }, 15_000)
    .catch((err: Error) => { t.comment(app.output().slice(-2000)); throw err })
  t.match(host, { ip: '127.0.0.1', port: app.port })
  t.ok(http.handshakes() >= 1, `TLS to the HTTP port: ${http.handshakes()} connection(s) (the login)`)
  t.ok(grpc.handshakes() >= 1, `TLS to the gRPC port: ${grpc.handshakes()} connection(s)`)
  t.notMatch(app.output(), /error|fail/i, 'the login went through: nothing went wrong on the way')
})
