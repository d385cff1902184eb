// The monitoring API's looked-up services (src/routes/lookups.ts), on an injected clock: bounded,
// the least recently looked-up one makes room once idle for a minute, never a lockout for good.
import t from 'tap'
import { LOOKUP_IDLE_MS, LookedUp, MAX_LOOKUPS } from '../../src/routes/lookups.ts'

t.test('churning 10 000 names, one a second: at most 256 followed, each new one admitted, the least recent evicted', async (t) => {
  let now = 0
  const looked = new LookedUp<string>(MAX_LOOKUPS, LOOKUP_IDLE_MS, () => now)
  const evicted: string[] = []
  let refused = 0
  for (let i = 0; i < 10_000; i++) {
    if (!looked.admit(`svc-${i}`, `svc-${i}`, (name) => evicted.push(name))) refused++
    // A name the caller keeps using is never the one evicted.
    looked.admit('kept', 'kept', (name) => evicted.push(name))
    now += 1000
  }
  t.equal(refused, 0, 'no lookup refused: the oldest is always idle for more than a minute')
  t.equal(looked.size, MAX_LOOKUPS)
  t.equal(evicted.length, 10_000 + 1 - MAX_LOOKUPS, 'every name beyond the bound ended')
  t.same(evicted.slice(0, 3), ['svc-0', 'svc-1', 'svc-2'], 'least recently looked up first')
  t.notOk(evicted.includes('kept'))
  t.equal(new Set(evicted).size, evicted.length, 'each evicted once')
})

t.test('a burst of new names within a minute is refused once full, and admitted again once the oldest is idle', async (t) => {
  let now = 0
  const looked = new LookedUp<number>(3, 60_000, () => now)
  const evicted: number[] = []
  const evict = (n: number): void => { evicted.push(n) }
  t.ok(looked.admit('a', 1, evict) && looked.admit('b', 2, evict) && looked.admit('c', 3, evict))
  now += 59_999
  t.notOk(looked.admit('d', 4, evict), 'full, the oldest looked up less than a minute ago: refused')
  t.ok(looked.admit('a', 1, evict), 'a known name is always answered (and becomes the most recent)')
  now += 1
  t.ok(looked.admit('d', 4, evict), 'b, idle for a minute now, makes room')
  t.same(evicted, [2])
  t.ok(looked.admit('e', 5, evict), 'c, looked up with b, goes next')
  t.notOk(looked.admit('f', 6, evict), 'then a, looked up 1 ms ago, is the oldest: refused')
  t.same(evicted, [2, 3])
  t.equal(looked.size, 3)
})
