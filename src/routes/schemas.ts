// The monitoring API's schemas, written once: they validate requests, serialize responses (only
// declared fields leave the server), type the handlers and a caller's client, and become the
// components of the OpenAPI document. Every schema has an `$id`; routes point at them by reference.
import { Type, type Static, type TSchema, type TString } from '@sinclair/typebox'
import { SERVICE_NAME, SERVICE_NAME_RULE } from '../naming/names.js'

/** A reference to a shared schema that keeps the referenced type for TypeScript. */
function ref<T extends TSchema> (schema: T, description?: string): T {
  if (schema.$id === undefined) throw new Error('only schemas with an $id are shared')
  return Type.Unsafe<Static<T>>(Type.Ref(schema.$id, description === undefined ? {} : { description })) as unknown as T
}

const NAME_BODY = SERVICE_NAME.slice(1, -1)
const name = (description: string): TString =>
  Type.String({ pattern: SERVICE_NAME, description: `${description}: ${SERVICE_NAME_RULE}` })

/** Every error the monitoring routes answer: validation (400), auth (401), 404, 409, 413, 415, 429, 503. */
export const MonitoringErrorSchema = Type.Object({
  statusCode: Type.Integer({ minimum: 400, maximum: 599 }),
  code: Type.String({ description: 'stable code to match on, e.g. FST_ERR_VALIDATION, FST_NACOS_REGISTRATION_FAILED' }),
  error: Type.String({ description: 'the HTTP reason phrase' }),
  message: Type.String({ description: 'what went wrong, for a human' })
}, { $id: 'NacosError', additionalProperties: false, description: 'An error answer' })

export const HeartbeatSchema = Type.Object({
  intervalMs: Type.Integer({ description: 'how often this instance beats' }),
  timeoutMs: Type.Integer({ description: 'Nacos marks the instance unhealthy after this long without a beat' }),
  deregisterTimeMs: Type.Integer({ description: 'Nacos removes the instance after this long without a beat' })
}, { $id: 'NacosHeartbeat', additionalProperties: false })

export const CountsSchema = Type.Object({
  registrations: Type.Integer(),
  deregistrations: Type.Integer(),
  beats: Type.Integer(),
  failedBeats: Type.Integer(),
  failedRegistrations: Type.Integer(),
  reRegistrations: Type.Integer()
}, { $id: 'NacosCounts', additionalProperties: false, description: 'Counters since start-up' })

const REGISTRATION_STATES = ['idle', 'registering', 'registered', 'retrying', 'deregistered'] as const
const State = Type.Union(REGISTRATION_STATES.map((s) => Type.Literal(s)), { description: 'registration state' })
const Metadata = Type.Record(Type.String(), Type.String())

const Since = Type.String({ format: 'date-time', description: 'when the snapshot served was written' })

/** What is served from a local snapshot now, because Nacos has not answered for it since the start. */
export const SnapshotsSchema = Type.Object({
  services: Type.Array(Type.Object({ service: Type.String(), group: Type.String(), clusters: Type.Array(Type.String()), savedAt: Since }, { additionalProperties: false })),
  configs: Type.Array(Type.Object({ dataId: Type.String(), group: Type.String(), savedAt: Since }, { additionalProperties: false }))
}, { $id: 'NacosSnapshots', additionalProperties: false, description: 'Services and preloaded configs served from a local snapshot (empty while Nacos answers)' })

/** This service as registered (GET /service, and the answer of register/deregister). No secret is declared, so none is sent. */
export const ServiceSchema = Type.Object({
  serviceName: Type.String(),
  group: Type.String(),
  namespace: Type.String(),
  ip: Type.Union([Type.String(), Type.Null()], { description: 'advertised IP; null before the server listens (when auto-detected)' }),
  port: Type.Union([Type.Integer(), Type.Null()], { description: 'advertised port; null before the server listens (when not set)' }),
  clusterName: Type.String(),
  weight: Type.Number(),
  ephemeral: Type.Boolean(),
  metadata: Metadata,
  registerEnabled: Type.Boolean({ description: 'false: NACOS_REGISTER_ENABLED=false, this instance never registers' }),
  state: State,
  registeredAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastBeatAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  heartbeat: ref(HeartbeatSchema),
  lastError: Type.Union([Type.String(), Type.Null()], { description: 'the last registration or heartbeat failure, cleared by success' }),
  snapshots: ref(SnapshotsSchema),
  counts: ref(CountsSchema)
}, { $id: 'NacosService', additionalProperties: false, description: 'This service\'s registration' })

