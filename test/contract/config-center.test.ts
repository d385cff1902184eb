// Contract suite, the config center over each transport against the real Nacos: what is
// published through Nacos's API reaches get() and the watchers parsed and validated. For HTTP:
// snapshots stay in the given directory and serve reads while Nacos is away; close() is prompt.
import t from 'tap'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import { NacosHttpClient, type SdkRequestOptions, type SdkResponse } from '../../src/transport/http/http-client.ts'
import { HttpConfig } from '../../src/transport/http/config.ts'
import { ConfigCenter } from '../../src/config/center.ts'
import { ConfigInvalidError } from '../../src/errors.ts'
import { LONG_POLL_CHANGE_MS, NACOS_ADDR, publishConfig, readConfig, uniqueService, waitFor, waitForChange } from '../helpers/nacos-api.ts'
import { closedPort, recordingLog } from '../helpers/instances.ts'
import { TRANSPORTS, openTransport, type TransportName } from '../helpers/transports.ts'
import { parseServer } from '../../src/server-addr.ts'

let transportName: TransportName = TRANSPORTS[0] ?? 'grpc'

/** Counts requests, so a test can tell that nothing polls any more. */
class CountingClient extends NacosHttpClient {
  started = 0
  pending = 0
  override async request (url: string, options?: SdkRequestOptions): Promise<SdkResponse> {
    this.started++
    this.pending++
    try {
      return await super.request(url, options)
    } finally {
      this.pending--
    }
  }
}

async function setup (t: { teardown: (fn: () => Promise<void>) => void }, opts: { serverAddr?: string[], cacheDir?: string } = {}) {
  const cacheDir = opts.cacheDir ?? mkdtempSync(join(tmpdir(), 'nacos-cc-'))
  const { log, lines } = recordingLog()
  const transport = await openTransport(transportName, log, { serverAddr: opts.serverAddr ?? [NACOS_ADDR], snapshotDir: cacheDir, snapshotCluster: 'contract-cc' })
  const center = new ConfigCenter({ transport: transport.config, log })
  t.teardown(async () => {
    center.close()
    await transport.close()
    if (opts.cacheDir === undefined) rmSync(cacheDir, { recursive: true, force: true })
  })
  return { center, lines, cacheDir }
}

/** The HTTP config transport over a request-counting client, so a test can tell that nothing polls any more. */
function countingSetup (t: { teardown: (fn: () => void) => void }) {
  const cacheDir = mkdtempSync(join(tmpdir(), 'nacos-cc-'))
  const http = new CountingClient()
  const { log } = recordingLog()
  const transport = new HttpConfig({ serverAddr: [parseServer(NACOS_ADDR)], namespace: 'public', http, log, cacheDir })
  const center = new ConfigCenter({ transport, log })
  t.teardown(() => {
    center.close()
    transport.close()
    http.close()
    rmSync(cacheDir, { recursive: true, force: true })
  })
  return { center, transport, http }
}

/**
 * Publishes through Nacos's own API, as an operator would in the console, and waits until Nacos
 * serves it (a publish becomes readable a few milliseconds later).
 */
async function publish (dataId: string, content: string, type = 'text'): Promise<void> {
  await publishConfig(dataId, content, { type })
  await waitFor(async () => await readConfig(dataId) === content)
}

const uniqueId = (ext: string): string => `${uniqueService('cc')}.${ext}`

/** Resolves with the time at which the watcher first gets a value that satisfies `check`. */
async function nextValue (watch: (fn: (value: unknown) => void) => () => void, check: (value: unknown) => boolean, timeout = LONG_POLL_CHANGE_MS): Promise<number> {
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`value not seen within ${timeout} ms`)) }, timeout)
    const off = watch((value) => {
      if (!check(value)) return
      clearTimeout(timer)
      off()
      resolve(Date.now())
    })
  })
}

