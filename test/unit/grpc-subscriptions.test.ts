// The gRPC transport's subscriptions (src/transport/grpc/subscriptions.ts) on a scripted caller,
// no server: the order in which lists are delivered across a reconnect to a server whose clock
// is behind the first one's, and the list a query takes from a confirmed subscription.
import t from 'tap'
import { Subscriptions } from '../../src/transport/grpc/subscriptions.ts'
import type { Json } from '../../src/transport/grpc/proto.ts'
import type { ServiceSnapshot } from '../../src/transport/types.ts'

const REF = { service: 'orders', group: 'DEFAULT_GROUP', clusters: [] }
const host = (port: number) => ({ ip: '127.0.0.1', port, healthy: true, enabled: true, weight: 1 })
const info = (ports: number[], lastRefTime: number) => ({ name: 'DEFAULT_GROUP@@orders', groupName: 'DEFAULT_GROUP', hosts: ports.map(host), lastRefTime })

function setup (answer: () => Json) {
  let gen = 1
  const subs = new Subscriptions(async () => answer(), { namespace: '', generation: () => gen, sendingOn: () => gen, log: { info () {}, warn () {}, debug () {}, error () {} } })
  const seen: ServiceSnapshot[] = []
  subs.watch(REF, (s) => { seen.push(s) })
  return { subs, seen, reconnect: () => { gen++ } }
}

const ports = (s: ServiceSnapshot | undefined): number[] => s?.hosts.map((h) => h.port) ?? []

t.test('after a reconnect to a server whose clock is behind, its lists are taken and delivered in order', async (t) => {
  let next: Json = { serviceInfo: info([1], 10_000) }
  const { subs, seen, reconnect } = setup(() => next)
  await new Promise((resolve) => setImmediate(resolve))
  t.same(ports(seen.at(-1)), [1], 'the subscribe answer')
  subs.onPush({ serviceInfo: info([1, 2], 10_500) })
  t.same(ports(seen.at(-1)), [1, 2], 'a newer push on the same connection')
  subs.onPush({ serviceInfo: info([1], 10_400) })
  t.equal(seen.length, 2, 'an older push on the same connection is dropped')

  // Failover: the other node's clock is 8 s behind.
  reconnect()
  next = { serviceInfo: info([3], 2_600) }
  await subs.redo(2)
  t.equal(seen.length, 3, 'the new server\'s list is delivered although its date is older')
  t.same(ports(seen.at(-1)), [3])
  const first = seen.at(-1)?.lastRefTime ?? 0
  t.ok(first > 10_500, `dated after the last list delivered (${first}), so that discovery does not drop it`)
  subs.onPush({ serviceInfo: info([3, 4], 2_700) })
  t.same(ports(seen.at(-1)), [3, 4], 'the new server\'s next push too')
  t.equal((seen.at(-1)?.lastRefTime ?? 0) - first, 100, 'on the new server\'s scale, shifted')
  subs.onPush({ serviceInfo: info([3], 2_650) })
  t.equal(seen.length, 4, 'and an older one from it is dropped')
  t.same(ports(subs.live(REF)), [3, 4], 'a query is answered from the confirmed subscription')
  reconnect()
  t.equal(subs.live(REF), undefined, 'not after a reconnect, until the redo answers')
})
