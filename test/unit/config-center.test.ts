// The config center over the fake transport (no server): parsing by type, schema validation,
// watchers that keep the last good value, publish serialization, preload, close().
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { Type } from '@sinclair/typebox'
import { ConfigCenter } from '../../src/config/center.ts'
import { parseProperties, typeOf } from '../../src/config/formats.ts'
import { ConfigInvalidError } from '../../src/errors.ts'
import { FakeConfig } from '../helpers/fake-transport.ts'
import { recordingLog } from '../helpers/instances.ts'

function setup () {
  const config = new FakeConfig()
  const { log, lines } = recordingLog()
  return { config, center: new ConfigCenter({ transport: config, log }), lines }
}

t.test('get() parses by extension or explicit type; absent or empty is undefined', async (t) => {
  const { config, center } = setup()
  config.change('a.json', '{"a":[1]}')
  config.change('a.yml', 'x: 1\n')
  config.change('a.properties', 'k = v\n')
  config.change('a.txt', '{"not":"json"}')
  config.change('empty.json', '')
  t.same(await center.get('a.json'), { a: [1] })
  t.same(await center.get('a.yml'), { x: 1 })
  t.same(await center.get('a.properties'), { k: 'v' })
  t.equal(await center.get('a.txt'), '{"not":"json"}')
  t.equal(await center.get('a.json', { type: 'text' }), '{"a":[1]}')
  t.equal(await center.get('missing.json'), undefined)
  t.equal(await center.get('empty.json'), undefined)
  // A .txt config read as YAML: the explicit type wins over the extension, in the group asked for.
  config.change('a.txt', 'k: [1, 2]\n', 'G')
  t.same(await center.get('a.txt', { type: 'yaml', group: 'G' }), { k: [1, 2] }, 'text that is valid YAML parses as YAML')
  config.change('bad.json', '{nope')
  await t.rejects(center.get('bad.json'), { code: 'FST_NACOS_CONFIG_INVALID', message: /Config bad\.json \(group DEFAULT_GROUP\) is invalid at \/: not valid json/ })
})

t.test('a schema converts, defaults and validates; the failing path is named', async (t) => {
  const { config, center } = setup()
  const Schema = Type.Object({ port: Type.Integer({ minimum: 1 }), pool: Type.Integer({ default: 5 }) })
  config.change('db.properties', 'port=5432\n')
  t.same(await center.get('db.properties', { schema: Schema }), { port: 5432, pool: 5 })
  config.change('db.json', '{"port":0}')
  const err = await center.get('db.json', { schema: Schema }).catch((e: unknown) => e)
  t.ok(err instanceof ConfigInvalidError)
  t.match(err, { statusCode: 500, message: /is invalid at \/port/ })
})

t.test('watch(): current value, then changes; an invalid change is logged and skipped; removal is undefined', async (t) => {
  const { config, center, lines } = setup()
  config.change('w.json', '{"v":1}')
  const seen: unknown[] = []
  const raws: unknown[] = []
  const off = center.watch('w.json', {}, (value, raw) => { seen.push(value); raws.push(raw) })
  await sleep(1)
  config.change('w.json', '{broken')
  config.change('w.json', '{"v":2}')
  config.change('w.json', null)
  t.same(seen, [{ v: 1 }, { v: 2 }, undefined])
  t.same(raws, ['{"v":1}', '{"v":2}', undefined])
  t.ok(lines.some((l) => l.level === 'error' && /keeping the last good value/.test(l.msg)))
  off()
  off()
  t.equal(config.watching, 0)
})

t.test('an invalid value of a union names the allowed values, and is logged once however many watches see it', async (t) => {
  const { config, center, lines } = setup()
  const Settings = Type.Object({ strategy: Type.Union([Type.Literal('round-robin'), Type.Literal('random')]), n: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2)])) })
  config.change('s.yaml', 'strategy: random\n')
  await center.preload([{ dataId: 's.yaml', key: 's', schema: Settings }])
  const seen: unknown[] = []
  center.watch('s.yaml', { schema: Settings }, (value) => { seen.push(value) })
  await sleep(1)
  const rejected = (): string[] => lines.filter((l) => l.level === 'error').map((l) => (l.obj as { err: Error }).err.message)
  config.change('s.yaml', 'strategy: bogus\n')
  config.change('s.yaml', 'strategy: bogus\n')
  t.same(rejected(), ['Config s.yaml (group DEFAULT_GROUP) is invalid at /strategy: expected one of round-robin, random'], 'once, with the allowed values')
  config.change('s.yaml', 'strategy: random\nn: 3\n')
  t.match(rejected()[1], /invalid at \/n: expected one of 1, 2$/, 'another content is news')
  config.change('s.yaml', 'strategy: round-robin\n')
  config.change('s.yaml', 'strategy: random\nn: 3\n')
  t.equal(rejected().length, 3, 'the same bad content after a good one is news again')
  t.same(seen, [{ strategy: 'random' }, { strategy: 'round-robin' }])
  t.same(center.values.get('s'), { strategy: 'round-robin' })
})

