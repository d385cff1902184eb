// The generated OpenAPI 3 document: valid for an independent validator (swagger-parser), with
// every route and every response status, tags, descriptions, the bearer scheme on the protected
// routes, components from the shared schemas; and the answers really have the documented shapes.
import t from 'tap'
import { Registry } from 'prom-client'
import Fastify, { type FastifyInstance, type InjectOptions, type RouteOptions } from 'fastify'
import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger'
import SwaggerParser from '@apidevtools/swagger-parser'
import { Value } from '@sinclair/typebox/value'
import type { TSchema } from '@sinclair/typebox'
import nacos, { MONITORING_SCHEMAS, MONITORING_SECURITY_SCHEME, monitoringSecurityScheme, type NacosPluginOptions } from '../src/index.ts'
import { uniqueService } from './helpers/nacos-api.ts'
import { AUTH, PREFIX, TOKEN, base, monitoredApp } from './helpers/monitoring.ts'

interface Operation { tags?: string[], summary?: string, description?: string, security?: unknown[], responses: Record<string, { description: string, content?: Record<string, { schema: { $ref?: string } }> }> }
interface Document { openapi: string, security?: unknown[], info: { title: string }, tags?: Array<{ name: string }>, paths: Record<string, Record<string, Operation>>, components: { schemas: Record<string, unknown>, securitySchemes?: Record<string, unknown> } }

/** What the issue asks for: each route, and every status it can answer. */
const EXPECTED: Record<string, { method: string, statuses: string[], writes?: true, read?: true }> = {
  '/service': { method: 'get', statuses: ['200', '400'], read: true },
  '/service/{serviceName}/instances': { method: 'get', statuses: ['200', '400', '429', '503'], read: true },
  '/service/register': { method: 'post', statuses: ['200', '400', '401', '409', '413', '415', '503'], writes: true },
  '/service/deregister': { method: 'post', statuses: ['200', '400', '401', '413', '415'], writes: true },
  '/health': { method: 'get', statuses: ['200', '400', '503'] },
  '/watches': { method: 'get', statuses: ['200', '400'], read: true }
}

async function documented (t: Parameters<typeof monitoredApp>[0], options: NacosPluginOptions): Promise<{ app: FastifyInstance, doc: Document, routes: RouteOptions[] }> {
  const app = Fastify()
  t.teardown(async () => await app.close())
  const routes: RouteOptions[] = []
  app.addHook('onRoute', (route) => { if (route.method !== 'HEAD') routes.push(route) })
  await app.register(nacos, { ...base, serviceName: uniqueService('doc'), ...options })
  await app.ready()
  const doc = app.swagger() as unknown as Document
  // swagger-parser dereferences in place: validate a copy.
  await SwaggerParser.validate(structuredClone(doc) as never)
  return { app, doc, routes }
}

