// Module hooks for test/loader/register.mjs: a relative `./x.js` import from a .ts file resolves to
// `./x.ts` when that exists (src/ imports its siblings as .js, as tsc's NodeNext output needs), and
// a .ts file loads as ES module code transpiled by TypeScript (types dropped, nothing checked:
// `npm run typecheck` does that), with an inline source map for coverage and stack traces. The
// output is cached under node_modules/.cache, keyed by the source, the options and TypeScript's
// version, so TypeScript is loaded only when something changed.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CACHE = join(ROOT, 'node_modules', '.cache', 'fastify-nacos-ts')
const TS_VERSION = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'typescript', 'package.json'), 'utf8')).version
const OPTIONS = {
  target: 'ES2022',
  module: 'ESNext',
  esModuleInterop: true,
  inlineSourceMap: true,
  inlineSources: true
}
const KEY = `${TS_VERSION} ${JSON.stringify(OPTIONS)}`
let typescript

export async function resolve (specifier, context, next) {
  if (context.parentURL?.endsWith('.ts') === true && specifier.startsWith('.') && specifier.endsWith('.js')) {
    const ts = new URL(specifier.slice(0, -3) + '.ts', context.parentURL)
    if (existsSync(ts)) return { url: ts.href, shortCircuit: true }
  }
  return next(specifier, context)
}

export async function load (url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context)
  const file = fileURLToPath(url)
  const source = readFileSync(file, 'utf8')
  const hash = createHash('sha256').update(KEY).update('\0').update(file).update('\0').update(source).digest('hex')
  const cached = join(CACHE, `${hash}.js`)
  if (existsSync(cached)) return { format: 'module', source: readFileSync(cached, 'utf8'), shortCircuit: true }
  typescript ??= (await import('typescript')).default
  const { outputText } = typescript.transpileModule(source, { fileName: file, compilerOptions: OPTIONS })
  // Written aside, then renamed: parallel test processes never read a half-written file.
  mkdirSync(dirname(cached), { recursive: true })
  const tmp = `${cached}.${process.pid}.tmp`
  writeFileSync(tmp, outputText)
  renameSync(tmp, cached)
  return { format: 'module', source: outputText, shortCircuit: true }
}
