// The package as users get it: `npm pack`, the tarball installed into two fresh projects, each
// with its own fastify (a peer: the tarball brings none), run against the real Nacos, registered,
// then deregistered on SIGTERM, with nothing printed on stderr (no warning):
// - an ESM TypeScript project (strict, NodeNext) on the fastify this repository uses;
// - a CommonJS project on the lowest fastify the peer range allows (5.0.0) that loads the plugin
//   with `require`, through @fastify/autoload as `fastify generate` apps do, plus a CommonJS
//   TypeScript file (NodeNext) that imports it.
// npm's cache is shared, so after the first run the installs are offline-fast. The projects are
// compiled by this repository's TypeScript (the same version a user would install; tsc resolves
// fastify-nacos and @types/node from the project it compiles, not from where tsc is).
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { NACOS_ADDR, listInstances, uniqueService, waitFor } from '../helpers/nacos-api.ts'
import { NO_COVERAGE } from '../helpers/child.ts'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]
// Coverage off in every process this file starts: npm and tsc run none of src/, and the apps run
// the tarball installed outside this repository, which the report leaves out.
const env = { ...process.env, ...NO_COVERAGE }
const execFileP = promisify(execFile)
const run = async (file: string, args: string[], opts: { cwd: string, timeout?: number }): Promise<{ stdout: string, stderr: string }> =>
  await execFileP(file, args, { env, ...opts })
/** The lowest fastify the peer range accepts: the CommonJS project runs on it. */
const LOWEST_FASTIFY = '5.0.0'
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const version = (pkg: string): string => (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc')

// Two npm installs and three tsc runs: about 100 s beside nothing, nearer 240 s (.taprc's timeout)
// beside the rest of the suite on 2 cores.
t.setTimeout(480_000)

const dir = mkdtempSync(join(tmpdir(), 'fastify-nacos-pack-'))
t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })

// A user's service: strict settings, the plugin's types checked (a wrong option must not compile).
const USER_APP = `import Fastify from 'fastify'
import nacos, { type NacosPluginOptions, type RegistryStatus } from 'fastify-nacos'

const options: NacosPluginOptions = {
  serverAddr: process.env.NACOS_SERVER_ADDR ?? '127.0.0.1:8848',
  serviceName: process.env.SERVICE_NAME ?? 'packed-app',
  ip: '127.0.0.1',
  dotenv: false,
  logLevel: 'warn'
}
// @ts-expect-error heartbeatInterval is a number of seconds
const wrong: NacosPluginOptions = { heartbeatInterval: 'fast' }
void wrong

const app = Fastify()
await app.register(nacos, options)
app.get('/hello', async () => ({ hello: 'world' }))
await app.listen({ port: 0, host: '127.0.0.1' })
const status: RegistryStatus = app.nacos.status()
const address = app.server.address()
process.stdout.write(JSON.stringify({ port: typeof address === 'object' && address !== null ? address.port : 0, state: status.state }) + '\\n')
`

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    skipLibCheck: false,
    types: ['node'],
    outDir: 'out'
  },
  include: ['app.ts']
}

t.test('the tarball holds only compiled JS, types, the READMEs, LICENSE and package.json', async (t) => {
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT })
  const [pack] = JSON.parse(stdout) as Array<{ filename: string, size: number, files: Array<{ path: string }> }>
  if (pack === undefined) throw new Error(`npm pack printed no result: ${stdout}`)
  const files = pack.files.map((f) => f.path).sort()
  t.comment(`${pack.filename}: ${files.length} files, ${(pack.size / 1024).toFixed(1)} KiB`)
  t.same(files.filter((f) => !/^dist\/([a-z-]+\/)*[a-z-]+\.(js|cjs|d\.ts)$/.test(f) && !['LICENSE', 'README.md', 'README.zh-CN.md', 'package.json'].includes(f)), [],
    'nothing else (no sources, tests, source maps, fixtures)')
  for (const needed of ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'LICENSE', 'README.md', 'README.zh-CN.md', 'package.json']) {
    t.ok(files.includes(needed), `${needed} is in it`)
  }
  t.same(files.filter((f) => f.endsWith('.js')).map((f) => f.replace(/\.js$/, '.d.ts')), files.filter((f) => f.endsWith('.d.ts')), 'every module has its types')
  writeFileSync(join(dir, 'tarball'), pack.filename)
})

