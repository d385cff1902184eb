// Config formats: the type of a config from its dataId, parsing (json, yaml, Java .properties,
// text), schema validation with TypeBox, and serialization for publish. Pure functions.
import { Value } from '@sinclair/typebox/value'
import type { TSchema } from '@sinclair/typebox'
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'
import { ConfigInvalidError } from '../errors.js'
import { allowedValues } from '../expected.js'

export type ConfigType = 'json' | 'yaml' | 'properties' | 'text'

export function typeOf (dataId: string, type?: ConfigType): ConfigType {
  if (type) return type
  const ext = /\.([a-z]+)$/i.exec(dataId)?.[1]?.toLowerCase()
  if (ext === 'json') return 'json'
  if (ext === 'yaml' || ext === 'yml') return 'yaml'
  if (ext === 'properties') return 'properties'
  return 'text'
}

const ESCAPES: Record<string, string> = { t: '\t', n: '\n', r: '\r', f: '\f' }

/** Java .properties: `=`, `:` or blank separators, `#`/`!` comments, `\` continuations and escapes. */
export function parseProperties (text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    let line = (lines[i] as string).replace(/^\s+/, '')
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) line = line.slice(0, -1) + (lines[++i] as string).replace(/^\s+/, '')
    const sep = /^((?:\\.|[^\\=:\s])*)\s*[=:\s]\s*/.exec(line)
    const rawKey = sep ? sep[1] as string : line
    const rawValue = sep ? line.slice(sep[0].length) : ''
    const unescape = (s: string): string => s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, c: string) =>
      c.length === 5 ? String.fromCharCode(parseInt(c.slice(1), 16)) : ESCAPES[c] ?? c)
    out[unescape(rawKey)] = unescape(rawValue)
  }
  return out
}

export function serialize (value: unknown, type: ConfigType): string {
  if (typeof value === 'string') return value
  if (type === 'yaml') return stringifyYaml(value)
  if (type === 'properties') return Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`).join('\n')
  return JSON.stringify(value, null, 2)
}

/** A config's content parsed by its type and, with a schema, converted, defaulted and validated; undefined when absent or empty. */
export function parseConfig (dataId: string, group: string, options: { type?: ConfigType, schema?: TSchema }, content: string | null): unknown {
  if (content === null || content === '') return undefined
  const type = typeOf(dataId, options.type)
  let value: unknown
  try {
    value = type === 'json' ? JSON.parse(content) : type === 'yaml' ? parseYaml(content) : type === 'properties' ? parseProperties(content) : content
  } catch (err) {
    throw new ConfigInvalidError(dataId, group, '/', `not valid ${type}: ${(err as Error).message}`)
  }
  const schema = options.schema
  if (schema === undefined) return value
  if (type === 'properties' || type === 'text') value = Value.Convert(schema, value)
  value = Value.Default(schema, value)
  if (Value.Check(schema, value)) return value
  const first = Value.Errors(schema, value).First()
  const allowed = first === undefined ? undefined : allowedValues(first.schema)
  const reason = allowed !== undefined ? `expected ${allowed}` : first?.message ?? 'does not match the schema'
  throw new ConfigInvalidError(dataId, group, first?.path || '/', reason)
}
