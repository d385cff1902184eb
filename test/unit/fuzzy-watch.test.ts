// Fuzzy watch logic without a server: Nacos's pattern matching per part, and what the caller gets
// when the server refuses a pattern for its limits (a stand-in watch function, not Nacos, answers
// with Nacos 3's error codes as the gRPC transport reports them).
import t from 'tap'
import { partMatches } from '../../src/transport/grpc/fuzzy.ts'
import { startFuzzyWatch } from '../../src/fuzzy.ts'
import { GrpcTransportError } from '../../src/transport/grpc/errors.ts'
import { toNacosError } from '../../src/transport/nacos-errors.ts'

t.test('a part matches as Nacos matches it: exact, *, prefix*, *suffix, *infix*', async (t) => {
  t.ok(partMatches('orders', 'orders'))
  t.notOk(partMatches('orders', 'orders-api'))
  t.ok(partMatches('*', 'anything'))
  t.ok(partMatches('orders-*', 'orders-api'))
  t.notOk(partMatches('orders-*', 'my-orders-api'))
  t.ok(partMatches('*-api', 'orders-api'))
  t.notOk(partMatches('*-api', 'orders-api-v2'))
  t.ok(partMatches('*ders*', 'orders-api'))
  t.notOk(partMatches('or*rs', 'orders'), 'a * inside never matches on the server either')
})

for (const [code, setting] of [[50310, /max\.pattern\.count/], [50311, /max\.pattern\.match\.service\.count/]] as const) {
  t.test(`the server's limit (error ${code}) reaches the caller as FST_NACOS_FUZZY_WATCH_LIMIT naming the setting`, async (t) => {
    const refused = async (): Promise<never> => {
      throw toNacosError(new GrpcTransportError('server', `Nacos refused NamingFuzzyWatchRequest (error ${code})`, { errorCode: code, requestType: 'NamingFuzzyWatchRequest' }), 'naming fuzzyWatch')
    }
    await t.rejects(startFuzzyWatch(refused, 'services', undefined, 'orders-*', () => {}), { code: 'FST_NACOS_FUZZY_WATCH_LIMIT', statusCode: 429, message: setting })
  })
}

t.test('an older server (no handler for the request) is FST_NACOS_FUZZY_WATCH_UNSUPPORTED', async (t) => {
  const err = toNacosError(new GrpcTransportError('unsupported', 'this Nacos server does not serve NamingFuzzyWatchRequest: fuzzy watch needs Nacos 3.0 or later'), 'naming fuzzyWatch')
  t.match(err, { code: 'FST_NACOS_FUZZY_WATCH_UNSUPPORTED', message: /Nacos 3\.0 or later/ })
})
