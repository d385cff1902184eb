// What /health answers for each registration state (no server): DOWN only when this instance
// should get no traffic; a Nacos outage after it registered is UP, degraded.
import t from 'tap'
import { healthOf } from '../../src/routes/views.ts'

const at = '2026-01-01T00:00:00.000Z'

t.test('registered, or registration disabled: UP', async (t) => {
  t.same(healthOf({ state: 'registered', registeredAt: at }, true), { status: 'UP', state: 'registered' })
  t.same(healthOf({ state: 'idle', registeredAt: null }, false), { status: 'UP', state: 'idle' })
})

t.test('Nacos unreachable (or it lost the instance) after this instance registered: UP, degraded', async (t) => {
  for (const state of ['retrying', 'registering'] as const) {
    const health = healthOf({ state, registeredAt: at }, true)
    t.match(health, { status: 'UP', state, degraded: true, detail: /serving from the local cache and snapshots/ }, state)
  }
})

t.test('never registered, deregistered or closing: DOWN with the reason', async (t) => {
  t.match(healthOf({ state: 'retrying', registeredAt: null }, true), { status: 'DOWN', reason: /not registered: Nacos does not answer/ })
  t.match(healthOf({ state: 'registering', registeredAt: null }, true), { status: 'DOWN', reason: /registration in progress/ })
  t.match(healthOf({ state: 'idle', registeredAt: null }, true), { status: 'DOWN', reason: /does not listen yet/ })
  // The registry clears registeredAt when it deregisters (by the user, or in preClose).
  t.match(healthOf({ state: 'deregistered', registeredAt: null }, true), { status: 'DOWN', reason: 'deregistered from Nacos' })
})
