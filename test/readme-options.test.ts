// The settings tables in README.md and README.zh-CN.md are generated from EnvSchema: this test
// fails as soon as a variable, a default, a bound or a description changes without
// `npm run docs:options`.
import t from 'tap'
import { execFile } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { Type } from '@sinclair/typebox'
import * as config from '../src/settings.ts'
import { resolveSettings } from '../src/resolve.ts'
import { END, READMES, START, renderTable, replaceBlock } from '../scripts/options-table.mjs'

const { EnvSchema, OPTION_ENV } = config
// Labels of nested options (`monitoring.token`), where src/settings.ts has them.
const OPTION_LABEL = (config as { OPTION_LABEL?: Record<string, string | undefined> }).OPTION_LABEL ?? {}
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const read = (file: string): string => readFileSync(`${ROOT}${file}`, 'utf8')

for (const [file, lang] of Object.entries(READMES)) {
  t.test(`${file}: the options table is the one generated from EnvSchema`, async (t) => {
    const text = read(file)
    t.ok(text.includes(START) && text.includes(END), 'the README has the generated block')
    t.equal(replaceBlock(text, renderTable(EnvSchema, OPTION_ENV, lang, OPTION_LABEL)), text, 'up to date (run `npm run docs:options` otherwise)')
    const block = text.slice(text.indexOf(START), text.indexOf(END))
    for (const variable of Object.keys(EnvSchema.properties)) {
      t.match(block, `| \`${variable}\` |`, `${variable} has a row`)
    }
  })
}

t.test('a change to the schema changes the table: drift cannot go unnoticed', async (t) => {
  const text = read('README.md')
  const changed = Type.Object({
    ...EnvSchema.properties,
    NACOS_WEIGHT: Type.Number({ default: 2, minimum: 0, maximum: 10000, description: 'load-balancing weight (0: never picked)' }),
    NACOS_NEW_SETTING: Type.String({ default: 'x', description: 'a setting the README does not know' })
  })
  const next = replaceBlock(text, renderTable(changed, OPTION_ENV))
  t.not(next, text, 'the README would be rewritten')
  t.match(next, '| `NACOS_WEIGHT` | `weight` | number 0–10000 | `2` |', 'the new default is in the row')
  t.match(next, '| `NACOS_NEW_SETTING` | — | string | `x` | a setting the README does not know |', 'a variable without an option gets a row')
  t.throws(() => replaceBlock('# no markers', 'table'), /markers .* are missing/, 'a README without the markers is an error, not a silent pass')
})

t.test('`node scripts/options-table.mjs --check` (the npm script, on the built schema) finds both READMEs up to date', async (t) => {
  const { stdout } = await promisify(execFile)(process.execPath, ['scripts/options-table.mjs', '--check'], { cwd: ROOT })
  t.match(stdout, 'README.md: options table up to date')
  t.match(stdout, 'README.zh-CN.md: options table up to date')
})

t.test('.env.example names only real settings, and copied to .env it is a valid configuration', async (t) => {
  const text = read('.env.example')
  const named = [...text.matchAll(/^#? ?([A-Z][A-Z_]+)=/gm)].map((m) => m[1] as string)
  t.same(named.filter((v) => !(v in EnvSchema.properties)), [], 'every variable it names is in EnvSchema')
  t.same(Object.keys(EnvSchema.properties).filter((v) => !named.includes(v)), [], 'every variable of EnvSchema is in it')
  const dir = mkdtempSync(join(tmpdir(), 'env-example-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  copyFileSync(`${ROOT}.env.example`, join(dir, '.env'))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@acme/orders-api' }))
  const config = resolveSettings({}, { env: {}, cwd: dir })
  t.same(config.serverAddr, [{ host: '127.0.0.1', port: 8848, tls: false, contextPath: '/nacos' }])
  t.equal(config.serviceName, 'orders-api', 'the service name comes from package.json')
  t.equal(config.heartbeatIntervalMs, 5000)
})
