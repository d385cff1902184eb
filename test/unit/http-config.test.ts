// The HTTP config transport's own logic over a scripted HTTP client (no Nacos): what it does with
// the answers Nacos gives. Its behaviour against a real server is in test/contract/config-center.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HttpConfig } from '../../src/transport/http/config.ts'
import { parseServer } from '../../src/server-addr.ts'
import { fakeClock } from '../helpers/clock.ts'

const MODIFYING = 'requested file is being modified, please try later.'

function setup (t: { teardown: (fn: () => void) => void }, answers: (path: string) => { status: number, data: string }) {
  const cacheDir = mkdtempSync(join(tmpdir(), 'nacos-http-config-'))
  const reads: string[] = []
  const http = {
    request: async (url: string) => {
      const path = new URL(url).pathname
      if (path.endsWith('/v1/cs/configs')) reads.push(path)
      return { ...answers(path), headers: {} }
    }
  }
  const log = { info: () => {}, warn: () => {}, debug: () => {} }
  const config = new HttpConfig({ serverAddr: [parseServer('127.0.0.1:1')], namespace: 'public', http: http as never, log, cacheDir })
  t.teardown(() => {
    config.close()
    rmSync(cacheDir, { recursive: true, force: true })
  })
  return { config, reads }
}

t.test('a read that meets a write of the same config (HTTP 409): read again shortly, then the content', async (t) => {
  let conflicts = 2
  const { config, reads } = setup(t, () => conflicts-- > 0 ? { status: 409, data: MODIFYING } : { status: 200, data: 'v1' })
  t.equal(await config.get({ dataId: 'd', group: 'G' }), 'v1')
  t.equal(reads.length, 3, 'two conflicts, then the content')
})

t.test('a conflict that lasts is the error, naming the answer', async (t) => {
  const { config, reads } = setup(t, () => ({ status: 409, data: MODIFYING }))
  await t.rejects(config.get({ dataId: 'd', group: 'G' }), { message: /HTTP 409 requested file is being modified/ })
  t.equal(reads.length, 5, 'the read and 4 more')
})

t.test('closed while waiting to read again: the read ends at once, and none follows', async (t) => {
  const clock = fakeClock(t)
  const { config, reads } = setup(t, () => ({ status: 409, data: MODIFYING }))
  const started = Date.now()
  const reading = config.get({ dataId: 'd', group: 'G' }).catch((err: unknown) => err)
  await clock.tickAsync(20)
  t.equal(reads.length, 1, 'read once, then waiting 50 ms to read again')
  config.close()
  t.match(await reading, { code: 'FST_NACOS_CLOSED' })
  t.equal(Date.now() - started, 20, 'ended at close(), not after the pause')
  await clock.tickAsync(1000)
  t.equal(reads.length, 1, 'no read after close')
})

t.test('a read that failed just before close(): the error the SDK still emits after it is dropped, not thrown', async (t) => {
  const { config } = setup(t, () => { throw new Error('connect ECONNREFUSED 127.0.0.1:1') })
  // The SDK emits its errors from setImmediate: held here, so that close() comes between the
  // failed read and the emission (an app closed as a first read fails, Nacos down).
  const real = globalThis.setImmediate
  const queued: Array<() => void> = []
  globalThis.setImmediate = ((fn: (...args: unknown[]) => void, ...args: unknown[]) => { queued.push(() => { fn(...args) }); return {} }) as unknown as typeof setImmediate
  t.teardown(() => { globalThis.setImmediate = real })
  config.watch({ dataId: 'd', group: 'G' }, () => {})
  while (queued.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
  config.close()
  globalThis.setImmediate = real
  t.doesNotThrow(() => { for (const fn of queued.splice(0)) fn() })
})
