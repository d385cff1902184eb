// registered() and failFast over the fake transport (no server): the first registration under
// failFast is tried once and its failure is what registered() rejects with; without failFast,
// registered() waits through the retries. The app closing itself: test/fail-fast.test.ts.
import t from 'tap'
import { Registry } from '../../src/naming/registry.ts'
import { resolveSettings } from '../../src/resolve.ts'
import { FakeNaming } from '../helpers/fake-transport.ts'
import { recordingLog } from '../helpers/instances.ts'
import { fakeClock } from '../helpers/clock.ts'

function setup (settings: { failFast?: boolean, registerEnabled?: boolean } = {}) {
  const naming = new FakeNaming()
  const { log } = recordingLog()
  const config = resolveSettings({ serviceName: 'unit-svc', ip: '10.0.0.7', ...settings }, { env: {}, dotenv: false })
  const registry = new Registry({ transport: naming, config, log: log as never })
  return { naming, registry }
}

const registers = (naming: FakeNaming): number => naming.calls.filter((c) => c.startsWith('register')).length

for (const [what, reason] of [['refused by Nacos', 'Nacos refused InstanceRequest: 403 authorization failed'], ['unanswered', 'Nacos did not answer InstanceRequest within 3000 ms']] as const) {
  t.test(`failFast: a first registration ${what} is not retried; registered() rejects with FST_NACOS_REGISTRATION_FAILED`, async (t) => {
    const clock = fakeClock(t)
    const { naming, registry } = setup({ failFast: true })
    t.teardown(() => { registry.close() })
    const cause = new Error(reason)
    naming.onRegister = async () => { throw cause }
    const waiting = registry.registered()
    registry.listening(3000)
    registry.start()
    await t.rejects(waiting, { code: 'FST_NACOS_REGISTRATION_FAILED', statusCode: 503, message: `Registration of unit-svc with Nacos failed: ${reason}`, cause })
    await t.rejects(registry.registered(), { code: 'FST_NACOS_REGISTRATION_FAILED' }, 'asked later: the same verdict')
    naming.onRegister = async () => {}
    naming.connected()
    for (let i = 0; i < 60; i++) await clock.tickAsync(1000)
    t.equal(registers(naming), 1, 'one attempt in a minute, Nacos reachable again or not')
    t.not(registry.status().state, 'registered')
  })
}

t.test('failFast: once registered, a failed re-registration is no verdict: registered() waits for the next one', async (t) => {
  const { naming, registry } = setup({ failFast: true })
  t.teardown(() => { registry.close() })
  registry.listening(3000)
  registry.start()
  t.match(await registry.registered(), { state: 'registered', counts: { registrations: 1 } })
  naming.onRegister = async () => { throw new Error('ECONNREFUSED') }
  naming.current.events.lost()
  while (registry.status().state !== 'retrying') await new Promise((resolve) => setImmediate(resolve))
  const waiting = registry.registered()
  naming.onRegister = async () => {}
  naming.current.events.lost()
  t.match(await waiting, { state: 'registered', counts: { reRegistrations: 2, failedRegistrations: 1 } })
})

t.test('without failFast: registered() waits through the retries, from before listening on', async (t) => {
  const clock = fakeClock(t)
  const { naming, registry } = setup()
  t.teardown(() => { registry.close() })
  let failures = 3
  naming.onRegister = async () => { if (failures-- > 0) throw new Error('ECONNREFUSED') }
  const early = registry.registered()
  registry.listening(3000)
  registry.start()
  // Backoff pauses of 0.5, 1 and 2 s at most, on the fake clock.
  for (let i = 0; i < 10; i++) await clock.tickAsync(1000)
  const status = await early
  t.equal(status.state, 'registered')
  t.equal(status.counts.failedRegistrations, 3)
  t.equal(registers(naming), 4)
  t.equal((await registry.registered()).state, 'registered', 'at once when registered')
})

t.test('registered(): FST_NACOS_REGISTRATION_DISABLED when disabled; FST_NACOS_CLOSED for callers still waiting at close', async (t) => {
  await t.rejects(setup({ registerEnabled: false }).registry.registered(), { code: 'FST_NACOS_REGISTRATION_DISABLED' })
  const { naming, registry } = setup()
  naming.onRegister = async () => { throw new Error('ECONNREFUSED') }
  const waiting = registry.registered()
  registry.listening(3000)
  registry.start()
  registry.close()
  await t.rejects(waiting, { code: 'FST_NACOS_CLOSED', message: 'the Nacos registry is closed' })
  await t.rejects(registry.registered(), { code: 'FST_NACOS_CLOSED' })
})
