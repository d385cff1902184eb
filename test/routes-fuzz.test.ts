// Property-based fuzzing of the monitoring API (fast-check, fixed seed): random methods, paths,
// service names, queries, headers and bodies, sent with inject() to an app that listens and is
// registered in the real Nacos. Properties: never a 5xx except the declared 503s, the process
// keeps answering, errors keep the declared shape, and no secret is ever in an answer.
import t from 'tap'
import fc from 'fast-check'
import type { InjectOptions } from 'fastify'
import { waitFor } from './helpers/nacos-api.ts'
import { AUTH, PREFIX, SECRETS, TOKEN, monitoredApp, secretValues } from './helpers/monitoring.ts'

const SEED = 20_260_606
const RUNS = 10_000
const TIME_LIMIT_MS = 45_000

const secrets = secretValues()
const NAMES = ['orders', 'DEFAULT_GROUP', 'a', 'x.y:z_1-2', 'c1,c2', '', ' ', '..', '%2F', '%ZZ', '@@', 'é', '\u0000', '__proto__', 'constructor', ...secrets]

const segment = fc.oneof(
  fc.constantFrom(...NAMES),
  fc.stringMatching(/^[A-Za-z0-9_.:-]{1,12}$/),
  fc.webSegment(),
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 20 }).map(encodeURIComponent),
  fc.integer({ min: 90, max: 400 }).map((n) => 'n'.repeat(n))
)

const query = fc.oneof(
  fc.constant(''),
  fc.dictionary(
    fc.oneof(fc.constantFrom('group', 'clusters', 'healthyOnly', 'verbose', '__proto__', 'group[]', TOKEN), fc.string({ maxLength: 8 })),
    fc.oneof(fc.constantFrom('true', 'false', '1', 'yes', '', 'c1,c2', 'DEFAULT_GROUP', TOKEN), fc.string({ maxLength: 30 })),
    { maxKeys: 4 }
  ).map((q) => `?${new URLSearchParams(q).toString()}`),
  fc.webQueryParameters().map((q) => `?${q}`),
  fc.string({ maxLength: 40 }).map((q) => `?${q.replace(/[\s#]/g, '')}`)
)

const weighted = <T>(arbitrary: fc.Arbitrary<T>, weight: number): fc.WeightedArbitrary<T> => ({ arbitrary, weight })

// Mostly the real routes, so the inputs reach validation, auth and the handlers.
const path = fc.oneof(
  weighted(fc.constantFrom('/service', '/health', '/service/register', '/service/deregister'), 5),
  weighted(segment.map((s) => `/service/${s}/instances`), 5),
  weighted(fc.constantFrom('', '/', '/service/', '//service', '/service//instances', '/HEALTH'), 1),
  weighted(fc.array(segment, { maxLength: 4 }).map((parts) => `/${parts.join('/')}`), 1),
  weighted(fc.webPath(), 1)
)

const headerValue = fc.stringMatching(/^[\x20-\x7E]{0,60}$/)
const authorization = fc.oneof(
  fc.constant(undefined), fc.constant(AUTH.authorization), fc.constant(AUTH.authorization), fc.constant(`Bearer ${TOKEN}x`), fc.constant(`bearer ${TOKEN}`),
  fc.constant('Bearer '), headerValue
)
const contentType = fc.oneof(weighted(fc.constant(undefined), 3), weighted(fc.constant('application/json'), 3), weighted(fc.constantFrom('application/json', 'text/plain', 'application/xml', 'multipart/form-data', 'application/json; charset=latin1'), 1), weighted(headerValue, 1))
const body = fc.oneof(
  fc.constant(undefined), fc.constant('{}'), fc.json({ maxDepth: 3 }), fc.string({ maxLength: 100 }),
  fc.integer({ min: 900, max: 4000 }).map((n) => JSON.stringify({ pad: 'p'.repeat(n) })), fc.constant(JSON.stringify({ token: TOKEN }))
)

const request = fc.record({
  method: fc.oneof(weighted(fc.constantFrom('GET', 'POST'), 8), weighted(fc.constantFrom('PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'), 2)),
  inside: fc.oneof(weighted(fc.constant(true), 9), weighted(fc.constant(false), 1)),
  path,
  query,
  authorization,
  contentType,
  body
})

