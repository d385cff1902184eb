// The SDK check: an installed `nacos` that lacks a private field or method the HTTP transport
// relies on fails start-up with a message naming the SDK's version and the missing piece.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { SDK_VERSION, checkSdk, createRepairedNaming, sdkLogger } from '../../src/transport/http/sdk-repairs.ts'

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

t.test('the installed SDK has every piece: a repaired client is created and closed', async (t) => {
  const errors: Error[] = []
  const naming = createRepairedNaming({
    serverAddr: ['127.0.0.1:1'],
    namespace: 'public',
    httpclient: { request: async () => ({ status: 500, data: '', headers: {} }) },
    logger: sdkLogger({ debug: () => {} })
  }, (err) => errors.push(err))
  t.type(naming.client, 'object')
  await naming.close()
  t.same(errors, [])
})
