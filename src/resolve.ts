// Resolving the settings: plugin options over the process environment over .env.<NODE_ENV> over
// .env over the defaults, validated with env-schema against the table of settings.ts, then each
// value resolved by its setting. Errors are one line: the setting, its (masked) value, what is
// expected. The .env files feed the plugin's settings only: process.env is left as it was, so the
// app's own configuration (@fastify/env, dotenv) stays the app's.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseEnv } from 'node:util'
import { envSchema } from 'env-schema'
import { SettingError } from './errors.js'
import { SERVICE_NAME, SERVICE_NAME_RULE } from './naming/names.js'
import { allowedValues } from './expected.js'
import { SERVER_FORMS } from './server-addr.js'
import {
  EnvSchema, OPTION_LABEL, SERVER_LIST, SERVICE_IP, SERVICE_IP_RULE, configKey, entries, mask,
  type AllSettings, type Env, type ResolvedSettings, type ResolveContext
} from './settings.js'

interface AjvError {
  instancePath: string
  message?: string
  params: Record<string, unknown>
}

function describe (name: string, schema: Record<string, unknown> | undefined, error: AjvError): string {
  if (schema?.pattern === SERVICE_NAME) return SERVICE_NAME_RULE
  if (schema?.pattern === SERVICE_IP) return SERVICE_IP_RULE
  if (schema?.pattern === SERVER_LIST) return SERVER_FORMS
  const allowed = allowedValues(schema)
  if (allowed !== undefined) return allowed
  if (name === 'NACOS_MONITORING_TOKEN') return '16 to 512 printable ASCII characters, no spaces'
  return error.message ?? 'a valid value'
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv
  /** Read the plugin's settings from `.env` and `.env.<NODE_ENV>` in `cwd` too (default true); process.env is not changed. */
  dotenv?: boolean
  cwd?: string
}

/** Merges plugin options over the environment, validates, and returns the resolved settings. */
export function resolveSettings (options: AllSettings = {}, resolve: ResolveOptions = {}): ResolvedSettings {
  const cwd = resolve.cwd ?? process.cwd()
  const env = resolve.env ?? process.env
  const fromOptions: Record<string, unknown> = {}
  const origin: Record<string, string> = {}
  for (const [name, s] of entries) {
    const value = options[name]
    if (value === undefined) continue
    fromOptions[s.env] = s.toEnv === undefined ? value : s.toEnv(value as never)
    origin[s.env] = `option ${OPTION_LABEL[name] ?? name}`
  }
  const nodeEnv = env.NODE_ENV
  // .env first, then .env.<NODE_ENV> over it; the process environment wins over both.
  const fromFiles: Record<string, string> = {}
  if (resolve.dotenv !== false) {
    for (const file of [join(cwd, '.env'), nodeEnv ? join(cwd, `.env.${nodeEnv}`) : undefined]) {
      if (file !== undefined && existsSync(file)) Object.assign(fromFiles, parseEnv(readFileSync(file, 'utf8')))
    }
  }

  let raw: Record<string, unknown>
  try {
    raw = envSchema<Env>({
      // env-schema sets additionalProperties on the schema it is given: hand it a copy.
      schema: { ...EnvSchema },
      data: [fromFiles, env, fromOptions],
      env: false,
      dotenv: false
    })
  } catch (err) {
    const errors = (err as { errors?: AjvError[] }).errors ?? []
    const first = errors[0]
    if (!first) throw err
    const name = first.instancePath.replace(/^\//, '') || String(first.params.missingProperty ?? '')
    const schema = (EnvSchema.properties as Record<string, Record<string, unknown>>)[name]
    const value = fromOptions[name] ?? env[name] ?? fromFiles[name]
    throw new SettingError(`${origin[name] ?? name}`, `${name}=${mask(name, value)}`, describe(name, schema, first))
  }

  const { NACOS_DEREGISTER_TIME: deregister, NACOS_HEARTBEAT_INTERVAL: heartbeat } = raw as Pick<Env, 'NACOS_DEREGISTER_TIME' | 'NACOS_HEARTBEAT_INTERVAL'>
  if (deregister <= heartbeat) {
    throw new SettingError(origin.NACOS_DEREGISTER_TIME ?? 'NACOS_DEREGISTER_TIME', `NACOS_DEREGISTER_TIME=${deregister}`,
      `more seconds than NACOS_HEARTBEAT_INTERVAL (${heartbeat}), or Nacos removes a healthy instance between two beats`)
  }
  if ((raw.NACOS_USERNAME === undefined) !== (raw.NACOS_PASSWORD === undefined)) {
    throw new SettingError('NACOS_USERNAME', raw.NACOS_USERNAME === undefined ? 'NACOS_USERNAME unset' : 'NACOS_PASSWORD unset',
      'both NACOS_USERNAME and NACOS_PASSWORD, or neither')
  }

  const ctx: ResolveContext = { cwd, origin: (variable) => origin[variable] ?? variable }
  const config: Record<string, unknown> = {}
  for (const [name, s] of entries) {
    const value = raw[s.env]
    config[configKey(name, s)] = s.resolve === undefined ? value : s.resolve(value as never, ctx)
  }
  return config as ResolvedSettings
}
