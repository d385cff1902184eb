// Discovery's cache over the fake transport (no server): first read shared, pushes and reads
// ordered by their time, empty lists passed on, outages served from the cache, close() ends all.
import t from 'tap'
import { Discovery } from '../../src/naming/discovery.ts'
import type { RawHost } from '../../src/transport/types.ts'
import { FakeNaming, deferred } from '../helpers/fake-transport.ts'
import { recordingLog } from '../helpers/instances.ts'
import { fakeClock } from '../helpers/clock.ts'

/** Lets the promises that are ready run (no time passes). */
const settle = async (): Promise<void> => { for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => { setImmediate(resolve) }) }

const host = (port: number, extra: Partial<RawHost> = {}): RawHost => ({ ip: '10.0.0.1', port, ...extra })
const ports = (list: ReadonlyArray<{ port: number }>): number[] => list.map((i) => i.port).sort((a, b) => a - b)

function setup (t: { teardown: (fn: () => void) => void }, refreshInterval = 60_000) {
  const naming = new FakeNaming()
  const { log, lines } = recordingLog()
  const discovery = new Discovery({ transport: naming, log, refreshInterval })
  t.teardown(() => { discovery.close() })
  return { naming, discovery, lines }
}

t.test('the first read is shared by concurrent callers, and fills instances with Nacos defaults', async (t) => {
  const { naming, discovery } = setup(t)
  naming.onQuery = async () => ({ hosts: [host(1, { metadata: { zone: 'a' } })], lastRefTime: 10 })
  const [a, b] = await Promise.all([discovery.instances('svc'), discovery.instances('svc')])
  t.equal(naming.calls.length, 1, 'one query')
  t.equal(a, b)
  t.same(a[0], { instanceId: '10.0.0.1#1#DEFAULT', ip: '10.0.0.1', port: 1, weight: 1, healthy: true, enabled: true, ephemeral: true, clusterName: 'DEFAULT', serviceName: 'svc', metadata: { zone: 'a' } })
  t.ok(Object.isFrozen(a) && Object.isFrozen(a[0]), 'the cache hands out frozen values')
  t.same(naming.calls, ['query DEFAULT_GROUP@@svc@@'])
  await discovery.instances('svc', { clusters: ['b', 'a', 'a'] })
  t.equal(naming.calls.at(-1), 'query DEFAULT_GROUP@@svc@@a,b', 'clusters sorted, without repeats')
})

t.test('a push newer than a read in flight wins; an older push is ignored', async (t) => {
  const { naming, discovery } = setup(t)
  const read = deferred<{ hosts: RawHost[], lastRefTime: number }>()
  naming.onQuery = async () => await read.promise
  const first = discovery.instances('svc')
  await settle()
  naming.push('svc', { hosts: [host(2)], lastRefTime: 200 })
  read.resolve({ hosts: [host(1)], lastRefTime: 100 })
  t.same(ports(await first), [2], 'the read (older) does not undo the push (newer)')
  naming.push('svc', { hosts: [host(3)], lastRefTime: 150 })
  t.same(ports(discovery.cached('svc') ?? []), [2], 'an older push is ignored')
  naming.push('svc', { hosts: [host(3)], lastRefTime: 300 })
  t.same(ports(discovery.cached('svc') ?? []), [3])
})

t.test('an empty push empties the cache: [] to subscribers, no pick; the same ip:port coming back is announced', async (t) => {
  const { naming, discovery } = setup(t)
  naming.onQuery = async () => ({ hosts: [host(1)], lastRefTime: 1 })
  const calls: number[][] = []
  discovery.subscribe('svc', (list) => calls.push(ports(list)))
  await discovery.instances('svc')
  naming.push('svc', { hosts: [], lastRefTime: 2 })
  t.equal(discovery.pickCached('svc'), undefined)
  await t.rejects(discovery.pick('svc'), { code: 'FST_NACOS_NO_INSTANCE', statusCode: 503, message: 'No available instance of service svc (group DEFAULT_GROUP)' })
  naming.push('svc', { hosts: [host(1)], lastRefTime: 3 })
  naming.push('svc', { hosts: [host(1)], lastRefTime: 4 })
  t.same(calls, [[1], [], [1]], 'told each change once; an identical list is no change')
  t.equal(discovery.pickCached('svc')?.port, 1)
})

