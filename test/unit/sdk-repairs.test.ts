// The SDK check: an installed `nacos` that lacks a private field or method the HTTP transport
// relies on fails start-up with a message naming the SDK's version and the missing piece.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { SDK_VERSION, checkSdk, createRepairedNaming, sdkLogger } from '../../src/transport/http/sdk-repairs.ts'
import { parseServerList } from '../../src/server-addr.ts'

const require = createRequire(import.meta.url)

t.test('the SDK is pinned: package.json asks for exactly the installed version', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> }
  t.equal(pkg.dependencies.nacos, '2.6.3')
  t.equal(SDK_VERSION, (require('nacos/package.json') as { version: string }).version)
})

t.test('a missing field or method: FST_NACOS_SDK_MISMATCH naming the version and the piece', async (t) => {
  const client = { _serverProxy: { queryList: () => {} }, _hostReactor: { _pushReceiver: {} } }
  t.throws(() => { checkSdk('NacosNamingClient', client, { '_serverProxy.queryList': 'function', '_serverProxy._reqAPI': 'function' }, '9.9.9') }, {
    code: 'FST_NACOS_SDK_MISMATCH',
    message: 'fastify-nacos: the installed nacos SDK 9.9.9 lacks NacosNamingClient._serverProxy._reqAPI (a function), which fastify-nacos relies on; install nacos@2.6.3 exactly'
  })
  t.throws(() => { checkSdk('NacosNamingClient', client, { '_hostReactor._pushReceiver.udpPort': 'number' }) }, {
    message: new RegExp(`nacos SDK ${SDK_VERSION.replace(/\./g, '\\.')} lacks NacosNamingClient\\._hostReactor\\._pushReceiver\\.udpPort \\(a number\\)`)
  })
  t.throws(() => { checkSdk('x', null, { a: 'object' }) }, { code: 'FST_NACOS_SDK_MISMATCH' })
  t.doesNotThrow(() => { checkSdk('NacosNamingClient', client, { '_serverProxy.queryList': 'function' }) })
})

t.test('the installed SDK has every piece; its failover fails with the last server\'s own cause', async (t) => {
  const errors: Error[] = []
  const tried: string[] = []
  const naming = createRepairedNaming({
    serverAddr: parseServerList('127.0.0.1:1,127.0.0.1:2'),
    namespace: 'public',
    httpclient: {
      request: async (url: string) => {
        tried.push(new URL(url).port)
        if (url.includes(':1/')) throw new Error('POST http://127.0.0.1:1/nacos/v1/ns/instance: ECONNREFUSED')
        return { status: 500, data: 'caused: boom', headers: {} }
      }
    },
    logger: sdkLogger({ debug: () => {} })
  }, (err) => errors.push(err))
  t.teardown(async () => { await naming.close() })
  t.type(naming.client, 'object')
  const err = await naming.request('/nacos/v1/ns/instance', {}, 'POST').catch((e: unknown) => e) as Error
  t.same([...tried].sort(), ['1', '2'], 'every server tried once')
  t.match(err.message, tried.at(-1) === '1' ? /127\.0\.0\.1:1.*ECONNREFUSED/ : /^Nacos refused POST http:\/\/127\.0\.0\.1:2\/nacos\/v1\/ns\/instance: HTTP 500 caused: boom$/)
  t.notMatch(err.message, /after all servers/, 'not the SDK\'s causeless message')
  t.same(errors, [])
})
