// The second service: it only says which instance answered. `npm run demo` starts it twice, on
// two ports, so the API's calls through discovery show the load balancing.
import Fastify from 'fastify'
import nacos from 'fastify-nacos'
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { ECHO_SERVICE, configure, loggerOptions } from './common.js'

const EchoReply = Type.Object({
  message: Type.String(),
  instance: Type.String({ description: 'ip:port of the instance that answered' }),
  pid: Type.Integer()
}, { $id: 'EchoReply' })

const app = Fastify({ logger: loggerOptions() }).withTypeProvider<TypeBoxTypeProvider>()
const env = await configure(app, 3101)
await app.register(nacos, { env, dotenv: false, serviceName: ECHO_SERVICE, metadata: { role: 'echo' } })

app.get('/echo', {
  schema: {
    tags: ['echo'],
    summary: 'Echoes the message and names this instance',
    querystring: Type.Object({ message: Type.String({ default: 'ping', maxLength: 200 }) }),
    response: { 200: EchoReply }
  }
}, async (request) => {
  const instance = app.nacos.status().instance
  return {
    message: request.query.message,
    instance: instance === null ? `${env.HOST}:${env.PORT}` : `${instance.ip}:${instance.port}`,
    pid: process.pid
  }
})

await app.listen({ port: env.PORT, host: env.HOST })
// Registration runs once the server listens, after listen() resolved. With NACOS_FAIL_FAST=true a
// first registration Nacos refuses closes the app: the process then ends with code 1.
app.nacos.registered().catch((err: { code?: string }) => { if (err.code === 'FST_NACOS_REGISTRATION_FAILED') process.exitCode = 1 })
