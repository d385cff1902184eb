// The package as users get it: `npm pack`, the tarball installed into a fresh ESM project with
// fastify and TypeScript, a strict TypeScript file importing it compiled with tsc, run against
// the real Nacos, registered, then deregistered on SIGTERM.
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { NACOS_ADDR, listInstances, uniqueService, waitFor } from './helpers/nacos-api.ts'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const version = (pkg: string): string => (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version

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
  t.same(files.filter((f) => !/^dist\/([a-z-]+\/)*[a-z-]+\.(js|d\.ts)$/.test(f) && !['LICENSE', 'README.md', 'README.zh-CN.md', 'package.json'].includes(f)), [],
    'nothing else (no sources, tests, source maps, fixtures)')
  for (const needed of ['dist/index.js', 'dist/index.d.ts', 'LICENSE', 'README.md', 'README.zh-CN.md', 'package.json']) {
    t.ok(files.includes(needed), `${needed} is in it`)
  }
  t.same(files.filter((f) => f.endsWith('.js')).map((f) => f.replace(/\.js$/, '.d.ts')), files.filter((f) => f.endsWith('.d.ts')), 'every module has its types')
  writeFileSync(join(dir, 'tarball'), pack.filename)
})

t.test('installed into a fresh ESM project, it compiles under strict TypeScript and registers with the real Nacos', async (t) => {
  const tarball = join(dir, readFileSync(join(dir, 'tarball'), 'utf8'))
  const project = join(dir, 'user-project')
  await run('mkdir', ['-p', project])
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }, null, 2))
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2))
  writeFileSync(join(project, 'app.ts'), USER_APP)

  let start = Date.now()
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock', tarball,
    `fastify@${version('fastify')}`, `typescript@${version('typescript')}`, `@types/node@${version('@types/node')}`], { cwd: project, timeout: 120_000 })
  t.comment(`npm install: ${((Date.now() - start) / 1000).toFixed(1)} s`)

  start = Date.now()
  await t.resolves(run(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: project }), 'tsc compiles the user code (strict, NodeNext, library types checked)')
  t.comment(`tsc: ${((Date.now() - start) / 1000).toFixed(1)} s`)

  const service = uniqueService('packed')
  const child = spawn(process.execPath, ['out/app.js'], { cwd: project, env: { ...process.env, NACOS_SERVER_ADDR: NACOS_ADDR, SERVICE_NAME: service }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })

  const line = await waitFor(() => out.split('\n').find((l) => l.startsWith('{"port"')), 20_000, 50)
  const { port } = JSON.parse(line) as { port: number }
  const hosts = await waitFor(async () => { const h = await listInstances(service); return h.length > 0 ? h : undefined })
  t.same(hosts.map((h) => `${h.ip}:${h.port}`), [`127.0.0.1:${port}`], 'Nacos lists the packaged app with the port it bound')

  child.kill('SIGTERM')
  const [code] = await exited
  t.equal(code, 0, `SIGTERM closes the app through the plugin (output: ${out.trim() || 'none'})`)
  // Nacos would expire it only after NACOS_DEREGISTER_TIME (10 s): gone within 3 s means deregistered.
  t.ok(await waitFor(async () => (await listInstances(service)).length === 0, 3000, 50), 'and it deregistered on the way out')
})