export const InstanceSchema = Type.Object({
  instanceId: Type.String(),
  ip: Type.String(),
  port: Type.Integer(),
  weight: Type.Number(),
  healthy: Type.Boolean(),
  enabled: Type.Boolean(),
  ephemeral: Type.Boolean(),
  clusterName: Type.String(),
  serviceName: Type.String(),
  metadata: Metadata
}, { $id: 'NacosInstance', additionalProperties: false, description: 'One instance of a service' })

export const InstanceListSchema = Type.Object({
  serviceName: Type.String(),
  group: Type.String(),
  count: Type.Integer(),
  instances: Type.Array(ref(InstanceSchema))
}, { $id: 'NacosInstanceList', additionalProperties: false, description: 'Instances of a service, from the discovery cache' })

export const HealthUpSchema = Type.Object({
  status: Type.Literal('UP'),
  state: State,
  degraded: Type.Optional(Type.Literal(true, { description: 'Nacos is unreachable after this instance registered: it keeps serving (from the discovery cache and snapshots) while registration is retried' })),
  detail: Type.Optional(Type.String({ description: 'what degraded means now' }))
}, { $id: 'NacosHealthUp', additionalProperties: false, description: 'Registered, registration disabled, or registered before Nacos became unreachable (degraded)' })

export const HealthDownSchema = Type.Object({
  status: Type.Literal('DOWN'),
  state: State,
  reason: Type.String()
}, { $id: 'NacosHealthDown', additionalProperties: false, description: 'Not registered (yet, or any more)' })

export const InstancesParamsSchema = Type.Object({
  serviceName: name('service name')
}, { $id: 'NacosInstancesParams', additionalProperties: false })

export const InstancesQuerySchema = Type.Object({
  group: Type.Optional(name('group (default DEFAULT_GROUP)')),
  clusters: Type.Optional(Type.String({
    pattern: `^${NAME_BODY}(,${NAME_BODY}){0,31}$`,
    description: `only these clusters, comma-separated (at most 32), each ${SERVICE_NAME_RULE}`
  })),
  healthyOnly: Type.Optional(Type.Boolean({ description: 'only healthy, enabled instances (default false)' }))
}, { $id: 'NacosInstancesQuery', additionalProperties: false })

/** Routes that take no query: any field is a 400. */
export const NoQuerySchema = Type.Object({}, { $id: 'NacosNoQuery', additionalProperties: false })

/** The write routes take no body, or an empty JSON object. */
export const NoBodySchema = Type.Object({}, { $id: 'NacosNoBody', additionalProperties: false, description: 'No body at all, or an empty JSON object' })

/** What this app watches: services it follows, configs it listens to, recent config changes. No content. */
export const WatchesSchema = Type.Object({
  services: Type.Array(Type.Object({
    service: Type.String(),
    group: Type.String(),
    clusters: Type.Array(Type.String()),
    instances: Type.Integer({ description: 'instances in the cache' }),
    lastRefTime: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'when Nacos last changed them, as it stamped the list; null before the first read' })
  }, { additionalProperties: false })),
  configs: Type.Array(Type.Object({
    dataId: Type.String(),
    group: Type.String(),
    listeners: Type.Integer(),
    lastChangeAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'when the last change arrived; null when none since the watch started' }),
    changes: Type.Integer({ description: 'changes received since the watch started' })
  }, { additionalProperties: false })),
  history: Type.Array(Type.Object({ dataId: Type.String(), group: Type.String(), at: Type.String({ format: 'date-time' }) }, { additionalProperties: false }),
    { description: 'the 20 most recent config changes, newest first (as Spring Cloud\'s NacosRefreshHistory)' })
}, { $id: 'NacosWatches', additionalProperties: false })

/** Every shared schema, in dependency order (the plugin adds them with `addSchema`). */
export const MONITORING_SCHEMAS: readonly TSchema[] = [
  MonitoringErrorSchema, HeartbeatSchema, CountsSchema, SnapshotsSchema, ServiceSchema, InstanceSchema, InstanceListSchema,
  HealthUpSchema, HealthDownSchema, InstancesParamsSchema, InstancesQuerySchema, NoQuerySchema, NoBodySchema, WatchesSchema
]

export type MonitoringError = Static<typeof MonitoringErrorSchema>
export type MonitoringService = Static<typeof ServiceSchema>
export type MonitoringSnapshots = Static<typeof SnapshotsSchema>
export type MonitoringInstance = Static<typeof InstanceSchema>
export type MonitoringInstanceList = Static<typeof InstanceListSchema>
export type MonitoringHealthUp = Static<typeof HealthUpSchema>
export type MonitoringHealthDown = Static<typeof HealthDownSchema>
export type MonitoringInstancesParams = Static<typeof InstancesParamsSchema>
export type MonitoringInstancesQuery = Static<typeof InstancesQuerySchema>
export type MonitoringWatches = Static<typeof WatchesSchema>

