// The OpenAPI document (@fastify/swagger) and its optional UI (@fastify/swagger-ui). Both are
// loaded only when used. @fastify/swagger collects routes from an onRoute hook, so it must be
// registered before the routes it documents; an app that registered it already keeps its own.
//
// The bearer scheme of the protected routes is added to the finished document, not declared in
// the route schemas: @fastify/swagger looks every scheme a route names up in the document's own
// options while it builds the document, and throws (`reading 'type'`, `reading
// 'nacosMonitoringToken'`) when the app's options do not declare it — which we cannot change in a
// document the app configured. Patching the finished object needs nothing from those options,
// works the same for OpenAPI 3.0, 3.1 and Swagger 2.0, and leaves the app's own schemes alone.
import type { FastifyInstance } from 'fastify'
import { stringify } from 'yaml'
import { SettingError } from '../errors.js'
import type { ResolvedSettings } from '../settings.js'
import { MONITORING_SCHEMAS, MONITORING_SECURITY_SCHEME, MonitoringRouteSchemas, monitoringSecurityScheme } from './schemas.js'
import { convertDefinitions } from './swagger-legacy.js'

const COMPONENT_NAME = /^[A-Za-z0-9._-]+$/
const TAG = { name: 'nacos', description: 'Registration with Nacos and discovery (fastify-nacos)' }
/** Swagger 2.0 has no bearer type: the same header, as an API key. */
const SWAGGER2_SCHEME = { type: 'apiKey', in: 'header', name: 'Authorization', description: `\`Bearer <token>\`: ${monitoringSecurityScheme.description}` }
/** Where the plugin's own @fastify/swagger lives until ready; `swagger` stays free for the app. */
const OWN_DOCUMENT = Symbol('fastify-nacos.openapi')
/** The operationIds the patch protects, kept on the wrapper so a second registration adds to it. */
const GUARDED = Symbol('fastify-nacos.guarded')
const OPERATIONS: ReadonlySet<string> = new Set(Object.values(MonitoringRouteSchemas).map((schema) => schema.operationId))
const SCHEMA_IDS: ReadonlySet<string> = new Set(MONITORING_SCHEMAS.map((schema) => schema.$id ?? ''))

export interface OpenApiOptions {
  openapi?: boolean
  swaggerUi?: boolean | string
}

type Generate = ((opts?: { yaml?: boolean }) => unknown) & { [GUARDED]?: Set<string> }
interface Operation { operationId?: string, security?: unknown[] }
interface Document {
  swagger?: string
  paths?: Record<string, Record<string, Operation | undefined> | undefined>
  components?: { securitySchemes?: Record<string, unknown> }
  securityDefinitions?: Record<string, unknown>
  definitions?: Record<string, unknown>
  tags?: Array<{ name: string }>
}

/**
 * Completes a finished document that lists the monitoring routes: the nacos tag, the bearer scheme
 * on the operations in `guarded`, and (Swagger 2.0) the monitoring schemas in Swagger 2.0 form.
 */
function completeDocument (doc: Document, guarded: ReadonlySet<string>): Document {
  let ours = false
  let used = false
  for (const item of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(item ?? {})) {
      const id = op?.operationId?.replace(/-head$/, '')
      if (op === undefined || id === undefined || !OPERATIONS.has(id)) continue
      ours = true
      if (!guarded.has(id)) continue
      op.security = [{ [MONITORING_SECURITY_SCHEME]: [] }]
      used = true
    }
  }
  if (!ours) return doc
  if (!(doc.tags ?? []).some((tag) => tag.name === TAG.name)) doc.tags = [...(doc.tags ?? []), { ...TAG }]
  if (doc.swagger !== undefined) convertDefinitions(doc.definitions, SCHEMA_IDS)
  if (!used) return doc
  if (doc.swagger !== undefined) {
    doc.securityDefinitions = { [MONITORING_SECURITY_SCHEME]: { ...SWAGGER2_SCHEME }, ...doc.securityDefinitions }
  } else {
    doc.components = { ...doc.components, securitySchemes: { [MONITORING_SECURITY_SCHEME]: { ...monitoringSecurityScheme }, ...doc.components?.securitySchemes } }
  }
  return doc
}

