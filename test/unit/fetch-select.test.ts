// Choosing the instance of each attempt and ejecting failing ones, without a server.
import t from 'tap'
import { candidates } from '../../src/naming/select.ts'
import { MAX_RECORDS, Outliers } from '../../src/naming/outliers.ts'
import { resolveFetchOptions } from '../../src/naming/fetch-options.ts'
import { trackBody } from '../../src/naming/interceptor.ts'
import { Readable } from 'node:stream'
import type { Instance } from '../../src/naming/balancer.ts'

function instance (port: number, over: Partial<Instance> = {}): Instance {
  return {
    instanceId: `10.0.0.1#${port}`, ip: '10.0.0.1', port, weight: 1, healthy: true, enabled: true, ephemeral: true,
    clusterName: 'DEFAULT', serviceName: 'svc', metadata: {}, ...over
  }
}
const ports = (list: readonly Instance[]): number[] => list.map((i) => i.port)
const none = { strategy: 'random' as const, tried: new Set<string>(), ejected: () => false }

t.test('never an instance Nacos marks unhealthy or disabled, nor one without the selected metadata', async (t) => {
  const list = [instance(1, { healthy: false }), instance(2, { enabled: false }), instance(3, { metadata: { version: '2' } }), instance(4, { metadata: { version: '1' } })]
  t.same(ports(candidates(list, none)), [3, 4])
  t.same(ports(candidates(list, { ...none, selector: { version: '2' } })), [3], 'canary: only version 2')
  t.same(ports(candidates(list, { ...none, selector: { version: '3' } })), [], 'no match: nothing, not a fallback to other versions')
  t.same(ports(candidates([instance(1, { healthy: false })], { ...none, tried: new Set(['10.0.0.1:1']) })), [], 'an unhealthy one is not picked even as a last resort')
})

t.test('the caller\'s own cluster first, the others once none of it is left', async (t) => {
  const list = [instance(1, { clusterName: 'A' }), instance(2, { clusterName: 'B' }), instance(3, { clusterName: 'A' })]
  t.same(ports(candidates(list, { ...none, cluster: 'A' })), [1, 3])
  t.same(ports(candidates(list, { ...none, cluster: 'A', tried: new Set(['10.0.0.1:1', '10.0.0.1:3']) })), [2], 'both A tried: B')
  t.same(ports(candidates(list, { ...none, cluster: 'A', ejected: (k) => k !== '10.0.0.1:2' })), [2], 'both A ejected: B')
  t.same(ports(candidates(list, { ...none, cluster: 'C' })), [1, 2, 3], 'no instance in the own cluster: all')
})

t.test('instances not tried and not ejected first; when every one is ejected, one of them still beats no answer', async (t) => {
  const list = [instance(1), instance(2), instance(3)]
  t.same(ports(candidates(list, { ...none, tried: new Set(['10.0.0.1:1']), ejected: (k) => k === '10.0.0.1:2' })), [3])
  t.same(ports(candidates(list, { ...none, tried: new Set(['10.0.0.1:3']), ejected: (k) => k !== '10.0.0.1:3' })), [1, 2], 'untried but ejected before tried')
  t.same(ports(candidates(list, { ...none, tried: new Set(['10.0.0.1:1', '10.0.0.1:2', '10.0.0.1:3']), ejected: (k) => k === '10.0.0.1:1' })), [2, 3], 'all tried: the ones not ejected')
  t.same(ports(candidates(list, { ...none, ejected: () => true })), [1, 2, 3], 'all ejected: any')
})

t.test('ejected after 3 failures in a row, for longer each time, back by itself, forgiven by a success', async (t) => {
  let now = 0
  const outliers = new Outliers({ failures: 3, baseMs: 1000, maxMs: 4000 }, () => now)
  t.equal(outliers.failure('a'), 0)
  t.equal(outliers.failure('a'), 0)
  outliers.success('a')
  t.equal(outliers.failure('a'), 0, 'a success resets the count')
  t.equal(outliers.failure('a'), 0)
  const first = outliers.failure('a')
  t.ok(first >= 500 && first <= 1000, `ejected for ${first} ms`)
  t.ok(outliers.ejected('a'))
  t.equal(outliers.failure('a'), 0, 'failures of requests already in flight do not extend it')
  now += first
  t.notOk(outliers.ejected('a'), 'back by itself once the time is up')
  const second = outliers.failure('a')
  t.ok(second >= 1000 && second <= 2000, `the trial fails: ejected again, longer (${second} ms)`)
  now += second
  const third = outliers.failure('a')
  t.ok(third >= 2000 && third <= 4000, `and again (${third} ms)`)
  now += third
  const capped = outliers.failure('a')
  t.ok(capped >= 2000 && capped <= 4000, `capped at maxMs (${capped} ms)`)
  now += capped
  outliers.success('a')
  t.equal(outliers.failure('a'), 0, 'after a success it takes 3 failures again')
  t.notOk(outliers.ejected('b'))
})

