// Pieces of the gRPC transport that need no server: the hand-written codec of Nacos's Payload
// message (what it writes must be what protobuf writes, checked against bytes built by hand from
// the .proto's field numbers; it reads what it writes and skips fields it does not know), the
// AK/SK signature headers and md5 (server addresses: test/unit/server-addr.test.ts).
import t from 'tap'
import { createHmac } from 'node:crypto'
import { Auth } from '../src/transport/grpc/auth.ts'
import { decodePayload, encodePayload, jsonPayload, parseBody } from '../src/transport/grpc/proto.ts'
import { GrpcConfig, md5Hex } from '../src/transport/grpc/config.ts'
import { GrpcTransportError } from '../src/transport/grpc/errors.ts'
import { fakeClock } from './helpers/clock.ts'

t.test('encodes Payload{metadata=2{type=3, headers=7, clientIp=8}, body=3{value=2}} as protobuf does', async (t) => {
  const bytes = encodePayload({ type: 'A', clientIp: 'B', headers: { k: 'v' }, body: Buffer.from('{}') })
  const metadata = [0x1a, 1, 0x41, 0x3a, 6, 0x0a, 1, 0x6b, 0x12, 1, 0x76, 0x42, 1, 0x42]
  const any = [0x12, 2, 0x7b, 0x7d]
  t.same([...bytes], [0x12, metadata.length, ...metadata, 0x1a, any.length, ...any])
})

t.test('round trip: unicode, many headers, a body over 128 bytes (multi-byte lengths), empty body', async (t) => {
  const headers: Record<string, string> = {}
  for (let i = 0; i < 50; i++) headers[`h${i}`] = 'x'.repeat(i)
  const body = { content: '配置 ✓ '.repeat(100), n: 1 }
  const decoded = decodePayload(encodePayload(jsonPayload('ConfigPublishRequest', body, headers, '10.0.0.1')))
  t.equal(decoded.type, 'ConfigPublishRequest')
  t.equal(decoded.clientIp, '10.0.0.1')
  t.same(decoded.headers, headers)
  t.same(parseBody(decoded), body)
  const empty = decodePayload(encodePayload({ type: 'HealthCheckRequest', body: new Uint8Array(0) }))
  t.same(parseBody(empty), {})
  t.equal(empty.type, 'HealthCheckRequest')
})

t.test('unknown fields (varint, fixed64, fixed32, nested) are skipped; truncated input throws', async (t) => {
  const known = encodePayload(jsonPayload('X', { a: 1 }))
  const unknown = Buffer.from([0x08, 0x96, 0x01, 0x21, 1, 2, 3, 4, 5, 6, 7, 8, 0x2d, 1, 2, 3, 4, 0x3a, 2, 0x08, 0x01])
  const decoded = decodePayload(Buffer.concat([unknown, known]))
  t.equal(decoded.type, 'X')
  t.same(parseBody(decoded), { a: 1 })
  t.throws(() => decodePayload(known.subarray(0, known.length - 2)), /truncated/)
})

t.test('md5 as the server computes it: "" for no content, hex of the UTF-8 bytes otherwise', async (t) => {
  t.equal(md5Hex(null), '')
  t.equal(md5Hex(''), 'd41d8cd98f00b204e9800998ecf8427e')
  t.equal(md5Hex('配置'), '224e2ccda861c2514faa683b3683c361')
})

