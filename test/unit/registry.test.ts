// The registry's state machine over the fake transport (no server): registration with backoff,
// keep-alive events turned into states and counters, re-registration when the transport says
// "lost", and close or deregister while a request is still on the wire.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { Registry, REGISTER_RETRY_MAX_MS } from '../../src/naming/registry.ts'
import { resolveSettings } from '../../src/resolve.ts'
import { FakeNaming, deferred } from '../helpers/fake-transport.ts'
import { recordingLog } from '../helpers/instances.ts'
import { fakeClock } from '../helpers/clock.ts'

function setup (options: { registerEnabled?: boolean, retryDelay?: (attempt: number) => number } = {}) {
  const naming = new FakeNaming()
  const { log, lines } = recordingLog()
  const config = resolveSettings({ serviceName: 'unit-svc', ip: '10.0.0.7', registerEnabled: options.registerEnabled ?? true }, { env: {}, dotenv: false })
  const registry = new Registry({ transport: naming, config, log: log as never, retryDelay: options.retryDelay ?? (() => 5) })
  return { naming, registry, lines }
}

const until = async (check: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met')
    await sleep(2)
  }
}

t.test('registers once listening, then keeps the instance alive; alive() counts beats', async (t) => {
  const { naming, registry } = setup()
  registry.listening(3000)
  registry.start()
  await until(() => registry.status().state === 'registered')
  t.match(registry.status().instance, { serviceName: 'unit-svc', ip: '10.0.0.7', port: 3000, metadata: { 'preserved.heart.beat.interval': '5000' } })
  t.same(naming.calls, ['register unit-svc', 'keepAlive unit-svc'])
  naming.current.events.alive()
  naming.current.events.alive()
  t.equal(registry.status().counts.beats, 2)
  t.ok(registry.status().lastBeatAt !== null)
})

t.test('lost(): registers again at once, restarts the keep-alive, counts a re-registration', async (t) => {
  const { naming, registry, lines } = setup()
  registry.listening(3000)
  await registry.register()
  const first = naming.current
  first.events.lost()
  t.equal(registry.status().state, 'registering')
  await until(() => registry.status().state === 'registered')
  t.equal(registry.status().counts.reRegistrations, 1)
  t.equal(registry.status().counts.registrations, 2)
  t.ok(first.stopped, 'the old keep-alive is stopped')
  t.equal(naming.kept.length, 2, 'a new one started')
  first.events.failed(new Error('late answer of the stopped loop'))
  t.equal(registry.status().counts.failedBeats, 0, 'a stopped keep-alive changes nothing')
  t.equal(registry.status().state, 'registered')
  t.ok(lines.some((l) => l.level === 'warn' && /no longer knows/.test(l.msg)))
})

t.test('lost() while Nacos refuses: retrying until a later lost() registers again', async (t) => {
  const { naming, registry } = setup()
  registry.listening(3000)
  await registry.register()
  naming.onRegister = async () => { throw new Error('HTTP 500') }
  naming.current.events.lost()
  await until(() => registry.status().state === 'retrying')
  t.equal(registry.status().lastError, 'HTTP 500')
  t.equal(registry.status().counts.failedRegistrations, 1)
  naming.onRegister = async () => {}
  naming.current.events.lost()
  await until(() => registry.status().state === 'registered')
  t.equal(registry.status().counts.reRegistrations, 2)
})

t.test('failed(): counted, state retrying with the cause; the next alive() is registered again', async (t) => {
  const { naming, registry } = setup()
  registry.listening(3000)
  await registry.register()
  naming.current.events.failed(new Error('PUT http://n:8848/nacos/v1/ns/instance/beat: ECONNREFUSED'))
  t.equal(registry.status().state, 'retrying')
  t.equal(registry.status().counts.failedBeats, 1)
  t.match(registry.status().lastError, /ECONNREFUSED/)
  naming.current.events.alive()
  t.equal(registry.status().state, 'registered')
  t.equal(registry.status().lastError, null)
})

t.test('registeredAgain() (the transport redid the registration itself): registered, counted as a re-registration, dated now', async (t) => {
  const clock = fakeClock(t)
  const { naming, registry } = setup()
  registry.listening(3000)
  await registry.register()
  const first = registry.status().registeredAt as string
  naming.current.events.failed(new Error('nacos grpc connection lost'))
  t.equal(registry.status().state, 'retrying')
  clock.tick(5)
  naming.current.events.registeredAgain()
  const s = registry.status()
  t.equal(s.state, 'registered')
  t.equal(s.lastError, null)
  t.equal(s.counts.reRegistrations, 1)
  t.equal(s.counts.registrations, 1, 'the plugin itself registered once')
  t.equal(s.counts.beats, 0, 'not a beat')
  t.equal(Date.parse(s.registeredAt as string) - Date.parse(first), 5, `registeredAt moved from ${first} to ${s.registeredAt}`)
})

t.test('backoff: failed attempts are retried with the delay of their attempt number', async (t) => {
  const attempts: number[] = []
  const { naming, registry } = setup({ retryDelay: (attempt) => { attempts.push(attempt); return 1 } })
  let failures = 3
  naming.onRegister = async () => { if (failures-- > 0) throw new Error('ECONNREFUSED') }
  registry.listening(3000)
  registry.start()
  await until(() => registry.status().state === 'registered')
  t.same(attempts, [0, 1, 2], 'one delay per failure, growing attempt numbers')
  t.equal(registry.status().counts.failedRegistrations, 3)
  t.equal(registry.status().counts.registrations, 1)
})