t.test('outlier records are forgotten maxMs after the last failure and the ejection\'s end', async (t) => {
  let now = 0
  const outliers = new Outliers({ failures: 3, baseMs: 1000, maxMs: 4000 }, () => now)
  outliers.failure('a')
  outliers.failure('a')
  now += 3999
  const ms = outliers.failure('a')
  t.ok(ms > 0, 'within maxMs the failures add up: ejected')
  now += ms + 3999
  outliers.failure('b')
  t.equal(outliers.size, 2, 'a is kept until its ejection has been over for maxMs')
  now += 4000
  outliers.failure('c')
  t.equal(outliers.size, 1, 'then swept on a later failure of any instance (b too: maxMs since its failure)')
  outliers.failure('a')
  outliers.failure('a')
  const again = outliers.failure('a')
  t.ok(again > 0 && again <= 1000, `a starts afresh: its next ejection is as short as the first (${again} ms)`)
})

t.test('churning 20 000 instances that fail and leave keeps the records bounded, and ejection still works', async (t) => {
  let now = 0
  const outliers = new Outliers({ failures: 3, baseMs: 1000, maxMs: 30_000 }, () => now)
  let most = 0
  // Pods replaced every 20 ms of the fake clock: each fails three times (ejected), then is gone for good.
  for (let i = 0; i < 20_000; i++) {
    const key = `10.1.${i >> 8}.${i & 255}:8080`
    outliers.failure(key); outliers.failure(key)
    if (outliers.failure(key) === 0) t.fail(`${key} was not ejected`)
    now += 20
    most = Math.max(most, outliers.size)
  }
  // A record lives at most maxMs past its ejection's end (≤ 31 s) plus one sweep interval (30 s).
  t.ok(most <= 61_000 / 20 + 1, `at most 61 s / 20 ms + 1 records at a time (saw ${most})`)
  now += 61_000
  outliers.failure('10.2.0.1:8080')
  t.equal(outliers.size, 1, 'once every departed instance is stale, only the new record is left')
  t.ok(outliers.ejected('10.1.78.31:8080') === false)

  // Without time passing, the cap holds: the instance that failed longest ago goes first.
  const burst = new Outliers({}, () => 0)
  for (let i = 0; i < MAX_RECORDS * 3; i++) burst.failure(`10.3.${i >> 8}.${i & 255}:1`)
  t.equal(burst.size, MAX_RECORDS)
  const last = `10.3.${(MAX_RECORDS * 3 - 1) >> 8}.${(MAX_RECORDS * 3 - 1) & 255}:1`
  burst.failure(last); burst.failure(last)
  t.ok(burst.ejected(last), 'a recent one is still counted and ejected')
  t.notOk(burst.ejected('10.3.0.0:1'))
})

t.test('options: per request over the plugin\'s over the defaults; bad values are named', async (t) => {
  t.same(resolveFetchOptions({}), { service: undefined, group: 'DEFAULT_GROUP', clusters: [], strategy: 'weighted-random', selector: undefined, preferSameCluster: true, attempts: 3, timeout: 10_000, query: { group: 'DEFAULT_GROUP', clusters: [] } })
  t.match(resolveFetchOptions({ attempts: 2, group: 'G' }, { attempts: 1, service: 's' }), { attempts: 1, group: 'G', service: 's' })
  t.throws(() => resolveFetchOptions({ attempts: 0 }), { code: 'FST_NACOS_BAD_SETTING', message: /fetch\.attempts=0.*an integer from 1 to 10/ })
  t.throws(() => resolveFetchOptions({}, { timeout: -1 }), { code: 'FST_NACOS_BAD_SETTING' })
  t.throws(() => resolveFetchOptions({}, { strategy: 'fastest' as never }), { code: 'FST_NACOS_BAD_SETTING' })
})

t.test('a body can be sent again while nobody read it: buffers always, streams and iterables until read', async (t) => {
  t.ok(trackBody('text').replayable())
  t.ok(trackBody(Buffer.from('x')).replayable())
  t.ok(trackBody(null).replayable())
  const stream = Readable.from(['a', 'b'])
  const tracked = trackBody(stream)
  t.ok(tracked.replayable(), 'an untouched stream')
  stream.read()
  t.notOk(tracked.replayable(), 'a stream read from')
  for (const source of [(async function * () { yield Buffer.from('a') })(), [Buffer.from('a')]]) {
    const it = trackBody(source as never)
    t.ok(it.replayable(), 'an iterable nobody iterated')
    const chunks: Buffer[] = []
    for await (const chunk of it.body as unknown as AsyncIterable<Buffer>) chunks.push(chunk)
    t.same(Buffer.concat(chunks).toString(), 'a', 'the wrapper yields the same bytes')
    t.notOk(it.replayable(), 'an iterated one')
  }
})
