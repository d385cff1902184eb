// The monitoring routes, in their own encapsulated context under the prefix: their validator,
// error handler, 404 handler and bearer-auth stay there and never touch the application's routes.
import type { FastifyInstance, FastifyPluginAsync, onRequestHookHandler } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import bearerAuth from '@fastify/bearer-auth'
import { secretValues, type ResolvedSettings } from '../settings.js'
import { SettingError, NacosUnavailableError, RouteNotFoundError, TooManyLookupsError } from '../errors.js'
import type { NacosRegistry } from '../types.js'
import { MONITORING_SCHEMAS, MonitoringErrorSchema, MonitoringRouteSchemas, type MonitoringWatches } from './schemas.js'
import { typeboxValidator } from './validation.js'
import { errorHandler, scrubber } from './errors.js'
import { healthOf, serviceView } from './views.js'
import { serviceKey } from '../naming/names.js'
import type { Instance, InstancesOptions, ServiceQuery } from '../naming/discovery.js'
import { LookedUp, MAX_LOOKUPS } from './lookups.js'
import { registerOpenApi, registerSwaggerUi } from './openapi.js'

export interface MonitoringOptions {
  /** Where the routes live (default '/monitoring/nacos'). */
  prefix?: string
  /** Bearer token; else NACOS_MONITORING_TOKEN. Without one, the write routes answer 404. */
  token?: string
  /** The read routes need the token too (default false; else NACOS_MONITORING_PROTECT_READS). /health stays open. */
  protectReads?: boolean
  /** Register @fastify/swagger (OpenAPI 3) unless the app already did (default true). */
  openapi?: boolean
  /** Mount @fastify/swagger-ui: true = '/documentation', a string = its route prefix (default false). */
  swaggerUi?: boolean | string
}

export { MAX_LOOKUPS } from './lookups.js'

/** Discovery as the routes use it: what they look up they let go again (lookups.ts). */
export interface RoutesDiscovery {
  lookup: (service: string, options: InstancesOptions) => Promise<readonly Instance[]>
  release: (service: string, options: ServiceQuery) => void
}
/** What the metrics route serves; absent when metrics are off or `metrics.route` is false. */
export type MetricsScrape = () => Promise<{ contentType: string, text: string }>
/** What the app observes, for the routes: the metrics (when on) and what it watches. */
export interface RoutesObserved {
  scrape: MetricsScrape | undefined
  watches: () => MonitoringWatches
}
/** The write routes take no body; anything bigger than this is a 413 before it is read. */
const BODY_LIMIT = 1024
const INSTANCES = '/instances'
const UNAUTHORIZED = { $ref: MonitoringErrorSchema.$id, description: 'No `Authorization: Bearer <token>` header, or a wrong token' }

interface RoutesOptions {
  token: string | undefined
  protectReads: boolean
  secrets: Array<string | undefined>
  /** operationIds of the routes that need the token, for the OpenAPI document. */
  guarded: Set<string>
  discovery: RoutesDiscovery
  observed: RoutesObserved
}