/** Installs the tarball and `deps` into a fresh project made of `files`. */
async function project (t: Test, name: string, files: Record<string, string>, deps: string[]): Promise<string> {
  const tarball = join(dir, readFileSync(join(dir, 'tarball'), 'utf8'))
  const root = join(dir, name)
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true })
    writeFileSync(join(root, file), text)
  }
  const start = Date.now()
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock', tarball, ...deps], { cwd: root, timeout: 180_000 })
  t.comment(`${name}: npm install ${((Date.now() - start) / 1000).toFixed(1)} s`)
  t.notOk(existsSync(join(root, 'node_modules/fastify-nacos/node_modules/fastify')), 'fastify-nacos brings no fastify of its own: the app\'s is the one')
  return root
}

/** Runs `script` as a user's service would be run: it must register, deregister on SIGTERM and print no warning. */
async function servesAndLeaves (t: Test, cwd: string, script: string): Promise<void> {
  const service = uniqueService('packed')
  const child = spawn(process.execPath, [script], { cwd, env: { ...env, NACOS_SERVER_ADDR: NACOS_ADDR, SERVICE_NAME: service }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })

  const line = await waitFor(() => out.split('\n').find((l) => l.startsWith('{"port"')), 20_000, 50)
    .catch((e: unknown) => { throw new Error(`${String(e)}; output: ${out}${err}`) })
  const { port } = JSON.parse(line) as { port: number }
  const hosts = await waitFor(async () => { const h = await listInstances(service); return h.length > 0 ? h : undefined })
  t.same(hosts.map((h) => `${h.ip}:${h.port}`), [`127.0.0.1:${port}`], 'Nacos lists the packaged app with the port it bound')

  child.kill('SIGTERM')
  const [code] = await exited
  t.equal(code, 0, `SIGTERM closes the app through the plugin (output: ${(out + err).trim() || 'none'})`)
  // Nacos would expire it only after NACOS_DEREGISTER_TIME (10 s): gone within 3 s means deregistered.
  t.ok(await waitFor(async () => (await listInstances(service)).length === 0, 3000, 50), 'and it deregistered on the way out')
  t.equal(err, '', `nothing on stderr (no warning) on node ${process.version}`)
}

t.test('installed into a fresh ESM project, it compiles under strict TypeScript and registers with the real Nacos', async (t) => {
  const root = await project(t, 'esm-project', {
    'package.json': JSON.stringify({ name: 'esm-project', private: true, type: 'module' }, null, 2),
    'tsconfig.json': JSON.stringify(TSCONFIG, null, 2),
    'app.ts': USER_APP
  }, [`fastify@${version('fastify')}`, `@types/node@${version('@types/node')}`])

  const start = Date.now()
  await t.resolves(run(process.execPath, [TSC, '-p', root], { cwd: root }), 'tsc compiles the user code (strict, NodeNext, library types checked)')
  t.comment(`tsc: ${((Date.now() - start) / 1000).toFixed(1)} s`)
  await servesAndLeaves(t, root, 'out/app.js')
})

