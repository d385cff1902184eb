// What /health answers for each registration state (no server): DOWN only when this instance
// should get no traffic; a Nacos outage after it registered is UP, degraded.
import t from 'tap'
import { healthOf } from '../../src/routes/views.ts'

const at = '2026-01-01T00:00:00.000Z'
const on = { registerEnabled: true, healthRequiresRegistration: false }
const strict = { registerEnabled: true, healthRequiresRegistration: true }

t.test('registered, or registration disabled: UP', async (t) => {
  t.same(healthOf({ state: 'registered', registeredAt: at }, on), { status: 'UP', state: 'registered' })
  t.same(healthOf({ state: 'idle', registeredAt: null }, { registerEnabled: false, healthRequiresRegistration: false }), { status: 'UP', state: 'idle' })
})

t.test('Nacos unreachable (or it lost the instance) after this instance registered: UP, degraded', async (t) => {
  for (const state of ['retrying', 'registering'] as const) {
    const health = healthOf({ state, registeredAt: at }, on)
    t.match(health, { status: 'UP', state, degraded: true, detail: /serving from the local cache and snapshots/ }, state)
  }
})

t.test('started while Nacos is down: UP, degraded, unless NACOS_HEALTH_REQUIRES_REGISTRATION', async (t) => {
  t.match(healthOf({ state: 'retrying', registeredAt: null }, on), { status: 'UP', degraded: true, detail: /has not answered since start-up/ })
  t.match(healthOf({ state: 'retrying', registeredAt: null }, strict), { status: 'DOWN', reason: /not registered: Nacos does not answer/ })
  t.match(healthOf({ state: 'retrying', registeredAt: at }, strict), { status: 'UP', degraded: true }, 'registered before: an outage all the same')
})

t.test('deregistered, closing, not listening yet: DOWN with the reason', async (t) => {
  t.match(healthOf({ state: 'registering', registeredAt: null }, on), { status: 'DOWN', reason: /registration in progress/ })
  t.match(healthOf({ state: 'idle', registeredAt: null }, on), { status: 'DOWN', reason: /does not listen yet/ })
  // The registry clears registeredAt when it deregisters (by the user, or in preClose).
  t.match(healthOf({ state: 'deregistered', registeredAt: null }, on), { status: 'DOWN', reason: 'deregistered from Nacos' })
})