t.test('Nacos unreachable: a warning once, the cache keeps answering; back: one info', async (t) => {
  const clock = fakeClock(t)
  const { naming, discovery, lines } = setup(t, 5)
  naming.onQuery = async () => ({ hosts: [host(1)], lastRefTime: 1 })
  await discovery.instances('svc')
  naming.onQuery = async () => { throw new Error('ECONNREFUSED') }
  await clock.tickAsync(40)
  t.ok(naming.calls.length >= 8, `re-read every 5 ms: ${naming.calls.length} queries in 40 ms`)
  t.equal((await discovery.pick('svc')).port, 1, 'served from the cache')
  t.equal(lines.filter((l) => l.level === 'warn').length, 1, 'warned once over several failed refreshes')
  const cold = await discovery.pick('never-read').catch((e: unknown) => e)
  t.match(cold, { code: 'FST_NACOS_NO_INSTANCE', cause: { message: 'ECONNREFUSED' } }, 'a cold service has nothing to serve, and says why')
  naming.onQuery = async () => ({ hosts: [host(1), host(2)], lastRefTime: Date.now() })
  await clock.tickAsync(5)
  t.same(ports(discovery.cached('svc') ?? []), [1, 2], 'the refresh loop picked the change up')
  t.equal(lines.filter((l) => l.level === 'info' && /reachable again/.test(l.msg)).length, 1)
})

t.test('a listener that throws is logged; the others are still told', async (t) => {
  const { naming, discovery, lines } = setup(t)
  naming.onQuery = async () => ({ hosts: [host(1)], lastRefTime: 1 })
  let told = 0
  discovery.subscribe('svc', () => { throw new Error('boom') })
  discovery.subscribe('svc', () => { told++ })
  await discovery.instances('svc')
  await settle()
  t.equal(told, 1)
  t.ok(lines.some((l) => l.level === 'error' && /listener threw/.test(l.msg)))
})

t.test('a subscriber added to a warm cache is told the current list; unsubscribe detaches', async (t) => {
  const { naming, discovery } = setup(t)
  naming.onQuery = async () => ({ hosts: [host(1)], lastRefTime: 1 })
  await discovery.instances('svc')
  const seen: number[][] = []
  const off = discovery.subscribe('svc', (list) => seen.push(ports(list)))
  await settle()
  off()
  naming.push('svc', { hosts: [host(2)], lastRefTime: 2 })
  t.same(seen, [[1]])
})

t.test('close() ends every watch and timer; a closed discovery refuses with FST_NACOS_CLOSED', async (t) => {
  const clock = fakeClock(t)
  const { naming, discovery } = setup(t, 5)
  naming.onQuery = async () => ({ hosts: [host(1)], lastRefTime: 1 })
  await discovery.instances('svc')
  await discovery.instances('other')
  t.equal(naming.watching('svc'), 1)
  discovery.close()
  t.equal(naming.watching('svc') + naming.watching('other'), 0)
  const queries = naming.calls.length
  t.equal(clock.countTimers(), 0, 'no timer left')
  await clock.tickAsync(30)
  t.equal(naming.calls.length, queries, 'no refresh after close')
  t.throws(() => discovery.cached('svc'), { code: 'FST_NACOS_CLOSED' })
})