// What `fastify generate` scaffolds: app.js registers @fastify/autoload over plugins/, and each
// plugin file is a fastify-plugin wrapper that requires what it registers.
const CJS_APP = `'use strict'
const assert = require('node:assert')
const path = require('node:path')
const Fastify = require('fastify')
const nacos = require('fastify-nacos')

// What the @fastify/* plugins give require(): the plugin, with default and the named exports on it.
assert.equal(typeof nacos, 'function')
assert.equal(nacos.default, nacos)
assert.equal(nacos.fastifyNacos, nacos)
assert.equal(new nacos.SettingError('a', 'b', 'c').code, 'FST_NACOS_BAD_SETTING')
assert.equal(typeof nacos.EnvSchema.properties, 'object')
assert.equal(require('fastify/package.json').version, '${LOWEST_FASTIFY}')

const app = Fastify()
app.register(require('@fastify/autoload'), { dir: path.join(__dirname, 'plugins') })
app.get('/hello', async () => ({ hello: 'world' }))
app.listen({ port: 0, host: '127.0.0.1' }).then(() => {
  assert.equal(typeof app.nacos.status, 'function', 'app.nacos is on the root instance')
  process.stdout.write(JSON.stringify({ port: app.server.address().port, state: app.nacos.status().state }) + '\\n')
})
`
const CJS_PLUGIN = `'use strict'
const fp = require('fastify-plugin')

module.exports = fp(async function nacos (fastify) {
  await fastify.register(require('fastify-nacos'), {
    serverAddr: process.env.NACOS_SERVER_ADDR,
    serviceName: process.env.SERVICE_NAME,
    ip: '127.0.0.1',
    dotenv: false
  })
})
`
// A CommonJS TypeScript file (no "type": "module", NodeNext): types and runtime agree on the import.
const CJS_TS = `import Fastify from 'fastify'
import nacos, { SettingError, type NacosPluginOptions } from 'fastify-nacos'

const options: NacosPluginOptions = { serviceName: 'typed', registerEnabled: false }
// @ts-expect-error weight is a number
const wrong: NacosPluginOptions = { weight: 'heavy' }
void wrong
const app = Fastify()
app.register(nacos, options)
process.stdout.write(JSON.stringify({ plugin: typeof nacos, code: new SettingError('a', 'b', 'c').code }) + '\\n')
`

t.test('installed into a fresh CommonJS project on fastify ' + LOWEST_FASTIFY + ', require() and @fastify/autoload load it and it registers', async (t) => {
  const root = await project(t, 'cjs-project', {
    'package.json': JSON.stringify({ name: 'cjs-project', private: true }, null, 2),
    'app.js': CJS_APP,
    'plugins/nacos.js': CJS_PLUGIN,
    'typed.ts': CJS_TS,
    'tsconfig.json': JSON.stringify({ ...TSCONFIG, compilerOptions: { ...TSCONFIG.compilerOptions, outDir: 'typed-out' }, include: ['typed.ts'] }, null, 2),
    // Older CommonJS projects: module commonjs, node10 resolution (no `exports`: the `types` field).
    // The declarations themselves were checked against this project's fastify by the compile
    // before (skipLibCheck false); this one is about how the import resolves.
    'tsconfig.node10.json': JSON.stringify({ ...TSCONFIG, compilerOptions: { ...TSCONFIG.compilerOptions, module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true, skipLibCheck: true, outDir: 'typed-node10' }, include: ['typed.ts'] }, null, 2)
  }, [`fastify@${LOWEST_FASTIFY}`, '@fastify/autoload@6', 'fastify-plugin@5', `@types/node@${version('@types/node')}`])

  await t.resolves(run(process.execPath, [TSC, '-p', root], { cwd: root }), 'a CommonJS TypeScript file compiles against the types (strict, NodeNext)')
  const { stdout, stderr } = await run(process.execPath, ['typed-out/typed.js'], { cwd: root })
  t.same(JSON.parse(stdout), { plugin: 'function', code: 'FST_NACOS_BAD_SETTING' }, 'and its compiled require() gets the plugin and the named exports')
  t.equal(stderr, '', 'with no warning')
  await t.resolves(run(process.execPath, [TSC, '-p', join(root, 'tsconfig.node10.json')], { cwd: root }), 'it compiles with module commonjs and node10 resolution too')
  const node10 = await run(process.execPath, ['typed-node10/typed.js'], { cwd: root })
  t.same(JSON.parse(node10.stdout), { plugin: 'function', code: 'FST_NACOS_BAD_SETTING' }, 'and runs')
  await servesAndLeaves(t, root, 'app.js')
})
