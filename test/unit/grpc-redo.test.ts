// The gRPC transport's naming (src/transport/grpc/naming.ts) on a scripted connection and caller,
// no server: a deregistration made while the redo's registration of the same service is on the
// wire goes out only once that one is answered. Sent together, Nacos may apply the deregistration
// first and list the instance until the connection closes (seen against the real server:
// test/close-during-redo.test.ts).
import t from 'tap'
import { GrpcNaming } from '../../src/transport/grpc/naming.ts'
import type { Connection } from '../../src/transport/grpc/connection.ts'
import type { Json } from '../../src/transport/grpc/proto.ts'
import type { InstanceSpec } from '../../src/transport/types.ts'
import { deferred, type Deferred } from '../helpers/fake-transport.ts'

const spec = (port: number): InstanceSpec => ({ serviceName: 'orders', groupName: 'DEFAULT_GROUP', ip: '10.0.0.7', port, clusterName: 'DEFAULT', weight: 1, ephemeral: true, enabled: true, metadata: {} })
const tick = async (): Promise<void> => { for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve)) }

function setup (t: { teardown: (fn: () => void) => void }) {
  const ups = new Set<() => void>()
  const conn = {
    ready: true,
    server: '127.0.0.1:9848',
    onUp: (fn: () => void) => { ups.add(fn); return () => { ups.delete(fn) } },
    onDown: () => () => {},
    handle: () => {}
  }
  /** Each request as `type:ports`, in the order sent. */
  const sent: string[] = []
  let hold: Deferred<void> | undefined
  const call = async (_type: string, body: Json): Promise<Json> => {
    const ports = body.instance !== undefined ? [(body.instance as { port: number }).port] : (body.instances as Array<{ port: number }>).map((i) => i.port)
    sent.push(`${String(body.type)}:${ports.join(',')}`)
    if (body.type !== 'deregisterInstance' && hold !== undefined) await hold.promise
    return {}
  }
  const log = { info () {}, warn () {}, debug () {}, error () {} }
  const naming = new GrpcNaming(conn as unknown as Connection, call, { namespace: '', grpcPortOffset: 1000, probeTimeoutMs: 1000, redoIntervalMs: 60_000, login: async () => {}, log })
  t.teardown(() => { naming.close() })
  return {
    naming,
    sent,
    /** A new connection: the redo starts, its registrations held until `answer()`. */
    reconnect: () => { hold = deferred(); for (const fn of ups) fn() },
    /** Answers the held registrations, or fails them with `err`. */
    answer: (err?: Error) => { if (err === undefined) hold?.resolve(); else hold?.reject(err); hold = undefined }
  }
}

t.test('deregister during the redo of its registration: sent once the redo\'s registration is answered', async (t) => {
  const { naming, sent, reconnect, answer } = setup(t)
  await naming.register(spec(1))
  reconnect()
  await tick()
  t.same(sent, ['registerInstance:1', 'registerInstance:1'], 'the redo registers on the new connection')
  let done = false
  const deregistering = naming.deregister(spec(1)).then(() => { done = true })
  await tick()
  t.same(sent.length, 2, 'the deregistration waits for the registration on the wire')
  t.equal(done, false)
  answer()
  await deregistering
  t.same(sent, ['registerInstance:1', 'registerInstance:1', 'deregisterInstance:1'])
})

t.test('two instances of one service, one deregistered during the redo: the rest is re-sent after the redo\'s batch', async (t) => {
  const { naming, sent, reconnect, answer } = setup(t)
  await naming.register(spec(1))
  await naming.register(spec(2))
  reconnect()
  await tick()
  t.equal(sent.at(-1), 'batchRegisterInstance:1,2')
  const deregistering = naming.deregister(spec(1))
  await tick()
  t.equal(sent.at(-1), 'batchRegisterInstance:1,2', 'nothing sent while the batch is on the wire')
  answer()
  await deregistering
  t.equal(sent.at(-1), 'registerInstance:2', 'then the one left')
})

t.test('the redo\'s registration fails on the wire: the deregistration is sent all the same', async (t) => {
  const { naming, sent, reconnect, answer } = setup(t)
  await naming.register(spec(1))
  reconnect()
  await tick()
  const deregistering = naming.deregister(spec(1))
  await tick()
  answer(new Error('Nacos did not answer InstanceRequest within 3000 ms'))
  await t.resolves(deregistering)
  t.equal(sent.at(-1), 'deregisterInstance:1')
})