const error = (description: string): typeof MonitoringErrorSchema => ref(MonitoringErrorSchema, description)
const BAD_REQUEST = error('Invalid request: unknown query field, wrong type, malformed name (FST_ERR_VALIDATION), or unparsable body')
const TOO_LARGE = error('Body larger than 1 KiB')
const MEDIA_TYPE = error('Body of a type other than JSON or text')
const TAGS = ['nacos']

/**
 * The route schemas (without the 401 and the security requirement that protection adds). With
 * `@fastify/type-provider-typebox` they type a handler or a client exactly as the plugin's routes.
 */
export const MonitoringRouteSchemas = {
  service: {
    tags: TAGS,
    operationId: 'nacosService',
    summary: 'This service\'s registration',
    description: 'Name, group, namespace, address, cluster, weight, metadata, state, registration time, last heartbeat, heartbeat settings and last error. Never a secret.',
    querystring: ref(NoQuerySchema),
    response: { 200: ref(ServiceSchema), 400: BAD_REQUEST }
  },
  instances: {
    tags: TAGS,
    operationId: 'nacosInstances',
    summary: 'Instances of any service',
    description: 'From the discovery cache: the first lookup of a service reads Nacos and subscribes to its changes.',
    params: ref(InstancesParamsSchema),
    querystring: ref(InstancesQuerySchema),
    response: {
      200: ref(InstanceListSchema),
      400: BAD_REQUEST,
      429: error('Every service this API follows (at most 256) was looked up within the last minute: no room for another yet (FST_NACOS_TOO_MANY_LOOKUPS)'),
      503: error('Nacos did not answer the first lookup of this service (FST_NACOS_UNAVAILABLE)')
    }
  },
  register: {
    tags: TAGS,
    operationId: 'nacosRegister',
    summary: 'Register this service now',
    description: 'Idempotent: answers the new state. 409 when the server does not listen yet or registration is disabled; 503 when Nacos refuses.',
    querystring: ref(NoQuerySchema),
    body: ref(NoBodySchema),
    response: {
      200: ref(ServiceSchema, 'Registered: the new state'),
      400: BAD_REQUEST,
      409: error('The server does not listen yet (FST_NACOS_NOT_LISTENING) or registration is disabled (FST_NACOS_REGISTRATION_DISABLED)'),
      413: TOO_LARGE,
      415: MEDIA_TYPE,
      503: error('Nacos refused or did not answer (FST_NACOS_REGISTRATION_FAILED); retries go on in the background')
    }
  },
  deregister: {
    tags: TAGS,
    operationId: 'nacosDeregister',
    summary: 'Deregister this service and stop its heartbeats',
    description: 'Idempotent: answers the new state. Registering again is POST /service/register.',
    querystring: ref(NoQuerySchema),
    body: ref(NoBodySchema),
    response: { 200: ref(ServiceSchema, 'Deregistered: the new state'), 400: BAD_REQUEST, 413: TOO_LARGE, 415: MEDIA_TYPE }
  },
  health: {
    tags: TAGS,
    operationId: 'nacosHealth',
    summary: 'Readiness: should this instance get traffic?',
    description: '200 when registered or registration is disabled, and during a Nacos outage after this instance registered (degraded: true); 503 with a reason when it never registered, was deregistered, or is closing. Never needs the token.',
    querystring: ref(NoQuerySchema),
    response: { 200: ref(HealthUpSchema), 400: BAD_REQUEST, 503: ref(HealthDownSchema) }
  },
  watches: {
    tags: TAGS,
    operationId: 'nacosWatches',
    summary: 'What this app watches',
    description: 'The services it follows (instance counts, last change), the configs it listens to (last change, count) and the recent config changes. Names and times only: no config content, no secret.',
    querystring: ref(NoQuerySchema),
    response: { 200: ref(WatchesSchema, 'Services followed, configs watched, recent config changes'), 400: BAD_REQUEST }
  },
  metrics: {
    tags: TAGS,
    operationId: 'nacosMetrics',
    summary: 'Prometheus metrics',
    description: 'The metrics registry in Prometheus text format (the plugin\'s metrics and whatever else the app put in the same registry). Only with metrics on.',
    querystring: ref(NoQuerySchema),
    response: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: Type.String() } } }, 400: BAD_REQUEST }
  }
} as const

/** The security scheme the protected routes require; the plugin declares it in whatever document the app has. */
export const MONITORING_SECURITY_SCHEME = 'nacosMonitoringToken'
export const monitoringSecurityScheme = {
  type: 'http',
  scheme: 'bearer',
  description: 'The monitoring token (NACOS_MONITORING_TOKEN or the monitoring.token option)'
} as const
