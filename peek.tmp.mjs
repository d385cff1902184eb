import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
const grpc = require('@grpc/grpc-js')
const unary = grpc.Client.prototype.makeUnaryRequest
grpc.Client.prototype.makeUnaryRequest = function (method, serialize, deserialize, payload, ...rest) {
  const t = payload?.metadata?.type
  if (/Instance|Subscribe/.test(t)) {
    const body = JSON.parse(Buffer.from(payload.body.value).toString())
    console.log(Date.now() % 100000, t, body.type ?? '', body.serviceName, body.subscribe ?? '', body.instance?.port ?? '', new Error().stack.split('\n').slice(2, 9).map((l) => l.trim().replace(/\(.*dist\//, '(')).join(' < '))
  }
  return unary.call(this, method, serialize, deserialize, payload, ...rest)
}