const routes: FastifyPluginAsync<RoutesOptions> = async (fastify, opts) => {
  for (const schema of MONITORING_SCHEMAS) fastify.addSchema(schema)
  fastify.setValidatorCompiler(typeboxValidator(MONITORING_SCHEMAS))
  const scrub = scrubber(opts.secrets)
  fastify.setErrorHandler(errorHandler(scrub))
  fastify.setNotFoundHandler(async (request) => {
    throw new RouteNotFoundError(request.method, scrub(request.url.slice(0, 200)))
  })
  fastify.addHook('onSend', async (_request, reply) => { reply.header('cache-control', 'no-store') })

  let verify: onRequestHookHandler | undefined
  if (opts.token !== undefined) {
    // Constant-time comparison; a failure goes to our error handler (401, shared error shape).
    await fastify.register(bearerAuth, { keys: [opts.token], addHook: false, verifyErrorLogLevel: 'info' })
    verify = fastify.verifyBearerAuth
  }
  // The security requirement is not declared here but added to the finished document (openapi.ts).
  const guarded = <S extends { response: object, operationId: string }>(schema: S, on: boolean): { schema: S, onRequest?: onRequestHookHandler } => {
    if (!on || verify === undefined) return { schema }
    opts.guarded.add(schema.operationId)
    return { schema: { ...schema, response: { ...schema.response, 401: UNAUTHORIZED } }, onRequest: verify }
  }

  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const nacos = (): NacosRegistry => fastify.nacos

  app.get('/service', guarded(MonitoringRouteSchemas.service, opts.protectReads), async () => serviceView(nacos(), scrub))

  const looked = new LookedUp<{ service: string, query: ServiceQuery }>()
  const release = ({ service, query }: { service: string, query: ServiceQuery }): void => { opts.discovery.release(service, query) }
  // A wildcard, not `/service/:serviceName/instances`: the router caps a parameter at its
  // maxParamLength (100 by default) and answers a bare 414 that echoes the path, while Nacos names
  // go to 256 characters. The name is cut from the path before validation, so the params schema
  // checks it like any parameter; the document still shows /service/{serviceName}/instances.
  app.get('/service/*', {
    ...guarded(MonitoringRouteSchemas.instances, opts.protectReads),
    preValidation: async (request) => {
      const rest = (request.params as Record<string, string>)['*'] ?? ''
      if (!rest.endsWith(INSTANCES)) throw new RouteNotFoundError(request.method, scrub(request.url.slice(0, 200)))
      request.params = { serviceName: rest.slice(0, -INSTANCES.length) }
    },
    config: { swaggerTransform: ({ schema, url }) => ({ schema, url: url.replace(/\*$/, `:serviceName${INSTANCES}`) }) }
  }, async (request) => {
    const { serviceName } = request.params
    const { group = 'DEFAULT_GROUP', clusters, healthyOnly = false } = request.query
    const query = { group, clusters: clusters === undefined ? [] : clusters.split(','), healthyOnly }
    if (!looked.admit(serviceKey(serviceName, query), { service: serviceName, query }, release)) throw new TooManyLookupsError(MAX_LOOKUPS)
    let instances
    try {
      instances = await opts.discovery.lookup(serviceName, query)
    } catch (err) {
      throw new NacosUnavailableError(serviceName, (err as Error).message)
    }
    return { serviceName, group, count: instances.length, instances: [...instances] }
  })

  app.get('/watches', guarded(MonitoringRouteSchemas.watches, opts.protectReads), async () => opts.observed.watches())

  const scrape = opts.observed.scrape
  if (scrape !== undefined) {
    app.get('/metrics', guarded(MonitoringRouteSchemas.metrics, opts.protectReads), async (_request, reply) => {
      const { contentType, text } = await scrape()
      return await reply.type(contentType).send(text)
    })
  }

  if (opts.token !== undefined) {
    const write = { bodyLimit: BODY_LIMIT }
    app.post('/service/register', { ...write, ...guarded(MonitoringRouteSchemas.register, true) }, async () => {
      await nacos().register()
      return serviceView(nacos(), scrub)
    })
    app.post('/service/deregister', { ...write, ...guarded(MonitoringRouteSchemas.deregister, true) }, async () => {
      await nacos().deregister()
      return serviceView(nacos(), scrub)
    })
  }

  app.get('/health', { schema: MonitoringRouteSchemas.health }, async (_request, reply) => {
    const health = healthOf(nacos().status(), nacos().settings)
    if (health.status === 'UP') return health
    return await reply.code(503).send(health)
  })
}

/** Checks the options, then registers the OpenAPI document, the routes and the UI. */
export async function mountMonitoring (fastify: FastifyInstance, options: MonitoringOptions, config: ResolvedSettings, discovery: RoutesDiscovery, observed: RoutesObserved): Promise<void> {
  const prefix = options.prefix ?? '/monitoring/nacos'
  if (!/^\/[A-Za-z0-9._~/-]*$/.test(prefix)) {
    throw new SettingError('option monitoring.prefix', `monitoring.prefix=${JSON.stringify(prefix)}`, 'a path starting with "/" (letters, digits, "-", ".", "_", "~", "/")')
  }
  if (config.monitoringProtectReads && config.monitoringToken === undefined) {
    throw new SettingError('NACOS_MONITORING_PROTECT_READS', 'NACOS_MONITORING_PROTECT_READS=true',
      'a token to protect them with: set NACOS_MONITORING_TOKEN (or monitoring.token)')
  }
  const guarded = new Set<string>()
  await registerOpenApi(fastify, options, config, guarded)
  await fastify.register(routes, {
    guarded,
    discovery,
    observed,
    prefix: prefix === '/' ? '' : prefix.replace(/\/$/, ''),
    token: config.monitoringToken,
    protectReads: config.monitoringProtectReads,
    secrets: secretValues(config)
  })
  await registerSwaggerUi(fastify, options)
}
