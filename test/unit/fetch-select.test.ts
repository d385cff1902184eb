// Choosing the instance of each attempt and ejecting failing ones, without a server.
import t from 'tap'
import { candidates } from '../../src/naming/select.ts'
import { Outliers } from '../../src/naming/outliers.ts'
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
  outliers.failure('a')
  now += 10_000
  const capped = outliers.failure('a')
  t.ok(capped <= 4000, `capped at maxMs (${capped} ms)`)
  now += capped
  outliers.success('a')
  t.equal(outliers.failure('a'), 0, 'after a success it takes 3 failures again')
  t.notOk(outliers.ejected('b'))
})

t.test('options: per request over the plugin\'s over the defaults; bad values are named', async (t) => {
  t.same(resolveFetchOptions({}), { service: undefined, group: 'DEFAULT_GROUP', clusters: [], strategy: 'weighted-random', selector: undefined, preferSameCluster: true, attempts: 3, timeout: 10_000 })
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
