// Preload (`node --import`) of the requests measure: counts what the process sends to Nacos.
// - HTTP transport: every `fetch` (the plugin hands the `nacos` SDK an HTTP client built on the
//   global fetch, so each SDK call is one fetch) and every UDP datagram sent (the SDK acknowledges
//   UDP pushes);
// - gRPC transport: every unary request (grpc-js `makeUnaryRequest`: one request Nacos serves) and
//   every message the client writes on its bidirectional stream (answers to the server's requests).
// SIGWINCH (ignored by default, and not among the signals close-with-grace closes the app on): the
// first starts the window (counts reset), the second writes them as JSON to BENCH_COUNT_FILE.
// Keys name the call: `fetch PUT /nacos/v1/ns/instance/beat`, `unary HealthCheckRequest`.
import { createRequire } from 'node:module'
import { writeFileSync } from 'node:fs'
import dgram from 'node:dgram'

const require = createRequire(import.meta.url)
let counts = {}
let started = false
const add = (key) => { counts[key] = (counts[key] ?? 0) + 1 }

const realFetch = globalThis.fetch
globalThis.fetch = function (input, init) {
  const url = new URL(input instanceof Request ? input.url : String(input))
  add(`fetch ${init?.method ?? 'GET'} ${url.pathname}`)
  return realFetch(input, init)
}

const send = dgram.Socket.prototype.send
dgram.Socket.prototype.send = function (...args) {
  add('udp datagram')
  return send.apply(this, args)
}

// The plugin imports the same CommonJS module (one instance in the require cache), so patching
// its prototype reaches the transport's client.
const grpc = require('@grpc/grpc-js')
const unary = grpc.Client.prototype.makeUnaryRequest
grpc.Client.prototype.makeUnaryRequest = function (method, serialize, deserialize, payload, ...rest) {
  add(`unary ${payload?.type}`)
  return unary.call(this, method, serialize, deserialize, payload, ...rest)
}
const bidi = grpc.Client.prototype.makeBidiStreamRequest
grpc.Client.prototype.makeBidiStreamRequest = function (...args) {
  const call = bidi.apply(this, args)
  const write = call.write
  call.write = function (chunk, ...rest) {
    add(`stream ${chunk?.type}`)
    return write.call(this, chunk, ...rest)
  }
  return call
}

process.on('SIGWINCH', () => {
  if (!started) {
    started = true
    counts = {}
  } else {
    writeFileSync(process.env.BENCH_COUNT_FILE, JSON.stringify(counts))
  }
})