t.test('a service with no instance, no listener and no lookup for a whole re-read interval is forgotten; the others are kept', async (t) => {
  const clock = fakeClock(t)
  const { naming, discovery } = setup(t, 20)
  naming.onQuery = async (ref) => ({ hosts: ref.service === 'empty' || ref.service === 'watched' ? [] : [host(1)], lastRefTime: 1 })
  await t.rejects(discovery.pick('empty'), { code: 'FST_NACOS_NO_INSTANCE' })
  await discovery.instances('full')
  discovery.subscribe('watched', () => {})
  await clock.tickAsync(19)
  t.equal(naming.watching('empty'), 1, 'followed during its first interval')
  await clock.tickAsync(21)
  t.equal(naming.watching('empty'), 0, 'the idle empty one: watch ended after a whole interval without a lookup')
  const queries = naming.calls.filter((c) => c.includes('@@empty@@')).length
  await clock.tickAsync(60)
  t.equal(naming.calls.filter((c) => c.includes('@@empty@@')).length, queries, 'and no longer re-read')
  t.equal(naming.watching('full'), 1, 'one with instances is kept')
  t.equal(naming.watching('watched'), 1, 'one with a listener is kept')

  // Looked up again: read afresh; looked up within each interval: kept while empty.
  naming.onQuery = async () => ({ hosts: [host(2)], lastRefTime: 2 })
  t.same(ports(await discovery.instances('empty')), [2], 'a later lookup reads it afresh')
  t.equal(naming.watching('empty'), 1)
  naming.onQuery = async () => ({ hosts: [], lastRefTime: 3 })
  naming.push('empty', { hosts: [], lastRefTime: 3 })
  for (let i = 0; i < 8; i++) {
    await clock.tickAsync(15)
    discovery.pickCached('empty')
  }
  t.equal(naming.watching('empty'), 1, 'kept while it is looked up')
})

t.test('release() ends what lookup() started — cache, re-reads and watch — but never a service the app uses', async (t) => {
  const { naming, discovery } = setup(t)
  naming.onQuery = async () => ({ hosts: [host(1)], lastRefTime: 1 })
  t.same(ports(await discovery.lookup('routes-only')), [1])
  t.equal(naming.watching('routes-only'), 1)
  discovery.release('routes-only')
  t.equal(naming.watching('routes-only'), 0, 'its subscription ended')
  t.equal(discovery.size, 0)

  await discovery.lookup('both')
  await discovery.instances('both')
  discovery.subscribe('listened', () => {})
  await discovery.lookup('listened')
  discovery.release('both')
  discovery.release('listened')
  t.equal(naming.watching('both'), 1, 'the app looked it up too: it stays')
  t.equal(naming.watching('listened'), 1, 'a listener is attached: it stays')

  const read = deferred<{ hosts: RawHost[], lastRefTime: number }>()
  naming.onQuery = async () => await read.promise
  const inFlight = discovery.lookup('slow')
  discovery.release('slow')
  read.resolve({ hosts: [host(2)], lastRefTime: 2 })
  t.same(ports(await inFlight), [2], 'a lookup released while its read was on the wire still answers')
  t.equal(naming.watching('slow'), 0)
  t.equal(discovery.size, 2)
})

t.test('5000 names looked up and released: nothing is left followed', async (t) => {
  const { naming, discovery } = setup(t)
  naming.onQuery = async () => ({ hosts: [host(1)], lastRefTime: 1 })
  let most = 0
  for (let i = 0; i < 5000; i++) {
    await discovery.lookup(`churn-${i}`)
    most = Math.max(most, discovery.size)
    if (i >= 10) discovery.release(`churn-${i - 10}`)
  }
  t.equal(most, 11, 'at most the 10 not released yet, plus the one being looked up')
  t.equal(naming.watching('churn-0'), 0)
  t.equal(naming.watching('churn-4999'), 1)
})

t.test('push-empty protection: an empty list keeps the last instances; a non-empty one still applies', async (t) => {
  const naming = new FakeNaming()
  const { log } = recordingLog()
  const discovery = new Discovery({ transport: naming, log, refreshInterval: 60_000, pushEmptyProtection: true })
  t.teardown(() => { discovery.close() })
  naming.onQuery = async () => ({ hosts: [host(1)], lastRefTime: 1 })
  const calls: number[][] = []
  discovery.subscribe('svc', (list) => calls.push(ports(list)))
  await discovery.instances('svc')
  naming.push('svc', { hosts: [], lastRefTime: 2 })
  t.same(ports(discovery.cached('svc') ?? []), [1], 'kept')
  t.ok(await discovery.pick('svc'))
  naming.push('svc', { hosts: [host(2)], lastRefTime: 3 })
  t.same(ports(discovery.cached('svc') ?? []), [2])
  await settle()
  t.same(calls, [[1], [2]], 'listeners never saw the empty list')
})
