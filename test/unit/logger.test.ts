// The plugin's logger is a child of the app's: it logs at the app's level unless the plugin's own
// level is set (option logLevel or NACOS_LOG_LEVEL). No Nacos needed: with registration disabled,
// listening logs one info line ('nacos registration disabled').
import t from 'tap'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import nacos from '../../src/index.ts'

async function infoLines (appLevel: string, plugin: { logLevel?: 'info' | 'warn' | 'silent' }, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const lines: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(...chunk.toString().split('\n').filter(Boolean)); done() } })
  const saved = { ...process.env }
  Object.assign(process.env, env)
  try {
    const app = Fastify({ logger: { level: appLevel, stream } })
    await app.register(nacos, { serviceName: 'logger-unit', serverAddr: '127.0.0.1:1', registerEnabled: false, dotenv: false, handleSignals: false, monitoring: false, ...plugin })
    await app.listen({ port: 0, host: '127.0.0.1' })
    await app.close()
  } finally {
    for (const key of Object.keys(env)) delete process.env[key]
    Object.assign(process.env, saved)
  }
  return lines.map((l) => JSON.parse(l) as { plugin?: string, msg: string }).filter((l) => l.plugin === 'nacos').map((l) => l.msg)
}

t.test('an app at warn gets no info lines from the plugin', async (t) => {
  t.notOk((await infoLines('warn', {})).includes('nacos registration disabled'))
})

t.test('an app at info gets them', async (t) => {
  t.ok((await infoLines('info', {})).includes('nacos registration disabled'))
})

t.test('the plugin\'s own level wins over the app\'s: option logLevel', async (t) => {
  t.ok((await infoLines('warn', { logLevel: 'info' })).includes('nacos registration disabled'), 'info under an app at warn')
  t.same(await infoLines('info', { logLevel: 'silent' }), [], 'silent under an app at info')
})

t.test('the plugin\'s own level wins over the app\'s: NACOS_LOG_LEVEL, and LOG_LEVEL (the app\'s variable) is not read', async (t) => {
  t.ok((await infoLines('warn', {}, { NACOS_LOG_LEVEL: 'info' })).includes('nacos registration disabled'))
  t.notOk((await infoLines('warn', {}, { LOG_LEVEL: 'info' })).includes('nacos registration disabled'))
})
