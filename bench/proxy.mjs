// A counting TCP proxy in front of Nacos, for a client whose requests cannot be counted inside its
// process (the Java client): it listens on a free port P (forwarded to Nacos's HTTP port) and on
// P + 1000 (forwarded to Nacos's gRPC port, HTTP + 1000), so a client given 127.0.0.1:P goes
// through both. It counts what the client sends:
// - HTTP port: request lines (`http GET /nacos/v1/...`);
// - gRPC port: the HTTP/2 frames after the client preface; each gRPC message the client writes is
//   decoded for its Nacos request type and counted as `unary TYPE` when its stream was closed by
//   the client (END_STREAM: one request Nacos serves), else as `stream TYPE` (the bidirectional
//   stream that stays open: its set-up and the answers to the server's requests).
import { createServer, connect } from 'node:net'
import { once } from 'node:events'
import { decodePayload } from '../dist/transport/grpc/proto.js'
import { freeNacosPort } from './lib.mjs'

const PREFACE = 24
const DATA = 0
const HEADERS = 1
const END_STREAM = 0x1
const PADDED = 0x8
const REQUEST_LINE = /^(GET|POST|PUT|DELETE|PATCH|HEAD) (\S+?)(\?\S*)? HTTP\/1\.[01]\r$/gm

function forward (port, target, onData) {
  const sockets = new Set()
  const server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1')
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
    }
    const count = onData()
    client.on('data', count)
    client.pipe(upstream).on('error', () => client.destroy())
    upstream.pipe(client).on('error', () => upstream.destroy())
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  server.listen(port, '127.0.0.1')
  server.destroyAll = () => { for (const s of sockets) s.destroy() }
  return server
}

/** One gRPC connection's client side: HTTP/2 frames → gRPC messages, recorded as { at, stream, type }. */
function grpcCounter (conn, record, closed) {
  let buf = Buffer.alloc(0)
  let preface = false
  const streams = new Map()
  return (chunk) => {
    buf = Buffer.concat([buf, chunk])
    if (!preface) {
      if (buf.length < PREFACE) return
      buf = buf.subarray(PREFACE)
      preface = true
    }
    while (buf.length >= 9) {
      const length = buf.readUIntBE(0, 3)
      if (buf.length < 9 + length) return
      const type = buf[3]
      const flags = buf[4]
      const id = buf.readUInt32BE(5) & 0x7fffffff
      let payload = buf.subarray(9, 9 + length)
      buf = buf.subarray(9 + length)
      if (type === HEADERS && !streams.has(id)) streams.set(id, Buffer.alloc(0))
      if (type !== DATA || !streams.has(id)) continue
      if (flags & PADDED) payload = payload.subarray(1, payload.length - payload[0])
      let data = Buffer.concat([streams.get(id), payload])
      while (data.length >= 5 && data.length >= 5 + data.readUInt32BE(1)) {
        const message = data.subarray(5, 5 + data.readUInt32BE(1))
        data = data.subarray(5 + message.length)
        let name = 'unknown'
        try { name = decodePayload(message).type || 'unknown' } catch {}
        record({ at: performance.now(), stream: `${conn}/${id}`, type: name })
      }
      streams.set(id, data)
      if (flags & END_STREAM) closed.add(`${conn}/${id}`)
    }
  }
}

/** Starts the proxy in front of Nacos's HTTP port `target`; `addr` is what to give the client. */
export async function countingProxy (target) {
  const messages = []
  const closed = new Set()
  let connections = 0
  let servers
  for (;;) {
    const port = await freeNacosPort()
    servers = [
      forward(port, target, () => (chunk) => {
        for (const m of chunk.toString('latin1').matchAll(REQUEST_LINE)) messages.push({ at: performance.now(), http: `${m[1]} ${m[2]}` })
      }),
      forward(port + 1000, target + 1000, () => {
        return grpcCounter(connections++, (m) => messages.push(m), closed)
      })
    ]
    const ok = await Promise.all(servers.map(async (s) => await Promise.race([
      once(s, 'listening').then(() => true), once(s, 'error').then(() => false)
    ])))
    if (ok.every(Boolean)) break
    for (const s of servers) s.close()
  }
  const port = servers[0].address().port
  return {
    addr: `127.0.0.1:${port}`,
    /** What the client sent between `from` and `to` (performance.now() ms), by kind. */
    counts (from, to) {
      const out = {}
      for (const m of messages) {
        if (m.at < from || m.at >= to) continue
        const key = m.http ? `http ${m.http}` : `${closed.has(m.stream) ? 'unary' : 'stream'} ${m.type}`
        out[key] = (out[key] ?? 0) + 1
      }
      return out
    },
    close: async () => {
      await Promise.all(servers.map(async (s) => {
        s.destroyAll()
        s.close()
        await once(s, 'close')
      }))
    }
  }
}
