// Metrics on without prom-client installed: start-up fails with FST_NACOS_METRICS_UNAVAILABLE,
// saying why and how to fix it. prom-client is installed here (a dev dependency), so a resolve hook
// (test/fixtures/no-prom-client.mjs) has Node resolve it from an empty directory, as in an app
// that lacks it: the plugin's loader meets Node's real ERR_MODULE_NOT_FOUND.
import t from 'tap'
import Fastify from 'fastify'
import { register } from 'node:module'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import nacos from '../src/index.ts'
import { NACOS_ADDR } from './helpers/nacos-api.ts'
import { TRANSPORTS } from './helpers/transports.ts'

const empty = mkdtempSync(join(tmpdir(), 'no-prom-client-'))
t.teardown(() => { rmSync(empty, { recursive: true, force: true }) })
register(new URL('./fixtures/no-prom-client.mjs', import.meta.url), { data: { parentURL: pathToFileURL(join(empty, 'app.mjs')).href } })

t.test('the hook makes prom-client unresolvable in this process', async (t) => {
  await t.rejects(import('prom-client'), { message: /Cannot find package 'prom-client'/ })
})

for (const transport of TRANSPORTS) {
  for (const [how, options] of [['the metrics option', { metrics: true }], ['NACOS_METRICS=true', { env: { NACOS_METRICS: 'true' } }]] as const) {
    t.test(`${transport}, metrics on by ${how}, prom-client missing: start-up fails with FST_NACOS_METRICS_UNAVAILABLE`, async (t) => {
      const app = Fastify()
      t.teardown(async () => { await app.close() })
      await app.register(nacos, { serverAddr: NACOS_ADDR, transport, serviceName: 'metrics-unavailable', registerEnabled: false, handleSignals: false, dotenv: false, logLevel: 'silent', ...options })
        .then(() => t.fail('registered without prom-client'), (err: Error & { code?: string }) => {
          t.equal(err.code, 'FST_NACOS_METRICS_UNAVAILABLE')
          t.match(err.message, /Cannot find package 'prom-client'/, 'says why, in Node\'s words')
          t.match(err.message, /npm install prom-client/, 'and how to fix it')
        })
    })
  }
}