t.test('the document is valid OpenAPI 3 with every route and every response status', async (t) => {
  const { doc, routes } = await documented(t, { monitoring: { token: TOKEN } })
  t.match(doc.openapi, /^3\./)
  const broken = structuredClone(doc)
  delete (broken.paths[`${PREFIX}/health`]?.get as Partial<Operation>).responses
  await t.rejects(SwaggerParser.validate(broken as never), 'the validator does reject an invalid document')
  t.ok(doc.tags?.some((tag) => tag.name === 'nacos'), 'the nacos tag is described')
  for (const [path, expected] of Object.entries(EXPECTED)) {
    const op = doc.paths[`${PREFIX}${path}`]?.[expected.method]
    if (op === undefined) { t.fail(`${expected.method} ${path} missing`); continue }
    t.same(Object.keys(op.responses).sort(), expected.statuses, `${path}: every status`)
    t.same(op.tags, ['nacos'])
    t.ok(op.summary && op.description, `${path}: summary and description`)
    t.ok(Object.values(op.responses).every((r) => r.description.length > 0 && r.description !== 'Default Response'), `${path}: every response described`)
    t.same(op.security, expected.writes ? [{ [MONITORING_SECURITY_SCHEME]: [] }] : undefined, `${path}: security only where a token is needed`)
    for (const [status, response] of Object.entries(op.responses)) {
      t.match(response.content?.['application/json']?.schema.$ref, /^#\/components\/schemas\/Nacos/, `${path} ${status}: a shared component`)
    }
  }
  // Cross-check with the routes Fastify really registered under the prefix.
  const ours = routes.filter((r) => r.url.startsWith(PREFIX))
  t.equal(ours.length, Object.keys(EXPECTED).length, 'no undocumented route')
  for (const route of ours) {
    // The instances route is a wildcard for the router; its swaggerTransform gives the documented path.
    const transform = route.config?.swaggerTransform
    const url = typeof transform === 'function' ? (transform({ schema: route.schema ?? {}, url: route.url, route, openapiObject: {} } as never).url ?? route.url) : route.url
    const path = url.slice(PREFIX.length).replace(/:(\w+)/g, '{$1}')
    const declared = Object.keys((route.schema?.response ?? {}) as object).sort()
    t.same(declared, EXPECTED[path]?.statuses, `${route.method} ${path}: declared responses = documented`)
  }
  t.same(doc.components.securitySchemes, { [MONITORING_SECURITY_SCHEME]: monitoringSecurityScheme })
  for (const schema of MONITORING_SCHEMAS) t.ok(doc.components.schemas[schema.$id ?? ''], `component ${schema.$id}`)
})

t.test('protectReads puts the read routes behind the bearer scheme, /health stays open', async (t) => {
  const { doc } = await documented(t, { monitoring: { token: TOKEN, protectReads: true } })
  for (const [path, expected] of Object.entries(EXPECTED)) {
    const op = doc.paths[`${PREFIX}${path}`]?.[expected.method]
    const guarded = expected.read === true || expected.writes === true
    t.equal(op?.security !== undefined, guarded, `${path}: security`)
    t.equal(op?.responses['401'] !== undefined, guarded, `${path}: 401 declared`)
  }
})

t.test('with metrics on, /metrics is documented as Prometheus text, behind the token with protectReads', async (t) => {
  const { doc } = await documented(t, { metrics: { registry: new Registry() }, monitoring: { token: TOKEN, protectReads: true } })
  const op = doc.paths[`${PREFIX}/metrics`]?.get
  t.same(Object.keys(op?.responses ?? {}).sort(), ['200', '400', '401'])
  t.ok(op?.security, 'security')
  t.ok((op?.responses['200'] as { content?: Record<string, unknown> } | undefined)?.content?.['text/plain'], 'text/plain')
})

t.test('without a token the write routes are neither served nor documented', async (t) => {
  const { doc } = await documented(t, {})
  t.same(Object.keys(doc.paths).sort(), [`${PREFIX}/health`, `${PREFIX}/service`, `${PREFIX}/service/{serviceName}/instances`, `${PREFIX}/watches`])
})

// The documents apps really configure: none of them declares the plugin's scheme.
const APP_KEY = { type: 'apiKey', in: 'header', name: 'x-api-key' } as const
const STYLES: Array<[string, FastifyDynamicSwaggerOptions, 'openapi' | 'swagger']> = [
  ['OpenAPI 3.0, info only', { openapi: { info: { title: 'mine', version: '1.2.3' } } }, 'openapi'],
  ['OpenAPI 3.0 with its own API key scheme, required globally', { openapi: { info: { title: 'mine', version: '1.2.3' }, components: { securitySchemes: { appKey: APP_KEY } }, security: [{ appKey: [] }] } }, 'openapi'],
  ['OpenAPI 3.1 with components but no schemes', { openapi: { openapi: '3.1.0', info: { title: 'mine', version: '1.2.3' }, components: { schemas: {} } } }, 'openapi'],
  ['OpenAPI 3.1 with its own API key scheme', { openapi: { openapi: '3.1.0', info: { title: 'mine', version: '1.2.3' }, components: { securitySchemes: { appKey: APP_KEY } } } }, 'openapi'],
  ['Swagger 2.0, info only', { swagger: { info: { title: 'mine', version: '1.2.3' } } }, 'swagger'],
  ['Swagger 2.0 with its own API key definition', { swagger: { info: { title: 'mine', version: '1.2.3' }, securityDefinitions: { appKey: APP_KEY } } }, 'swagger']
]

for (const [style, options, kind] of STYLES) {
  t.test(`an app's own document (${style}) lists the monitoring routes with their bearer scheme, and keeps its own schemes`, async (t) => {
    const app = Fastify()
    t.teardown(async () => await app.close())
    await app.register(swagger, options)
    app.get('/mine', { schema: { security: options.openapi?.security ?? [], response: { 200: { type: 'string' } } } }, async () => 'mine')
    await app.register(nacos, { ...base, serviceName: uniqueService('own-doc'), monitoring: { token: TOKEN, protectReads: true, swaggerUi: '/docs' } })
    const json = await app.inject('/docs/json')
    t.equal(json.statusCode, 200, '/docs/json answers')
    const doc = json.json() as Document & { swagger?: string, securityDefinitions?: Record<string, unknown> }
    await SwaggerParser.validate(structuredClone(doc) as never)
    t.equal(doc.info.title, 'mine', 'the app\'s info')
    t.ok(doc.paths['/mine']?.get, 'the app\'s route')
    const schemes = kind === 'swagger' ? doc.securityDefinitions : doc.components.securitySchemes
    t.match(schemes?.[MONITORING_SECURITY_SCHEME], kind === 'swagger' ? { type: 'apiKey', in: 'header', name: 'Authorization' } : monitoringSecurityScheme, 'the bearer scheme is declared')
    const own = kind === 'swagger' ? options.swagger?.securityDefinitions : options.openapi?.components?.securitySchemes
    if (own !== undefined) t.same(schemes?.appKey, APP_KEY, 'the app\'s scheme is intact')
    t.same(doc.security, options.openapi?.security, 'the app\'s global requirement is intact')
    for (const [path, expected] of Object.entries(EXPECTED)) {
      const op = doc.paths[`${PREFIX}${path}`]?.[expected.method]
      t.ok(op, `${expected.method} ${path} documented`)
      t.same(op?.security, expected.read === true || expected.writes === true ? [{ [MONITORING_SECURITY_SCHEME]: [] }] : undefined, `${path}: security`)
    }
    t.ok(doc.tags?.some((tag) => tag.name === 'nacos'), 'the nacos tag is described')
    const yaml = await app.inject('/docs/yaml')
    t.match(yaml.body, new RegExp(`${MONITORING_SECURITY_SCHEME}:`), 'the YAML form carries the scheme too')
  })
}

t.test('@fastify/swagger registered after the plugin: app.ready() rejects with what to do, the process goes on', async (t) => {
  const app = Fastify()
  t.teardown(async () => await app.close())
  await app.register(nacos, { ...base, serviceName: uniqueService('after'), monitoring: { token: TOKEN } })
  await app.register(swagger, { openapi: { info: { title: 'mine', version: '1.2.3' } } })
  await t.rejects(async () => { await app.ready() }, { code: 'FST_NACOS_BAD_SETTING', message: /register @fastify\/swagger before fastify-nacos/ })
})

t.test('@fastify/swagger registered after the plugin with monitoring.openapi: false: the app\'s document, valid', async (t) => {
  const app = Fastify()
  t.teardown(async () => await app.close())
  await app.register(nacos, { ...base, serviceName: uniqueService('after-off'), monitoring: { token: TOKEN, openapi: false } })
  await app.register(swagger, { openapi: { info: { title: 'mine', version: '1.2.3' } } })
  app.get('/mine', async () => 'mine')
  await app.ready()
  const doc = app.swagger() as unknown as Document
  await SwaggerParser.validate(structuredClone(doc) as never)
  t.same(Object.keys(doc.paths), ['/mine'], 'only the routes added after it')
})

t.test('openapi: false registers no document; swaggerUi mounts the UI, and needs a document', async (t) => {
  const plain = await monitoredApp(t, { monitoring: { openapi: false } })
  await plain.ready()
  t.notOk(plain.hasDecorator('swagger'))
  t.equal((await plain.inject(`${PREFIX}/health`)).statusCode, 503, 'the routes are still there')
  const ui = await monitoredApp(t, { monitoring: { swaggerUi: true } })
  const json = await ui.inject('/documentation/json')
  t.equal(json.statusCode, 200)
  t.ok((json.json() as Document).paths[`${PREFIX}/health`])
  const moved = await monitoredApp(t, { monitoring: { swaggerUi: '/docs' } })
  const page = await moved.inject('/docs/')
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
  await t.rejects(monitoredApp(t, { monitoring: { openapi: false, swaggerUi: true } }), { code: 'FST_NACOS_BAD_SETTING', message: /monitoring.swaggerUi/ })
  await t.rejects(monitoredApp(t, { monitoring: { swaggerUi: 'docs' } }), { code: 'FST_NACOS_BAD_SETTING', message: /monitoring.swaggerUi.*a path starting with/ })
})

t.test('the answers have exactly the documented shapes', async (t) => {
  const app = await monitoredApp(t, { monitoring: { token: TOKEN } })
  const byId = (id: string): TSchema => MONITORING_SCHEMAS.find((s) => s.$id === id) as TSchema
  const refs = [...MONITORING_SCHEMAS]
  const cases: Array<[string, InjectOptions, number, string]> = [
    ['service', { url: `${PREFIX}/service` }, 200, 'NacosService'],
    ['instances', { url: `${PREFIX}/service/${uniqueService('none')}/instances` }, 200, 'NacosInstanceList'],
    ['health down', { url: `${PREFIX}/health` }, 503, 'NacosHealthDown'],
    ['deregister', { method: 'POST', url: `${PREFIX}/service/deregister`, headers: AUTH }, 200, 'NacosService'],
    ['validation error', { url: `${PREFIX}/service?x=1` }, 400, 'NacosError'],
    ['auth error', { method: 'POST', url: `${PREFIX}/service/register` }, 401, 'NacosError'],
    ['not found', { url: `${PREFIX}/nope` }, 404, 'NacosError']
  ]
  for (const [name, request, status, id] of cases) {
    const res = await app.inject(request)
    t.equal(res.statusCode, status, `${name}: ${status}`)
    const body: unknown = res.json()
    t.ok(Value.Check(byId(id), refs, body), `${name}: a valid ${id}, no undeclared field`)
  }
})