function withMonitoringSecurity (generate: Generate, guarded: Set<string>): Generate {
  let yaml: { of: unknown, text: string } | undefined
  const patched: Generate = (opts) => {
    // @fastify/swagger caches its object, so patching it is done once per document in effect.
    const doc = completeDocument(generate() as Document, guarded)
    if (opts?.yaml !== true) return doc
    if (yaml?.of !== doc) yaml = { of: doc, text: stringify(doc, { strict: false }) }
    return yaml.text
  }
  patched[GUARDED] = guarded
  return patched
}

/** The Fastify instance (this one or an ancestor) that holds `key` as its own property. */
function holder (instance: object, key: PropertyKey): Record<PropertyKey, unknown> | undefined {
  for (let o: object | null = instance; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    if (Object.hasOwn(o, key)) return o as Record<PropertyKey, unknown>
  }
  return undefined
}

/**
 * Registers the plugin's own document unless the app has one; at ready, exposes it as
 * `app.swagger` (or patches the app's). `guarded` is filled by the routes that need the token.
 */
export async function registerOpenApi (fastify: FastifyInstance, options: OpenApiOptions, config: ResolvedSettings, guarded: Set<string>): Promise<void> {
  const appFirst = fastify.hasDecorator('swagger')
  if (!appFirst && options.openapi !== false) {
    const { default: swagger } = await import('@fastify/swagger')
    // Under a private decorator: an app that registers @fastify/swagger after the plugin then gets
    // the clear error below at ready, instead of Fastify's uncatchable "decorator already added".
    await fastify.register(swagger, {
      decorator: OWN_DOCUMENT as unknown as string,
      openapi: {
        openapi: '3.0.3',
        info: { title: config.serviceName, version: '0.0.0', description: `HTTP API of ${config.serviceName}; the nacos-tagged routes are fastify-nacos's monitoring API` }
      },
      // Components named after the schemas' $ids (NacosService, NacosError…) rather than def-0, def-1.
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) =>
          typeof json.$id === 'string' && COMPONENT_NAME.test(json.$id) ? json.$id : `def-${i}`
      }
    })
  }
  fastify.addHook('onReady', async function exposeDocument () {
    const own = (fastify as unknown as Record<symbol, Generate | undefined>)[OWN_DOCUMENT]
    const target = holder(fastify, 'swagger')
    if (target === undefined) {
      // Decorators are closed once the app starts: the document becomes a plain property.
      if (own !== undefined) (fastify as unknown as Record<string, unknown>).swagger = withMonitoringSecurity(own, guarded)
      return
    }
    if (!appFirst && own !== undefined) {
      throw new SettingError('@fastify/swagger', '@fastify/swagger registered after fastify-nacos',
        'its document lists only routes added after it: register @fastify/swagger before fastify-nacos (or set monitoring.openapi: false to leave the monitoring routes out of it)')
    }
    const current = target.swagger as Generate
    const known = current[GUARDED]
    if (known !== undefined) for (const id of guarded) known.add(id)
    else target.swagger = withMonitoringSecurity(current, guarded)
  })
}

export async function registerSwaggerUi (fastify: FastifyInstance, options: OpenApiOptions): Promise<void> {
  if (options.swaggerUi === undefined || options.swaggerUi === false) return
  const routePrefix = options.swaggerUi === true ? '/documentation' : options.swaggerUi
  if (!routePrefix.startsWith('/')) {
    throw new SettingError('option monitoring.swaggerUi', `monitoring.swaggerUi=${JSON.stringify(routePrefix)}`, 'true, false or a path starting with "/"')
  }
  if (!fastify.hasDecorator('swagger') && !fastify.hasDecorator(OWN_DOCUMENT as unknown as string)) {
    throw new SettingError('option monitoring.swaggerUi', 'monitoring.openapi=false', 'an OpenAPI document: leave monitoring.openapi on, or register @fastify/swagger before fastify-nacos')
  }
  const { default: swaggerUi } = await import('@fastify/swagger-ui')
  await fastify.register(swaggerUi, { routePrefix })
}
