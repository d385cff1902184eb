// The OpenAPI 3 document (@fastify/swagger) and its optional UI (@fastify/swagger-ui). Both are
// loaded only when used. @fastify/swagger collects routes from an onRoute hook, so it must be
// registered before the routes it documents; an app that registered it already keeps its own.
import type { FastifyInstance } from 'fastify'
import { ConfigError } from '../errors.js'
import type { NacosConfig } from '../settings.js'
import { MONITORING_SECURITY_SCHEME, monitoringSecurityScheme } from './schemas.js'

const COMPONENT_NAME = /^[A-Za-z0-9._-]+$/

export interface OpenApiOptions {
  openapi?: boolean
  swaggerUi?: boolean | string
}

export async function registerOpenApi (fastify: FastifyInstance, options: OpenApiOptions, config: NacosConfig): Promise<void> {
  if (options.openapi === false || fastify.hasDecorator('swagger')) return
  const { default: swagger } = await import('@fastify/swagger')
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: config.serviceName, version: '0.0.0', description: `HTTP API of ${config.serviceName}; the nacos-tagged routes are fastify-nacos's monitoring API` },
      tags: [{ name: 'nacos', description: 'Registration with Nacos and discovery (fastify-nacos)' }],
      components: { securitySchemes: { [MONITORING_SECURITY_SCHEME]: { ...monitoringSecurityScheme } } }
    },
    // Components named after the schemas' $ids (NacosService, NacosError…) rather than def-0, def-1.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' && COMPONENT_NAME.test(json.$id) ? json.$id : `def-${i}`
    }
  })
}

export async function registerSwaggerUi (fastify: FastifyInstance, options: OpenApiOptions): Promise<void> {
  if (options.swaggerUi === undefined || options.swaggerUi === false) return
  const routePrefix = options.swaggerUi === true ? '/documentation' : options.swaggerUi
  if (!routePrefix.startsWith('/')) {
    throw new ConfigError('option monitoring.swaggerUi', `monitoring.swaggerUi=${JSON.stringify(routePrefix)}`, 'true, false or a path starting with "/"')
  }
  if (!fastify.hasDecorator('swagger')) {
    throw new ConfigError('option monitoring.swaggerUi', 'monitoring.openapi=false', 'an OpenAPI document: leave monitoring.openapi on, or register @fastify/swagger before fastify-nacos')
  }
  const { default: swaggerUi } = await import('@fastify/swagger-ui')
  await fastify.register(swaggerUi, { routePrefix })
}
