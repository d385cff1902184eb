#!/usr/bin/env node
// The settings table of README.md and README.zh-CN.md, generated from the TypeBox schema of the
// environment (src/settings.ts: EnvSchema) and the option → variable map (OPTION_ENV), so the docs
// cannot drift from the code (test/readme-options.test.ts fails when they do).
//
//   node scripts/options-table.mjs           rewrite the blocks (after `npm run build`)
//   node scripts/options-table.mjs --check   exit 1 when a README's block differs
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const START = '<!-- options:start -->'
export const END = '<!-- options:end -->'
export const READMES = { 'README.md': 'en', 'README.zh-CN.md': 'zh-CN' }

const HEADERS = {
  en: ['variable', 'option', 'type', 'default', 'meaning'],
  'zh-CN': ['环境变量', '插件选项', '类型', '默认值', '说明']
}
const NOTE = {
  en: 'Generated from `EnvSchema` in `src/settings.ts` by `npm run docs:options`; do not edit by hand.',
  'zh-CN': '由 `npm run docs:options` 根据 `src/settings.ts` 中的 `EnvSchema` 生成，请勿手工修改（说明列取自 schema，保留英文）。'
}

const cell = (text) => String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ')
const code = (text) => `\`${text}\``

function range (schema) {
  if (schema.type === 'string') return schema.maxLength === undefined ? '' : ` (≤ ${schema.maxLength} chars)`
  const { minimum: min, maximum: max } = schema
  if (min === undefined && max === undefined) return ''
  return ` ${min ?? '−∞'}–${max ?? '∞'}`
}

function typeOf (schema) {
  if (Array.isArray(schema.anyOf)) return schema.anyOf.map((s) => code(s.const)).join(' ')
  return `${schema.type}${range(schema)}`
}

/**
 * The markdown table: one row per variable of `envSchema` in its order. A description written
 * as `meaning; default: how it is chosen` puts the second part in the default column. Nested
 * options are shown by their label (`monitoring.token`), the others by their name.
 */
export function renderTable (envSchema, optionEnv, lang = 'en', optionLabels = {}) {
  const optionOf = Object.fromEntries(Object.entries(optionEnv).map(([option, variable]) => [variable, optionLabels[option] ?? option]))
  const rows = Object.entries(envSchema.properties).map(([variable, schema]) => {
    const [meaning, computedDefault] = String(schema.description ?? '').split('; default: ')
    const dflt = schema.default !== undefined
      ? (schema.default === '' ? '—' : code(typeof schema.default === 'string' ? schema.default : JSON.stringify(schema.default)))
      : computedDefault ?? '—'
    const option = optionOf[variable] === undefined ? '—' : code(optionOf[variable])
    return [code(variable), option, typeOf(schema), dflt, meaning].map(cell)
  })
  const header = HEADERS[lang] ?? HEADERS.en
  return [
    `<!-- ${NOTE[lang] ?? NOTE.en} -->`,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`)
  ].join('\n')
}

/** `text` with the block between the markers replaced by `table`; throws when a marker is missing. */
export function replaceBlock (text, table) {
  const start = text.indexOf(START)
  const end = text.indexOf(END)
  if (start === -1 || end === -1 || end < start) throw new Error(`the markers ${START} … ${END} are missing`)
  return `${text.slice(0, start + START.length)}\n${table}\n${text.slice(end)}`
}

async function main () {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const { EnvSchema, OPTION_ENV, OPTION_LABEL = {} } = await import(pathToFileURL(`${root}dist/settings.js`).href)
  const check = process.argv.includes('--check')
  let drift = false
  for (const [file, lang] of Object.entries(READMES)) {
    const path = `${root}${file}`
    const text = readFileSync(path, 'utf8')
    const next = replaceBlock(text, renderTable(EnvSchema, OPTION_ENV, lang, OPTION_LABEL))
    if (next === text) {
      console.log(`${file}: options table up to date`)
    } else if (check) {
      console.error(`${file}: options table differs from EnvSchema; run npm run docs:options`)
      drift = true
    } else {
      writeFileSync(path, next)
      console.log(`${file}: options table rewritten`)
    }
  }
  if (drift) process.exitCode = 1
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
