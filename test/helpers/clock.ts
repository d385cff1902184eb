// A fake clock for unit tests of timing logic (refreshes, backoffs, expiries, pauses): setTimeout,
// setInterval (also node:timers/promises) and Date are faked for the one test that asks, and
// restored at its end. Time moves only when the test says, so a bound is exact on any machine,
// however loaded.
import FakeTimers from '@sinonjs/fake-timers'
import { syncBuiltinESMExports } from 'node:module'

export type Clock = ReturnType<typeof FakeTimers.install>

export function fakeClock (t: { teardown: (fn: () => void) => void }, now = 1_700_000_000_000): Clock {
  const clock = FakeTimers.install({ now, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
  // fake-timers patches node:timers/promises' CommonJS exports; ES module imports see it after this.
  syncBuiltinESMExports()
  t.teardown(() => {
    clock.uninstall()
    syncBuiltinESMExports()
  })
  return clock
}
