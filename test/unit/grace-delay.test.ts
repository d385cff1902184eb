// A drain delay that does not fit in closeGraceDelay is a bad setting at start-up, not an exit
// with code 1 in the middle of a drain (close-with-grace forces it once the delay has passed).
// No Nacos is needed: the check comes before the transport is made.
import t from 'tap'
import Fastify from 'fastify'
import nacos from '../../src/index.ts'

const base = { serverAddr: '127.0.0.1:1', serviceName: 'grace', dotenv: false, logLevel: 'silent' as const }

t.test('drain delay + request timeout not under closeGraceDelay: FST_NACOS_BAD_SETTING naming both', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await t.rejects(async () => { await app.register(nacos, { ...base, drainDelay: 8, closeGraceDelay: 10_000 }) }, {
    code: 'FST_NACOS_BAD_SETTING',
    message: /closeGraceDelay \(10000 ms\).*NACOS_DRAIN_DELAY \(8000 ms\).*NACOS_REQUEST_TIMEOUT \(5000 ms/
  })
})

t.test('it fits, or signals are not handled by the plugin: no error from the check', async (t) => {
  for (const opts of [{ drainDelay: 4, closeGraceDelay: 10_000 }, { drainDelay: 8, closeGraceDelay: 20_000 }, { drainDelay: 8, closeGraceDelay: 10_000, handleSignals: false }, { closeGraceDelay: 1000 }]) {
    const app = Fastify()
    // Registration fails later (no Nacos on port 1 with failFast, or not at all): only the check's error matters.
    const err = await (async () => { await app.register(nacos, { ...base, ...opts }) })().then(() => undefined, (e: unknown) => e as { message?: string })
    t.notMatch(String(err?.message ?? ''), /closeGraceDelay/, JSON.stringify(opts))
    await app.close()
  }
})
