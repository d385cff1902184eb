// The gRPC transport's TLS and tunables from the settings: what is wrong stops start-up with one
// line (no Nacos needed: nothing is sent before a request is made).
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveSettings } from '../../src/resolve.ts'
import { loadTransport } from '../../src/transport/load.ts'
import type { AllSettings } from '../../src/settings.ts'

const dir = mkdtempSync(join(tmpdir(), 'nacos-tls-settings-'))
t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
const pemFile = join(dir, 'ca.pem')
writeFileSync(pemFile, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n')
const log = { info: () => {}, warn: () => {}, debug: () => {}, error: () => {}, child: () => log }

async function open (settings: AllSettings): Promise<void> {
  const config = resolveSettings({ serviceName: 's', ...settings }, { env: {}, dotenv: false })
  const { transport } = await loadTransport(config, log as never)
  await transport.close()
}

t.test('the tunables default to the Java client\'s timings', async (t) => {
  const c = resolveSettings({ serviceName: 's' }, { env: {}, dotenv: false })
  t.match(c, { grpcPortOffset: 1000, grpcHealthCheckIdleMs: 5000, grpcHealthCheckTimeoutMs: 3000, grpcReconnectMaxMs: 5000, grpcRedoIntervalMs: 3000 })
  t.match(resolveSettings({}, { env: { NACOS_SERVICE_NAME: 's', NACOS_GRPC_PORT_OFFSET: '2000', NACOS_GRPC_REDO_INTERVAL: '500' }, dotenv: false }), { grpcPortOffset: 2000, grpcRedoIntervalMs: 500 })
})

t.test('TLS files with an https:// server are read at start-up', async (t) => {
  await t.resolves(open({ serverAddr: 'https://127.0.0.1:1', tlsCa: pemFile, tlsServerName: 'nacos.test' }))
})

t.test('a TLS setting without https:// is an error, not ignored', async (t) => {
  await t.rejects(open({ serverAddr: '127.0.0.1:1', tlsCa: pemFile }), { code: 'FST_NACOS_BAD_SETTING', message: /NACOS_TLS_CA=.*write NACOS_SERVER_ADDR with https:\/\// })
  await t.rejects(open({ transport: 'http', serverAddr: 'https://127.0.0.1:1', tlsServerName: 'x' }), { code: 'FST_NACOS_BAD_SETTING', message: /NACOS_TLS_SERVER_NAME=.*NODE_EXTRA_CA_CERTS/ })
})

t.test('a client certificate needs its key; a missing file is named', async (t) => {
  await t.rejects(open({ serverAddr: 'https://127.0.0.1:1', tlsCert: pemFile }), { code: 'FST_NACOS_BAD_SETTING', message: /both NACOS_TLS_CERT and NACOS_TLS_KEY/ })
  await t.rejects(open({ serverAddr: 'https://127.0.0.1:1', tlsCa: join(dir, 'nope.pem') }), { code: 'FST_NACOS_BAD_SETTING', message: /NACOS_TLS_CA=.*nope\.pem.*a readable PEM file \(ENOENT\)/ })
})