for (const name of TRANSPORTS) {
  t.test(`${name} transport`, async (t) => {
    transportName = name
    await t.test('a published change reaches the watcher parsed (delay measured); a removal reaches it as undefined', async (t) => {
      const { center } = await setup(t)
      const dataId = uniqueId('json')
      await publish(dataId, '{"level":1}', 'json')
      const values: unknown[] = []
      const raws: Array<string | undefined> = []
      const off = center.watch(dataId, {}, (value, raw) => { values.push(value); raws.push(raw) })
      t.teardown(off)
      await waitFor(() => values.length === 1)
      t.same(values, [{ level: 1 }], 'told the current value first')

      let start = Date.now()
      const changed = nextValue((fn) => center.watch(dataId, {}, fn), (v) => (v as { level?: number } | undefined)?.level === 2)
      await center.publish(dataId, { level: 2 })
      const changeDelay = await changed - start
      t.same(JSON.parse(await readConfig(dataId) ?? ''), { level: 2 }, 'Nacos holds what publish() sent')

      start = Date.now()
      const removed = nextValue((fn) => center.watch(dataId, {}, fn), (v) => v === undefined)
      await center.remove(dataId)
      const removeDelay = await removed - start
      t.comment(`propagation Nacos -> watcher (long poll): change ${changeDelay} ms, removal ${removeDelay} ms`)
      // Over HTTP a change as the poll re-arms waits for that poll's end (LONG_POLL_CHANGE_MS).
      const bound = name === 'http' ? LONG_POLL_CHANGE_MS : 5000
      t.ok(changeDelay < bound && removeDelay < bound, `within ${bound / 1000} s`)
      await waitFor(() => values.length === 3)
      t.same(values, [{ level: 1 }, { level: 2 }, undefined])
      t.same(raws, ['{"level":1}', JSON.stringify({ level: 2 }, null, 2), undefined])
      t.equal(await center.get(dataId), undefined, 'get() of an absent config is undefined')
    })

    await t.test('get() parses by the dataId extension or the explicit type', async (t) => {
      const { center } = await setup(t)
      const ids = { json: uniqueId('json'), yaml: uniqueId('yaml'), yml: uniqueId('yml'), props: uniqueId('properties'), text: uniqueId('txt') }
      await publish(ids.json, '{"a":[1,2]}')
      await publish(ids.yaml, 'a:\n  b: true\n')
      await publish(ids.yml, '- x\n- y\n')
      await publish(ids.props, '# comment\nserver.port = 8080\nname:demo\\u0021\nlong=a\\\n  b\n')
      await publish(ids.text, 'plain {"not":"json"}')
      t.same(await center.get(ids.json), { a: [1, 2] })
      t.same(await center.get(ids.yaml), { a: { b: true } })
      t.same(await center.get(ids.yml), ['x', 'y'])
      t.same(await center.get(ids.props), { 'server.port': '8080', name: 'demo!', long: 'ab' })
      t.equal(await center.get(ids.text), 'plain {"not":"json"}')
      t.equal(await center.get(ids.json, { type: 'text' }), '{"a":[1,2]}', 'an explicit type wins')
      await t.rejects(center.get(ids.text, { type: 'json' }), { code: 'FST_NACOS_CONFIG_INVALID', message: new RegExp(`Config ${ids.text.replace(/\./g, '\\.')} \\(group DEFAULT_GROUP\\) is invalid at /: not valid json`) })
    })

    await t.test('a schema types and validates the value; a bad value is a clear error; a watcher keeps the last good value', async (t) => {
      const { center, lines } = await setup(t)
      const Settings = Type.Object({ port: Type.Integer({ minimum: 1 }), db: Type.Object({ host: Type.String(), pool: Type.Integer({ default: 5 }) }) })
      const dataId = uniqueId('yaml')
      await publish(dataId, 'port: 8080\ndb:\n  host: db.local\n')
      const settings = await center.get(dataId, { schema: Settings })
      t.same(settings, { port: 8080, db: { host: 'db.local', pool: 5 } }, 'defaults filled in')
      t.equal(settings?.db.pool, 5)

      const props = uniqueId('properties')
      await publish(props, 'port=9090\n')
      t.same(await center.get(props, { schema: Type.Object({ port: Type.Integer() }) }), { port: 9090 }, 'properties strings converted to the schema types')

      const seen: unknown[] = []
      const off = center.watch(dataId, { schema: Settings }, (value) => { seen.push(value) })
      t.teardown(off)
      await waitFor(() => seen.length === 1)
      await publish(dataId, 'port: 0\ndb:\n  host: db.local\n')
      const err = await waitFor(async () => await center.get(dataId, { schema: Settings }).then(() => undefined, (e: unknown) => e))
      t.ok(err instanceof ConfigInvalidError)
      t.match(err, { code: 'FST_NACOS_CONFIG_INVALID', statusCode: 500, message: `Config ${dataId} (group DEFAULT_GROUP) is invalid at /port: Expected integer to be greater or equal to 1` })
      await waitForChange(() => lines.some((l) => l.level === 'error' && /rejected/.test(l.msg)))
      t.equal(seen.length, 1, 'the watcher was not given the invalid value')
      await publish(dataId, 'port: 81\ndb:\n  host: db2\n')
      await waitForChange(() => seen.length === 2)
      t.same(seen[1], { port: 81, db: { host: 'db2', pool: 5 } })
    })

    await t.test('HTTP: the SDK keeps no cache that outlives the transport (ours, src/snapshot, is the one), and never in ~/.node-diamond-client-cache', { skip: transportName !== 'http' }, async (t) => {
      const { center, cacheDir } = await setup(t)
      const dataId = uniqueId('json')
      await publish(dataId, '{"cached":true}')
      t.same(await center.get(dataId), { cached: true })
      const homeCache = join(homedir(), '.node-diamond-client-cache')
      const inHome = existsSync(homeCache) ? readdirSync(homeCache, { recursive: true }).map(String).filter((p) => p.includes(dataId)) : []
      t.same(inHome, [], 'nothing written to the SDK default in the home directory')
      t.same(existsSync(cacheDir) ? readdirSync(cacheDir, { recursive: true }).map(String).filter((p) => p.includes(dataId)) : [], [], 'nothing of the SDK under snapshotDir')

      const down = await setup(t, { serverAddr: [`127.0.0.1:${await closedPort()}`], cacheDir })
      await t.rejects(down.center.get(dataId), /ECONNREFUSED/, 'another transport while Nacos is unreachable: the cause is reported, no stale answer')
    })

    await t.test('preload() reads every entry and keeps values current', async (t) => {
      const { center } = await setup(t)
      const app = uniqueId('yaml')
      const flags = uniqueId('properties')
      await publish(app, 'name: demo\n')
      await publish(flags, 'beta=true\n')
      const values = await center.preload([{ dataId: app, schema: Type.Object({ name: Type.String() }) }, { dataId: flags, key: 'flags' }])
      t.same(Object.fromEntries(values), { [app]: { name: 'demo' }, flags: { beta: 'true' } })
      await publish(flags, 'beta=false\n')
      await waitForChange(() => (center.values.get('flags') as { beta?: string }).beta === 'false')
      await t.rejects(center.preload([{ dataId: flags, key: 'flags' }]), { code: 'FST_NACOS_BAD_SETTING', message: /key "flags".*used twice/ })
      await t.rejects(center.preload([{ dataId: app, key: 'strict', schema: Type.Object({ name: Type.Number() }) }]), { code: 'FST_NACOS_CONFIG_INVALID' })
    })

    await t.test('HTTP: close() with a long poll in flight: returns at once, the poll loop ends, nothing polls any more', { skip: transportName !== 'http' }, async (t) => {
      const { center, transport, http } = countingSetup(t)
      const dataId = uniqueId('txt')
      await publish(dataId, 'v1')
      let calls = 0
      center.watch(dataId, {}, () => { calls++ })
      await waitFor(() => calls === 1)
      await waitFor(() => http.pending === 1)
      t.equal(http.pending, 1, 'a long poll is in flight')
      const start = process.hrtime.bigint()
      center.close()
      transport.close()
      t.comment(`close() took ${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(2)} ms`)
      // The transport's owner closes the shared client next: the SDK's own agent would now retry the
      // aborted poll without pause until its 40 s timeout.
      http.close()
      const started = http.started
      await new Promise((resolve) => setTimeout(resolve, 2500))
      t.equal(http.started, started, 'no request after close()')
      t.equal(http.pending, 0, 'nothing in flight')
      t.throws(() => center.watch(dataId, {}, () => {}), /closed/)
      await t.rejects(center.get(dataId), /closed/)
      await publish(dataId, 'v2')
      t.equal(calls, 1, 'the watcher is not called after close()')
    })
  })
}