/** Answers produced by Fastify itself before routing, which quote the raw URL back as they were sent. */
const FRAMEWORK_ECHO = new Set(['FST_ERR_BAD_URL', 'FST_ERR_MAX_PARAM_LENGTH'])

t.test(`${RUNS} random requests: no 5xx but the declared 503, no crash, no secret in any answer`, async (t) => {
  const app = await monitoredApp(t, { ...SECRETS, discoveryRefreshInterval: 600_000, monitoring: { token: TOKEN } })
  app.get('/mine', async () => ({ ok: true }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  await waitFor(() => app.nacos.status().state === 'registered')

  let cases = 0
  const statuses = new Map<number, number>()
  const started = Date.now()
  const property = fc.asyncProperty(request, async (r) => {
    cases++
    const url = `${r.inside ? PREFIX : ''}${r.path.startsWith('/') || r.path === '' ? r.path : `/${r.path}`}${r.query}` || '/'
    const headers: Record<string, string> = {}
    if (r.authorization !== undefined) headers.authorization = r.authorization
    if (r.contentType !== undefined) headers['content-type'] = r.contentType
    const options: InjectOptions = { method: r.method as InjectOptions['method'], url, headers }
    if (r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD') options.payload = r.body
    const res = await app.inject(options)
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    // HEAD answers as GET would, without the body that says which 503 it is.
    const declared503 = res.statusCode === 503 && (r.method === 'HEAD' || /FST_NACOS_(UNAVAILABLE|REGISTRATION_FAILED)|"status":"DOWN"/.test(res.body))
    if (res.statusCode >= 500 && !declared503) throw new Error(`${res.statusCode} for ${r.method} ${url}: ${res.body.slice(0, 300)}`)
    let parsed: { code?: unknown, statusCode?: unknown } | undefined
    try { parsed = res.json() } catch { parsed = undefined }
    // Where the request really lands: inject() resolves dot segments as any HTTP client would.
    const ours = new URL(url.startsWith('//') ? `http://localhost${url}` : url, 'http://localhost').pathname.startsWith(`${PREFIX}/`)
    const echoed = FRAMEWORK_ECHO.has(String(parsed?.code)) || !ours
    // A secret may only come back where the request itself carried it: a 200 naming the service
    // that was asked for, or Fastify's pre-routing answers quoting the URL. Our errors scrub it.
    for (const secret of secrets) {
      if (res.body.includes(secret) && !(url.includes(secret) && (echoed || res.statusCode < 400))) throw new Error(`a secret in the ${res.statusCode} answer to ${r.method} ${url}`)
      if (JSON.stringify(res.headers).includes(secret)) throw new Error(`a secret in the headers of ${r.method} ${url}`)
    }
    if (res.statusCode >= 400 && r.method !== 'HEAD' && ours && !FRAMEWORK_ECHO.has(String(parsed?.code))) {
      const keys = parsed === undefined ? '' : Object.keys(parsed).sort().join()
      const errorShape = keys === 'code,error,message,statusCode' && parsed?.statusCode === res.statusCode
      const healthDown = keys === 'reason,state,status' && res.statusCode === 503
      if (!errorShape && !healthDown) {
        throw new Error(`undeclared error shape for ${r.method} ${url}: ${res.statusCode} ${res.body.slice(0, 200)}`)
      }
    }
  })
  const result = await fc.check(property, { numRuns: RUNS, seed: SEED, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false })
  t.comment(`fuzz: ${cases} cases (of ${RUNS} planned) in ${Date.now() - started} ms, seed ${SEED}`)
  t.comment(`statuses: ${[...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ')}`)
  if (result.failed) t.fail(`seed ${SEED}, path ${String(result.counterexamplePath)}: ${String(result.errorInstance ?? '')}\n${JSON.stringify(result.counterexample)}`)
  t.ok(cases >= 1000, 'thousands of cases ran (not cut short by the time limit)')
  t.ok((statuses.get(400) ?? 0) > 0 && (statuses.get(401) ?? 0) > 0 && (statuses.get(404) ?? 0) > 0 && (statuses.get(200) ?? 0) > 0, 'the fuzz reached 200, 400, 401 and 404')
  const health = await app.inject(`${PREFIX}/health`)
  t.ok([200, 503].includes(health.statusCode), 'the app still answers')
})
