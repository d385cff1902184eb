// Swagger 2.0's Schema Object is a subset of JSON Schema: no anyOf, no null type, no const, no
// patternProperties. @fastify/swagger copies the monitoring schemas into a Swagger 2.0 document as
// they are, which makes it invalid; these rewrite the few constructs the TypeBox schemas use into
// their Swagger 2.0 equivalents (`x-nullable` is the extension code generators and Redoc read).
type Schema = Record<string, unknown>

const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value)

function mapValues (object: Schema, fn: (value: Schema) => Schema): Schema {
  return Object.fromEntries(Object.entries(object).map(([key, value]) => [key, isSchema(value) ? fn(value) : value]))
}

/** One alternative for anyOf members: a single type (nullable), or literals of one type (an enum). */
function merge (members: Schema[]): Schema | undefined {
  const values = members.filter((member) => member.type !== 'null')
  const nullable = values.length < members.length ? { 'x-nullable': true } : {}
  if (values.length === 1) return { ...values[0], ...nullable }
  const type = values[0]?.type
  if (values.length > 1 && values.every((v) => v.type === type && Array.isArray(v.enum))) {
    return { type, enum: values.flatMap((v) => v.enum as unknown[]), ...nullable }
  }
  return undefined
}

/** The Swagger 2.0 form of a JSON schema (idempotent: a converted schema comes back equal). */
export function toSwagger2Schema (schema: Schema): Schema {
  let out: Schema = { ...schema }
  if ('const' in out) {
    const { const: value, ...rest } = out
    out = { ...rest, enum: [value] }
  }
  if (Array.isArray(out.anyOf)) {
    const merged = merge((out.anyOf as unknown[]).filter(isSchema).map(toSwagger2Schema))
    if (merged !== undefined) {
      const { anyOf: _anyOf, ...rest } = out
      out = { ...merged, ...rest }
    }
  }
  if (isSchema(out.patternProperties)) {
    const [value, ...others] = Object.values(out.patternProperties)
    const { patternProperties: _patterns, ...rest } = out
    out = others.length === 0 && out.additionalProperties === undefined ? { ...rest, additionalProperties: value } : rest
  }
  if (isSchema(out.properties)) out.properties = mapValues(out.properties, toSwagger2Schema)
  if (isSchema(out.items)) out.items = toSwagger2Schema(out.items)
  if (isSchema(out.additionalProperties)) out.additionalProperties = toSwagger2Schema(out.additionalProperties)
  if (Array.isArray(out.allOf)) out.allOf = (out.allOf as unknown[]).map((s) => isSchema(s) ? toSwagger2Schema(s) : s)
  return out
}

/** Converts, in a Swagger 2.0 document, the definitions whose name or title is one of `ids`. */
export function convertDefinitions (definitions: Schema | undefined, ids: ReadonlySet<string>): void {
  for (const [name, schema] of Object.entries(definitions ?? {})) {
    if (!isSchema(schema) || !(ids.has(name) || (typeof schema.title === 'string' && ids.has(schema.title)))) continue
    definitions![name] = toSwagger2Schema(schema)
  }
}
