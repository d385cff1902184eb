// The example API: the TypeScript counterpart of the seed's Flask service. It registers itself
// with Nacos, serves the monitoring routes and Swagger UI, reads its settings from the Nacos
// config center (and follows their changes live), and calls the echo service it finds through
// discovery.
import Fastify from 'fastify'
import nacos, { STRATEGIES } from 'fastify-nacos'
import { Type, type Static, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { API_CONFIG, API_SERVICE, ECHO_SERVICE, configure, loggerOptions } from './common.js'

/** The API's settings, as kept in Nacos under `example-api.yaml`; every change is validated. */
const ApiSettings = Type.Object({
  greeting: Type.String({ minLength: 1, maxLength: 100, default: 'Hello' }),
  strategy: Type.Union(STRATEGIES.map((s) => Type.Literal(s)), { default: 'round-robin' })
}, { $id: 'ApiSettings' })
type ApiSettings = Static<typeof ApiSettings>
/** Served while the config does not exist in Nacos (or once it is removed there). */
const DEFAULT_SETTINGS: ApiSettings = { greeting: 'Hello', strategy: 'round-robin' }
/** The preloaded config: given in `configs`, and the typed way to read its value. */
const SETTINGS_CONFIG = { dataId: API_CONFIG, key: 'settings', schema: ApiSettings }

const EchoReply = Type.Object({ message: Type.String(), instance: Type.String(), pid: Type.Integer() })
const Upstream = Type.Object({
  answeredBy: Type.String({ description: 'ip:port of the echo instance that answered' }),
  strategy: Type.String(),
  reply: EchoReply
}, { $id: 'Upstream' })
const Spread = Type.Object({
  calls: Type.Integer(),
  strategy: Type.String(),
  byInstance: Type.Record(Type.String(), Type.Integer(), { description: 'answers per echo instance' })
}, { $id: 'Spread' })
const Problem = Type.Object({ statusCode: Type.Integer(), error: Type.String(), message: Type.String() })

const app = Fastify({ logger: loggerOptions() }).withTypeProvider<TypeBoxTypeProvider>()
// @fastify/env validates the app's variables and the plugin's NACOS_* ones in one schema.
const env = await configure(app, 3000)
await app.register(nacos, {
  env,
  dotenv: false,
  serviceName: API_SERVICE,
  configs: [SETTINGS_CONFIG],
  // The write routes (POST .../register, .../deregister) exist once NACOS_MONITORING_TOKEN is set.
  monitoring: { swaggerUi: true }
})

// app.nacos.configs holds the value validated against ApiSettings, kept current by Nacos pushes;
// read by its entry, it is typed ApiSettings | undefined (undefined: absent in Nacos).
const settings = (): ApiSettings => app.nacos.configs.get(SETTINGS_CONFIG) ?? DEFAULT_SETTINGS

// Following changes live: the listener sees every new value that passed the schema.
const unwatch = app.nacos.config.watch(API_CONFIG, { schema: ApiSettings }, (value) => {
  app.log.info({ dataId: API_CONFIG, settings: value ?? DEFAULT_SETTINGS }, value === undefined ? 'settings absent in Nacos: defaults' : 'settings from Nacos')
})
app.addHook('onClose', async () => { unwatch() })

app.get('/hello', {
  schema: {
    tags: ['example'],
    summary: 'Greets with the greeting configured in Nacos (changes apply without a restart)',
    querystring: Type.Object({ name: Type.String({ default: 'world', minLength: 1, maxLength: 100 }) }),
    response: { 200: Type.Object({ message: Type.String(), source: Type.String() }) }
  }
}, async (request) => ({
  message: `${settings().greeting}, ${request.query.name}!`,
  source: app.nacos.configs.get(SETTINGS_CONFIG) === undefined ? 'defaults' : `nacos:${API_CONFIG}`
}))

app.get('/settings', {
  schema: { tags: ['example'], summary: `The current settings (Nacos config ${API_CONFIG})`, response: { 200: ApiSettings } }
}, async () => settings())

/** One call to the echo service by its name: an instance is picked per attempt, and retried on another one if it is down. */
async function callEcho (message: string): Promise<Static<typeof Upstream>> {
  const { strategy } = settings()
  // Rejects with FST_NACOS_NO_INSTANCE (503) when no healthy echo instance is registered.
  const res = await app.nacos.fetch(`http://${ECHO_SERVICE}/echo?${new URLSearchParams({ message }).toString()}`, { nacos: { strategy, timeout: 3000 } })
  if (!res.ok) throw new Error(`${ECHO_SERVICE} answered HTTP ${res.status}`)
  const reply = await res.json() as Static<typeof EchoReply>
  return { answeredBy: reply.instance, strategy, reply }
}

app.get('/echo', {
  schema: {
    tags: ['example'],
    summary: `Calls ${ECHO_SERVICE} through Nacos discovery and says which instance answered`,
    querystring: Type.Object({ message: Type.String({ default: 'ping', maxLength: 200 }) }),
    response: { 200: Upstream, 502: Problem }
  }
}, async (request, reply) => {
  try {
    return await callEcho(request.query.message)
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 503) throw err
    return await reply.code(502).send({ statusCode: 502, error: 'Bad Gateway', message: (err as Error).message })
  }
})

app.get('/echo/spread', {
  schema: {
    tags: ['example'],
    summary: 'Calls the echo service several times: the answers per instance show the load balancing',
    querystring: Type.Object({ calls: Type.Integer({ minimum: 1, maximum: 100, default: 10 }) }),
    response: { 200: Spread }
  }
}, async (request) => {
  const byInstance: Record<string, number> = {}
  for (let i = 0; i < request.query.calls; i++) {
    const { answeredBy } = await callEcho(`call ${i + 1}`)
    byInstance[answeredBy] = (byInstance[answeredBy] ?? 0) + 1
  }
  return { calls: request.query.calls, strategy: settings().strategy, byInstance }
})

await app.listen({ port: env.PORT, host: env.HOST })