t.test('a watcher that throws is logged, not fatal', async (t) => {
  const { config, center, lines } = setup()
  center.watch('x.txt', {}, () => { throw new Error('boom') })
  config.change('x.txt', 'v')
  t.ok(lines.some((l) => l.level === 'error' && /listener threw/.test(l.msg)))
})

t.test('publish() serializes by type and says the type; remove() removes', async (t) => {
  const { config, center } = setup()
  await center.publish('p.json', { a: 1 })
  await center.publish('p.yaml', { a: 1 }, { group: 'G' })
  await center.publish('p.properties', { a: 1, b: 'x' })
  await center.publish('p.txt', 'as is')
  t.same(config.published, [
    { key: 'DEFAULT_GROUP/p.json', content: '{\n  "a": 1\n}', type: 'json' },
    { key: 'G/p.yaml', content: 'a: 1\n', type: 'yaml' },
    { key: 'DEFAULT_GROUP/p.properties', content: 'a=1\nb=x', type: 'properties' },
    { key: 'DEFAULT_GROUP/p.txt', content: 'as is', type: 'text' }
  ])
  await center.remove('p.json')
  t.equal(await center.get('p.json'), undefined)
})

t.test('preload(): every entry read and kept current; a duplicate key or an invalid entry rejects', async (t) => {
  const { config, center } = setup()
  config.change('app.yaml', 'name: demo\n')
  config.change('flags.properties', 'beta=true\n')
  const values = await center.preload([{ dataId: 'app.yaml', schema: Type.Object({ name: Type.String() }) }, { dataId: 'flags.properties', key: 'flags' }])
  t.same(Object.fromEntries(values), { 'app.yaml': { name: 'demo' }, flags: { beta: 'true' } })
  config.change('flags.properties', 'beta=false\n')
  t.same(center.values.get('flags'), { beta: 'false' })
  await t.rejects(center.preload([{ dataId: 'x', key: 'flags' }]), { code: 'FST_NACOS_BAD_SETTING', message: /key "flags".*used twice/ })
  await t.rejects(center.preload([{ dataId: 'app.yaml', key: 'strict', schema: Type.Object({ name: Type.Number() }) }]), { code: 'FST_NACOS_CONFIG_INVALID' })
})

t.test('close() ends every watch; afterwards get() and watch() fail with FST_NACOS_CLOSED', async (t) => {
  const { config, center } = setup()
  let calls = 0
  center.watch('c.txt', {}, () => { calls++ })
  await center.preload([{ dataId: 'd.txt' }])
  t.equal(config.watching, 2)
  center.close()
  center.close()
  t.equal(config.watching, 0)
  config.change('c.txt', 'late')
  t.equal(calls, 0)
  t.throws(() => center.watch('c.txt', {}, () => {}), { code: 'FST_NACOS_CLOSED' })
  await t.rejects(center.get('c.txt'), { code: 'FST_NACOS_CLOSED', message: /closed/ })
})

t.test('parsers: properties edge cases and type detection', async (t) => {
  t.same(parseProperties('a b\n! bang\nc\n  d=\\tx\\ny\nk\\=1=v\nend=x\\\\\nnext=1'), { a: 'b', c: '', d: '\tx\ny', 'k=1': 'v', end: 'x\\', next: '1' })
  t.same(parseProperties('# comment\nserver.port = 8080\nname:demo\\u0021\nlong=a\\\n  b\n'), { 'server.port': '8080', name: 'demo!', long: 'ab' })
  t.equal(typeOf('app.YML'), 'yaml')
  t.equal(typeOf('app'), 'text')
  t.equal(typeOf('app.json', 'yaml'), 'yaml')
})
