// Swagger UI seen in a real browser: headless Chromium (Debian's `chromium`, driven with
// playwright-core) opens the UI of the example API (the plugin's own document) and of an app that
// documents itself (test/fixtures/own-doc-app.mjs); the routes render, screenshots are saved
// under artifacts/ (git-ignored). Without chromium they are skipped, saying so, unless
// FASTIFY_NACOS_REQUIRE_BROWSER=1 (set by `.ci/run`, which installs chromium): then they fail.
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { chromium, type Page } from 'playwright-core'
import { NACOS_ADDR, listInstances, waitFor } from './helpers/nacos-api.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const NO_BROWSER = !existsSync(CHROMIUM) && process.env.FASTIFY_NACOS_REQUIRE_BROWSER !== '1'
  ? `no chromium at ${CHROMIUM} (Debian: apt-get install chromium; CHROMIUM_PATH to use another; CI requires it)`
  : false
// Compiled apart from example/dist, which `npm run demo` (and its test) write.
const OUT = join(ROOT, 'example/dist/browser-test')
const OWN_DOC_APP = join(ROOT, 'test/fixtures/own-doc-app.mjs')
const MONITORING = [
  ['GET', '/monitoring/nacos/service'],
  ['GET', '/monitoring/nacos/service/{serviceName}/instances'],
  ['POST', '/monitoring/nacos/service/register'],
  ['POST', '/monitoring/nacos/service/deregister'],
  ['GET', '/monitoring/nacos/health']
] as const

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

/** Opens `url` in headless Chromium (closed on teardown) once Swagger UI has rendered an operation. */
async function openSwaggerUi (t: Test, url: string): Promise<Page> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'))
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 1600 }
  })
  t.teardown(async () => {
    await browser.close()
    rmSync(profile, { recursive: true, force: true })
  })
  const page = browser.pages()[0] ?? await browser.newPage()
  const started = Date.now()
  const response = await page.goto(url, { waitUntil: 'load' })
  t.equal(response?.status(), 200, 'the Swagger UI page is served')
  await page.locator('.opblock').first().waitFor({ timeout: 20_000 })
  t.comment(`Swagger UI rendered in ${Date.now() - started} ms`)
  return page
}

async function expectListed (t: Test, page: Page, routes: ReadonlyArray<readonly [string, string]>): Promise<void> {
  for (const [method, path] of routes) {
    const operation = page.locator(`.opblock-${method.toLowerCase()}`).filter({ has: page.locator(`[data-path="${path}"]`) })
    t.equal(await operation.count(), 1, `${method} ${path} is listed`)
    t.ok(await operation.first().isVisible(), `${method} ${path} is visible`)
  }
}

async function screenshot (t: Test, page: Page, name: string): Promise<void> {
  const file = join(ROOT, 'artifacts', name)
  mkdirSync(join(ROOT, 'artifacts'), { recursive: true })
  await page.screenshot({ path: file, fullPage: true })
  const png = readFileSync(file)
  t.ok(png.subarray(1, 4).toString() === 'PNG' && png.length > 10_000, `screenshot saved: artifacts/${name} (${(png.length / 1024).toFixed(0)} KiB)`)
}

t.test('the Swagger UI of the running example shows the monitoring routes in headless Chromium', { skip: NO_BROWSER }, async (t) => {
  t.ok(existsSync(CHROMIUM), `chromium at ${CHROMIUM} (Debian: apt-get install chromium; .ci/run does it)`)
  if (!existsSync(CHROMIUM)) return

  await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'example/tsconfig.json', '--outDir', OUT], { cwd: ROOT })
  const api = spawn(process.execPath, [join(OUT, 'api.js')], {
    cwd: ROOT,
    // With a token the write routes exist, and Swagger UI lists them.
    env: { ...process.env, NACOS_SERVER_ADDR: NACOS_ADDR, NACOS_SERVICE_IP: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', NACOS_MONITORING_TOKEN: randomBytes(16).toString('hex') },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let log = ''
  api.stdout.on('data', (d: Buffer) => { log += d.toString() })
  api.stderr.on('data', (d: Buffer) => { log += d.toString() })
  const exited = once(api, 'exit')
  t.teardown(async () => {
    if (api.exitCode === null && api.signalCode === null) {
      api.kill('SIGTERM')
      await exited
    }
  })
  const port = Number(await waitFor(() => /"msg":"Server listening at http:\/\/127\.0\.0\.1:(\d+)"/.exec(log)?.[1] ?? (api.exitCode !== null ? '-1' : undefined), 30_000, 50))
  t.ok(port > 0, `the example API listens (log: ${port > 0 ? 'ok' : log})`)
  if (port <= 0) return
  await waitFor(async () => (await listInstances('example-api')).some((h) => h.port === port), 10_000, 50)

  const page = await openSwaggerUi(t, `http://127.0.0.1:${port}/documentation`)
  await expectListed(t, page, [...MONITORING, ['GET', '/hello']])
  await screenshot(t, page, 'swagger-ui.png')
})

t.test('the Swagger UI of an app with its own document shows its routes, the monitoring routes and both schemes', { skip: NO_BROWSER }, async (t) => {
  t.ok(existsSync(CHROMIUM), `chromium at ${CHROMIUM}`)
  if (!existsSync(CHROMIUM)) return
  const app = spawn(process.execPath, [OWN_DOC_APP], {
    cwd: ROOT,
    env: { ...process.env, NACOS_SERVER_ADDR: NACOS_ADDR, NACOS_MONITORING_TOKEN: randomBytes(16).toString('hex') },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  app.stdout.on('data', (d: Buffer) => { out += d.toString() })
  app.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const exited = once(app, 'exit')
  t.teardown(async () => {
    if (app.exitCode === null && app.signalCode === null) {
      app.kill('SIGTERM')
      await exited
    }
  })
  const port = Number(await waitFor(() => /\{"port":(\d+)\}/.exec(out)?.[1] ?? (app.exitCode !== null ? '-1' : undefined), 30_000, 50))
  t.ok(port > 0, `the app listens (output: ${port > 0 ? 'ok' : out})`)
  if (port <= 0) return

  const page = await openSwaggerUi(t, `http://127.0.0.1:${port}/documentation`)
  await expectListed(t, page, [...MONITORING, ['GET', '/orders']])
  t.match(await page.locator('.info .title').first().innerText(), /^orders/, 'the app\'s title')
  await page.locator('.btn.authorize').first().click()
  const dialog = page.locator('.modal-ux')
  await dialog.waitFor({ timeout: 10_000 })
  const text = await dialog.innerText()
  t.match(text, /ordersKey/, 'Authorize offers the app\'s scheme')
  t.match(text, /nacosMonitoringToken/, 'Authorize offers the monitoring token')
  await screenshot(t, page, 'swagger-ui-own-document.png')
})