t.test('AK/SK: naming and config signature headers as the Java client computes them; no login without a username', async (t) => {
  const log = { info: () => {}, warn: () => {}, error: () => {} }
  const auth = new Auth({ servers: [{ host: '127.0.0.1', port: 1 }], accessKey: 'AK1', secretKey: 'SK1', timeoutMs: 100, log })
  const sign = (data: string): string => createHmac('sha1', 'SK1').update(data).digest('base64')
  const before = Date.now()
  const naming = await auth.headers({ module: 'naming', namespace: 'public', group: 'G', service: 'svc' })
  t.equal(naming.ak, 'AK1')
  const [ts, rest] = [naming.data?.split('@@')[0], naming.data?.split('@@').slice(1).join('@@')]
  t.equal(rest, 'G@@svc', 'data = <ms>@@<group>@@<service>')
  t.ok(Number(ts) >= before && Number(ts) <= Date.now())
  t.equal(naming.signature, sign(naming.data as string))
  t.notOk('accessToken' in naming, 'no token without a username')

  const config = await auth.headers({ module: 'config', tenant: 'ns1', group: 'G' })
  t.equal(config['Spas-AccessKey'], 'AK1')
  t.equal(config['Spas-Signature'], sign(`ns1+G+${config.Timestamp as string}`), 'signs <tenant>+<group>+<ms>')
  const publicNs = await auth.headers({ module: 'config', tenant: '', group: 'G' })
  t.equal(publicNs['Spas-Signature'], sign(`G+${publicNs.Timestamp as string}`), 'no tenant: <group>+<ms>')
  const listen = await auth.headers({ module: 'config', tenant: '', group: '' })
  t.equal(listen['Spas-Signature'], sign(listen.Timestamp as string), 'no resource: the timestamp alone')
  t.ok(Object.values({ ...naming, ...config }).every((v) => !v.includes('SK1')), 'the secret key itself is never sent')
  auth.close()
})

t.test('login: an unreachable server gives an auth error that names it and not the password', async (t) => {
  const log = { info: () => {}, warn: () => {}, error: () => {} }
  const auth = new Auth({ servers: [{ host: '127.0.0.1', port: 1 }], username: 'u', password: 'p4ss-secret', timeoutMs: 500, log })
  const err = await auth.headers({ module: 'internal' }).then(() => undefined, (e: unknown) => e)
  t.match(err, { kind: 'auth', message: /Nacos login as "u" failed: 127\.0\.0\.1:1: .*ECONNREFUSED/ })
  t.notMatch((err as Error).message, 'p4ss-secret')
  t.equal(await auth.refresh(), false, 'no second login right after a failed one')
})

t.test('config read that meets a write of the same config (Nacos error 400): read again shortly, then the content; a conflict that lasts is the error', async (t) => {
  const conflict = (): GrpcTransportError => new GrpcTransportError('server', 'Nacos refused ConfigQueryRequest (error 400: requested file is being modified, please try later.)', { errorCode: 400, requestType: 'ConfigQueryRequest' })
  let conflicts = 2
  const calls: string[] = []
  const call = async (type: string): Promise<Record<string, unknown>> => {
    calls.push(type)
    if (conflicts-- > 0) throw conflict()
    return { content: 'v1' }
  }
  const conn = { onUp: () => () => {}, handle: () => {}, ready: true }
  const log = { info: () => {}, warn: () => {}, error: () => {} }
  const config = new GrpcConfig(conn as never, call as never, { tenant: '', appName: undefined, checkIntervalMs: 60_000, resyncMs: 60_000, log })
  t.teardown(() => { config.close() })
  t.equal(await config.get({ dataId: 'd', group: 'G' }), 'v1')
  t.same(calls, ['ConfigQueryRequest', 'ConfigQueryRequest', 'ConfigQueryRequest'], 'two conflicts, then the content')
  conflicts = 100
  await t.rejects(config.get({ dataId: 'd', group: 'G' }), { errorCode: 400, message: /being modified/ })
  // Closed while waiting to read again: the read ends at once (the waits alone add up to 500 ms).
  calls.length = 0
  const clock = fakeClock(t)
  const started = Date.now()
  const reading = config.get({ dataId: 'd', group: 'G' })
  await clock.tickAsync(20)
  t.equal(calls.length, 1, 'read once, then waiting 50 ms to read again')
  config.close()
  await t.rejects(reading, { code: 'FST_NACOS_CLOSED' })
  t.equal(Date.now() - started, 20, 'ended at close(), not after the pause')
  await clock.tickAsync(1000)
  t.equal(calls.length, 1, 'no read after close')
})
