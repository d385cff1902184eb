// AK/SK signing of config requests over HTTP, checked against the nacos SDK's own algorithm
// (nacos-config's buildConfigAuthHeaders, which its HTTP agent used before ours replaced it). No
// server here checks signatures, so the headers sent for known requests are compared instead.
import t from 'tap'
import { createRequire } from 'node:module'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configSignHeaders } from '../../src/transport/http/config-signing.ts'
import { HttpConfig } from '../../src/transport/http/config.ts'
import { parseServer } from '../../src/server-addr.ts'

type Build = (data: object, credentials: { accessKeyId: string, accessKeySecret: string }, ts: string) => Record<string, string>
const { buildConfigAuthHeaders } = createRequire(import.meta.url)('nacos-config/dist/aliyun_auth.js') as { buildConfigAuthHeaders: Build }
const AK = 'LTAI-test-access-key'
const SK = 'test-secret-key'

t.test('the headers are the SDK\'s for the same request and timestamp', async (t) => {
  const cases = [
    { dataId: 'a.yaml', group: 'G', tenant: 'dev' },
    { dataId: 'a.yaml', group: 'G', tenant: '' },
    { dataId: 'a.yaml', group: 'G' },
    { tenant: 'dev', 'Listening-Configs': 'x' },
    { 'Listening-Configs': 'x' }
  ]
  for (const data of cases) {
    t.same(configSignHeaders(data, AK, SK, '1700000000000'), buildConfigAuthHeaders(data, { accessKeyId: AK, accessKeySecret: SK }, '1700000000000'), JSON.stringify(data))
  }
})

function scripted (t: { teardown: (fn: () => void) => void }, keys: { accessKey?: string, secretKey?: string }) {
  const cacheDir = mkdtempSync(join(tmpdir(), 'nacos-signing-'))
  const sent: Array<{ path: string, headers: Record<string, string>, data: Record<string, unknown> }> = []
  const http = {
    request: async (url: string, options: { headers?: Record<string, string>, data?: Record<string, unknown> }) => {
      sent.push({ path: new URL(url).pathname, headers: options.headers ?? {}, data: options.data ?? {} })
      return { status: 200, data: 'content', headers: {} }
    }
  }
  const log = { info: () => {}, warn: () => {}, debug: () => {} }
  const config = new HttpConfig({ serverAddr: [parseServer('127.0.0.1:1')], namespace: 'dev', http: http as never, log, cacheDir, ...keys })
  t.teardown(() => { config.close(); rmSync(cacheDir, { recursive: true, force: true }) })
  return { config, sent }
}

t.test('with accessKey and secretKey, a config read and a publish carry the SDK\'s signature', async (t) => {
  const { config, sent } = scripted(t, { accessKey: AK, secretKey: SK })
  t.equal(await config.get({ dataId: 'a.yaml', group: 'G' }), 'content')
  await config.publish({ dataId: 'a.yaml', group: 'G' }, 'x: 1', 'yaml')
  const requests = sent.filter((s) => s.path.endsWith('/v1/cs/configs'))
  t.equal(requests.length, 2)
  for (const { headers, data } of requests) {
    t.equal(data.tenant, 'dev')
    const ts = headers.timeStamp as string
    t.match(ts, /^\d{13}$/, 'a millisecond timestamp')
    t.match(headers, buildConfigAuthHeaders(data, { accessKeyId: AK, accessKeySecret: SK }, ts), 'Spas-AccessKey, timeStamp and Spas-Signature as the SDK computes them')
  }
})

t.test('without them, no Spas header is sent', async (t) => {
  const { config, sent } = scripted(t, {})
  await config.get({ dataId: 'a.yaml', group: 'G' })
  t.same(Object.keys(sent[0]?.headers ?? {}).filter((h) => /spas|timestamp/i.test(h)), [])
})
