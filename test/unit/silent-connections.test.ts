// silentConnections (src/shutdown.ts) on a plain node:http server, no Nacos: at close it destroys
// the connections that never sent a byte (what Nacos's TCP health check leaves open) and leaves
// alone a request in flight and a connection that has sent part of one.
import t from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { silentConnections } from '../../src/shutdown.ts'
import { waitFor, within } from '../helpers/nacos-api.ts'

async function connected (port: number, send?: string): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  if (send !== undefined) socket.write(send)
  return socket
}

const closedBy = async (socket: Socket): Promise<boolean> => await within(new Promise<boolean>((resolve) => {
  if (socket.destroyed) resolve(true)
  socket.once('close', () => { resolve(true) })
}), 2000, false)

t.test('close(): the silent connections go, a request in flight and a half-sent one stay', async (t) => {
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  let arrived = 0
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    arrived++
    void released.then(() => { res.end('done') })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const port = (server.address() as { port: number }).port
  const silent = silentConnections(server)
  const accepted: Socket[] = []
  server.on('connection', (socket: Socket) => { accepted.push(socket) })

  const quiet = [await connected(port), await connected(port)]
  const partial = await connected(port, 'GET / HTTP/1.1\r\nHost: x\r\n')
  const active = await connected(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
  await waitFor(() => arrived === 1)
  // The server has read what both senders sent before close() is asked.
  await waitFor(() => accepted.length === 4 && accepted.filter((s) => s.bytesRead > 0).length === 2)

  t.equal(silent.close(), 2, 'the two that never sent a byte')
  t.same(await Promise.all(quiet.map(closedBy)), [true, true], 'and they are closed')
  t.equal(partial.destroyed, false, 'a connection that sent part of a request stays')

  let answer = ''
  active.on('data', (d: Buffer) => { answer += d.toString() })
  release()
  await waitFor(() => answer.includes('done'))
  t.match(answer, /^HTTP\/1\.1 200/, 'the request in flight is answered')
  t.equal(silent.close(), 0, 'nothing more to close')
  partial.destroy()
  active.destroy()
})

t.test('stop(): connections made later are not followed', async (t) => {
  const server = createServer((_req, res) => { res.end() })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const silent = silentConnections(server)
  silent.stop()
  const later = await connected((server.address() as { port: number }).port)
  await waitFor(async () => (await new Promise<number>((resolve) => { server.getConnections((_e, n) => { resolve(n) }) })) === 1)
  t.equal(silent.close(), 0)
  t.equal(later.destroyed, false)
  later.destroy()
})