t.test('register(): rejects with FST_NACOS_REGISTRATION_FAILED and keeps retrying in the background', async (t) => {
  const { naming, registry } = setup()
  registry.listening(3000)
  naming.onRegister = async () => { throw new Error('refused') }
  await t.rejects(registry.register(), { code: 'FST_NACOS_REGISTRATION_FAILED', message: 'Registration of unit-svc with Nacos failed: refused' })
  naming.onRegister = async () => {}
  await until(() => registry.status().state === 'registered')
  registry.close()
})

t.test('register() before listening or when disabled: 409 errors', async (t) => {
  await t.rejects(setup().registry.register(), { code: 'FST_NACOS_NOT_LISTENING', statusCode: 409 })
  const disabled = setup({ registerEnabled: false })
  disabled.registry.listening(1)
  disabled.registry.start()
  await t.rejects(disabled.registry.register(), { code: 'FST_NACOS_REGISTRATION_DISABLED' })
  t.same(disabled.naming.calls, [], 'nothing sent')
})

t.test('deregister during a registration on the wire: waits for it to land, then deregisters; no keep-alive', async (t) => {
  const { naming, registry } = setup()
  const landing = deferred()
  naming.onRegister = async () => await landing.promise
  registry.listening(3000)
  registry.start()
  await until(() => naming.calls.length === 1)
  const done = registry.deregister()
  await sleep(10)
  t.same(naming.calls, ['register unit-svc'], 'deregistration waits for the registration')
  landing.resolve()
  await done
  t.same(naming.calls, ['register unit-svc', 'deregister unit-svc'])
  t.equal(registry.status().state, 'deregistered')
  t.equal(registry.status().counts.deregistrations, 1)
  t.equal(registry.status().counts.registrations, 1, 'the landed registration is counted: Nacos accepted it')
  t.equal(naming.kept.length, 0, 'the landed registration starts no keep-alive')
})

t.test('registeredAt is cleared once deregistered: /health tells a deregistered instance from a Nacos outage', async (t) => {
  const { registry } = setup()
  registry.listening(3000)
  await registry.register()
  t.type(registry.status().registeredAt, 'string')
  await registry.deregister()
  t.equal(registry.status().registeredAt, null)
})

t.test('close during a registration on the wire: nothing starts afterwards; late events are ignored', async (t) => {
  const { naming, registry } = setup()
  await (async () => { registry.listening(3000); await registry.register() })()
  const old = naming.current
  const landing = deferred()
  naming.onRegister = async () => await landing.promise
  old.events.lost()
  registry.close()
  landing.resolve()
  await sleep(10)
  t.ok(old.stopped, 'close() stops the keep-alive')
  t.equal(naming.kept.length, 1, 'no new keep-alive after close')
  const before = registry.status().counts
  old.events.alive()
  old.events.failed(new Error('late'))
  old.events.lost()
  t.same(registry.status().counts, before, 'events of a stopped keep-alive change nothing')
})

t.test('concurrent deregister() calls share one request; a failed one leaves the state deregistered with the cause', async (t) => {
  const { naming, registry } = setup()
  registry.listening(3000)
  await registry.register()
  naming.onDeregister = async () => { throw new Error('timeout') }
  await Promise.all([registry.deregister(), registry.deregister()])
  t.equal(naming.calls.filter((c) => c.startsWith('deregister')).length, 1)
  t.equal(registry.status().state, 'deregistered')
  t.equal(registry.status().lastError, 'timeout')
  t.equal(registry.status().counts.deregistrations, 0)
})

t.test('the transport (re)connects: a registration waiting out its backoff is tried at once', async (t) => {
  const { naming, registry } = setup({ retryDelay: () => 60_000 })
  t.teardown(() => { registry.close() })
  naming.onRegister = async () => { throw new Error('no connection') }
  registry.listening(3000)
  registry.start()
  await until(() => registry.status().state === 'retrying')
  naming.onRegister = async () => {}
  await sleep(20)
  t.equal(registry.status().state, 'retrying', 'still waiting out a 60 s backoff')
  naming.connected()
  await until(() => registry.status().state === 'registered', 500)
  t.same(naming.calls, ['register unit-svc', 'register unit-svc', 'keepAlive unit-svc'])
})

t.test('the default registration backoff is capped at 5 s', async (t) => {
  const clock = fakeClock(t)
  // The top of each jitter range: the longest pauses the backoff can draw.
  const random = Math.random
  Math.random = () => 1
  t.teardown(() => { Math.random = random })
  const naming = new FakeNaming()
  naming.onRegister = async () => { throw new Error('ECONNREFUSED') }
  const { log } = recordingLog()
  const config = resolveSettings({ serviceName: 'unit-svc', ip: '10.0.0.7' }, { env: {}, dotenv: false })
  const registry = new Registry({ transport: naming, config, log: log as never })
  t.teardown(() => { registry.close() })
  registry.listening(3000)
  registry.start()
  for (let i = 0; i < 600; i++) await clock.tickAsync(100)
  // Pauses 0.5, 1, 2, 4, then 5 s each: 15 attempts in 60 s (a 10 s cap would make 10).
  t.equal(naming.calls.length, 15, `attempts in 60 s: ${naming.calls.length}`)
  t.equal(REGISTER_RETRY_MAX_MS, 5000)
})
