// Request validation for the monitoring routes, with TypeBox's compiler rather than Fastify's ajv:
// that ajv removes unknown fields (removeAdditional) where these routes must answer 400, and its
// messages do not say which fields are allowed. Used only inside the routes' own context.
import type { FastifySchemaCompiler } from 'fastify'
import type { TObject, TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { Value } from '@sinclair/typebox/value'
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors'
import { SERVICE_NAME, SERVICE_NAME_RULE } from '../naming/names.js'

interface Failure { instancePath: string, message: string }

function resolve (schema: TSchema, references: readonly TSchema[]): TSchema {
  const id = (schema as { $ref?: unknown }).$ref
  return references.find((r) => r.$id === id) ?? schema
}

function explain (error: ValueError, target: TSchema): string {
  const schema = error.schema as { pattern?: string, description?: string }
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties: {
      const allowed = Object.keys((target as TObject).properties ?? {})
      return `is not allowed (${allowed.length === 0 ? 'no field is accepted' : `allowed: ${allowed.join(', ')}`})`
    }
    case ValueErrorType.StringPattern:
      if (schema.pattern === SERVICE_NAME) return `must be a Nacos name: ${SERVICE_NAME_RULE}`
      return `must be ${schema.description ?? `a string matching ${schema.pattern ?? ''}`}`
    default:
      return error.message.replace(/^Expected/, 'must be')
  }
}

/** A Fastify validator compiler over TypeBox schemas; `$ref`s resolve against `references`. */
export function typeboxValidator (references: readonly TSchema[]): FastifySchemaCompiler<TSchema> {
  const refs = [...references]
  return ({ schema, httpPart }) => {
    const check = TypeCompiler.Compile(schema, refs)
    const target = resolve(schema, refs)
    return (input: unknown) => {
      // Fastify hands an absent body over as null: for these routes that is the empty body.
      const value = httpPart === 'body' ? (input ?? {}) : Value.Convert(schema, refs, input)
      if (check.Check(value)) return { value }
      const first = check.Errors(value).First()
      const error: Failure = first === undefined
        ? { instancePath: '', message: 'is invalid' }
        : { instancePath: first.path, message: explain(first, target) }
      return { error: [error] as never }
    }
  }
}
