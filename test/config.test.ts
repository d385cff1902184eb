import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { homedir, tmpdir } from 'node:os'
import { packageServiceName, redact, secretValues } from '../src/settings.ts'
import { resolveSettings } from '../src/resolve.ts'
import { backoffDelay } from '../src/backoff.ts'

const server = (host: string, port: number) => ({ host, port, tls: false, contextPath: '/nacos' })
const dir = (): string => mkdtempSync(join(tmpdir(), 'fastify-nacos-config-'))
const resolve = (options = {}, env: NodeJS.ProcessEnv = {}, cwd = dir()) =>
  resolveSettings(options, { env: { NACOS_SERVICE_NAME: 'svc', ...env }, cwd })

t.test('defaults follow the seed guide', async (t) => {
  const c = resolve()
  t.same(c.serverAddr, [server('127.0.0.1', 8848)])
  t.equal(c.namespace, 'public')
  t.equal(c.group, 'DEFAULT_GROUP')
  t.equal(c.heartbeatIntervalMs, 5000)
  t.equal(c.deregisterTimeMs, 10_000)
  t.equal(c.logLevel, undefined, 'the plugin logs at the app logger\'s level')
  t.equal(c.clusterName, 'DEFAULT')
  t.equal(c.weight, 1)
  t.same(c.metadata, {})
  t.equal(c.ephemeral, true)
  t.equal(c.registerEnabled, true)
  t.equal(c.failFast, false)
  t.equal(c.ip, undefined)
  t.equal(c.port, undefined)
  t.equal(c.snapshotDir, join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'fastify-nacos', 'snapshots'), 'per user, not the shared tmpdir')
  t.equal(c.snapshots, true)
  t.equal(c.metricsEnabled, false, 'metrics off unless asked for')
})

t.test('every variable is read from the environment', async (t) => {
  const c = resolve({}, {
    NACOS_SERVER_ADDR: '10.0.0.1:8848, nacos-2', NACOS_NAMESPACE: 'dev', NACOS_GROUP: 'G', NACOS_SERVICE_NAME: 'orders',
    NACOS_SERVICE_IP: '10.1.2.3', NACOS_SERVICE_PORT: '8080', NACOS_HEARTBEAT_INTERVAL: '2.5', NACOS_DEREGISTER_TIME: '30',
    NACOS_LOG_LEVEL: 'debug', NACOS_USERNAME: 'u', NACOS_PASSWORD: 'p', NACOS_ACCESS_KEY: 'ak', NACOS_SECRET_KEY: 'sk',
    NACOS_CLUSTER_NAME: 'c1', NACOS_WEIGHT: '0', NACOS_METADATA: '{"zone":"a"}', NACOS_EPHEMERAL: 'false',
    NACOS_REGISTER_ENABLED: 'false', NACOS_PREFERRED_INTERFACES: 'eth0, en*', NACOS_PREFERRED_NETWORKS: '10.0.0.0/8', NACOS_IP_TYPE: 'IPv6',
    NACOS_HEALTH_REQUIRES_REGISTRATION: 'true', NACOS_PUSH_EMPTY_PROTECTION: 'true', NACOS_FAIL_FAST: 'true', NACOS_DRAIN_DELAY: '1.5', NACOS_REQUEST_TIMEOUT: '2000', NACOS_SNAPSHOT_DIR: '/var/cache/x', NACOS_SNAPSHOTS: 'false', NACOS_SNAPSHOT_CLUSTER: 'prod',
    NACOS_MONITORING_TOKEN: 'token-0123456789abcdef', NACOS_MONITORING_PROTECT_READS: 'true', NACOS_TRANSPORT: 'grpc',
    NACOS_TLS_CA: '/etc/ca.pem', NACOS_TLS_CERT: '/etc/c.pem', NACOS_TLS_KEY: '/etc/k.pem', NACOS_TLS_SERVER_NAME: 'nacos.internal',
    NACOS_GRPC_PORT_OFFSET: '1001', NACOS_GRPC_HEALTH_CHECK_IDLE: '6000', NACOS_GRPC_HEALTH_CHECK_TIMEOUT: '2000', NACOS_GRPC_RECONNECT_MAX: '9000', NACOS_GRPC_REDO_INTERVAL: '1000', NACOS_METRICS: 'true'
  })
  t.same(c, {
    serverAddr: [server('10.0.0.1', 8848), server('nacos-2', 8848)], transport: 'grpc', namespace: 'dev', group: 'G', serviceName: 'orders', ip: '10.1.2.3', ipType: 'IPv6', port: 8080,
    heartbeatIntervalMs: 2500, deregisterTimeMs: 30_000, logLevel: 'debug', username: 'u', password: 'p', accessKey: 'ak',
    secretKey: 'sk', clusterName: 'c1', weight: 0, metadata: { zone: 'a' }, ephemeral: false, registerEnabled: false,
    preferredInterfaces: ['eth0', 'en*'], preferredNetworks: ['10.0.0.0/8'], healthRequiresRegistration: true, pushEmptyProtection: true, failFast: true, drainDelayMs: 1500,
    requestTimeoutMs: 2000, snapshotDir: '/var/cache/x', snapshots: false, snapshotCluster: 'prod', monitoringToken: 'token-0123456789abcdef', monitoringProtectReads: true,
    tlsCa: '/etc/ca.pem', tlsCert: '/etc/c.pem', tlsKey: '/etc/k.pem', tlsServerName: 'nacos.internal',
    grpcPortOffset: 1001, grpcHealthCheckIdleMs: 6000, grpcHealthCheckTimeoutMs: 2000, grpcReconnectMaxMs: 9000, grpcRedoIntervalMs: 1000, metricsEnabled: true
  })
  t.equal(redact(c).password, '****')
  t.equal(redact(c).secretKey, '****')
  t.equal(redact(c).monitoringToken, '****')
  t.equal(redact(c).accessKey, '****', 'the access key is one of the secrets too')
  t.same(secretValues(c), ['p', 'ak', 'sk', 'token-0123456789abcdef'], 'one list of secrets: password, access key, secret key, monitoring token')
})

t.test('NACOS_SERVICE_IP takes IPv6, with or without brackets; NACOS_IP_TYPE defaults to IPv4', async (t) => {
  t.equal(resolve({}, { NACOS_SERVICE_IP: 'FD00::12' }).ip, 'fd00::12')
  t.equal(resolve({ ip: '[::1]' }).ip, '::1')
  t.equal(resolve().ipType, 'IPv4')
  t.equal(resolve({ ipType: 'IPv6' }).ipType, 'IPv6')
})

t.test('plugin options win over the environment', async (t) => {
  const c = resolve({ group: 'OPT', heartbeatInterval: 1, deregisterTime: 4, metadata: { a: 'b' }, preferredNetworks: ['192.168.'], serverAddr: ['h1:1', 'h2:2'] },
    { NACOS_GROUP: 'ENV', NACOS_HEARTBEAT_INTERVAL: '3', NACOS_METADATA: '{"x":"y"}' })
  t.equal(c.group, 'OPT')
  t.equal(c.heartbeatIntervalMs, 1000)
  t.same(c.metadata, { a: 'b' })
  t.same(c.preferredNetworks, ['192.168.'])
  t.same(c.serverAddr, [server('h1', 1), server('h2', 2)])
})

t.test('.env, then .env.<NODE_ENV> over it, then the real environment over both', async (t) => {
  const cwd = dir()
  writeFileSync(join(cwd, '.env'), 'NACOS_GROUP=FROM_DOTENV\nNACOS_NAMESPACE=base\nNACOS_WEIGHT=2\n')
  writeFileSync(join(cwd, '.env.production'), 'NACOS_NAMESPACE=prod\nNACOS_WEIGHT=3\n')
  const env: NodeJS.ProcessEnv = { NODE_ENV: 'production', NACOS_SERVICE_NAME: 's', NACOS_WEIGHT: '4' }
  const c = resolveSettings({}, { env, cwd })
  t.equal(c.group, 'FROM_DOTENV')
  t.equal(c.namespace, 'prod')
  t.equal(c.weight, 4)
  t.same(env, { NODE_ENV: 'production', NACOS_SERVICE_NAME: 's', NACOS_WEIGHT: '4' }, 'the environment is not changed: the files feed the plugin\'s settings only')
  const off = resolveSettings({}, { env: { NACOS_SERVICE_NAME: 's' }, cwd, dotenv: false })
  t.equal(off.group, 'DEFAULT_GROUP', 'dotenv: false reads no file')
})

t.test('the service name defaults to package.json\'s name, scope dropped', async (t) => {
  const cwd = dir()
  writeFileSync(join(cwd, 'package.json'), JSON.stringify({ name: '@acme/orders-api' }))
  t.equal(resolveSettings({}, { env: {}, cwd }).serviceName, 'orders-api')
  t.equal(packageServiceName(dir()), undefined)
  const broken = dir()
  writeFileSync(join(broken, 'package.json'), '{nope')
  t.equal(packageServiceName(broken), undefined)
  t.throws(() => resolveSettings({}, { env: {}, cwd: dir() }), /invalid NACOS_SERVICE_NAME="": expected a service name: set NACOS_SERVICE_NAME/)
})

const bad: Array<[string, NodeJS.ProcessEnv | object, RegExp]> = [
  ['NACOS_WEIGHT', { NACOS_WEIGHT: 'heavy' }, /^fastify-nacos: invalid NACOS_WEIGHT="heavy": expected must be number$/],
  ['NACOS_WEIGHT range', { NACOS_WEIGHT: '-1' }, /invalid NACOS_WEIGHT="-1": expected must be >= 0/],
  ['NACOS_SERVICE_PORT', { NACOS_SERVICE_PORT: '70000' }, /invalid NACOS_SERVICE_PORT="70000": expected must be <= 65535/],
  ['NACOS_SERVICE_IP', { NACOS_SERVICE_IP: '10.0.0.300' }, /invalid NACOS_SERVICE_IP="10.0.0.300": expected an IPv4 or IPv6 address such as 10.0.0.12 or fd00::12$/],
  ['NACOS_SERVICE_IP IPv6', { NACOS_SERVICE_IP: 'fd00:::12' }, /invalid NACOS_SERVICE_IP="fd00:::12": expected an IPv4 or IPv6 address/],
  ['NACOS_IP_TYPE', { NACOS_IP_TYPE: 'ipv5' }, /invalid NACOS_IP_TYPE="ipv5": expected one of IPv4, IPv6$/],
  ['NACOS_SERVER_ADDR form', { NACOS_SERVER_ADDR: 'ftp://x:8848' }, /invalid NACOS_SERVER_ADDR="ftp:\/\/x:8848": expected host\[:port\] or \[IPv6\]:port, optionally with http:\/\/ or https:\/\//],
  ['NACOS_SERVER_ADDR port', { NACOS_SERVER_ADDR: 'x:8848,y:99999' }, /invalid NACOS_SERVER_ADDR="x:8848,y:99999": expected host\[:port\].*; "y:99999": port 99999 is not between 1 and 65535$/],
  ['NACOS_SERVER_ADDR IPv6', { NACOS_SERVER_ADDR: '[::g]:8848' }, /invalid NACOS_SERVER_ADDR="\[::g\]:8848": expected host\[:port\]/],
  ['NACOS_SERVICE_NAME', { NACOS_SERVICE_NAME: 'bad name!' }, /invalid NACOS_SERVICE_NAME="bad name!": expected letters, digits/],
  ['NACOS_LOG_LEVEL', { NACOS_LOG_LEVEL: 'loud' }, /invalid NACOS_LOG_LEVEL="loud": expected one of fatal, error, warn, info, debug, trace, silent/],
  ['NACOS_TRANSPORT', { NACOS_TRANSPORT: 'udp' }, /invalid NACOS_TRANSPORT="udp": expected one of http, grpc/],
  ['access key is masked', { NACOS_ACCESS_KEY: '' }, /^fastify-nacos: invalid NACOS_ACCESS_KEY="\*\*\*\*": expected must NOT have fewer than 1 characters$/],
  ['NACOS_EPHEMERAL', { NACOS_EPHEMERAL: 'maybe' }, /invalid NACOS_EPHEMERAL="maybe": expected must be boolean/],
  ['NACOS_HEARTBEAT_INTERVAL', { NACOS_HEARTBEAT_INTERVAL: '0' }, /invalid NACOS_HEARTBEAT_INTERVAL="0": expected must be >= 0.1/],
  ['NACOS_METADATA JSON', { NACOS_METADATA: '{zone:a}' }, /invalid NACOS_METADATA="{zone:a}": expected a JSON object of strings/],
  ['NACOS_METADATA values', { NACOS_METADATA: '{"n":1}' }, /invalid NACOS_METADATA.*expected a JSON object of strings/],
  ['deregister ≤ heartbeat', { NACOS_HEARTBEAT_INTERVAL: '5', NACOS_DEREGISTER_TIME: '5' }, /invalid NACOS_DEREGISTER_TIME=5: expected more seconds than NACOS_HEARTBEAT_INTERVAL \(5\)/],
  ['password without user', { NACOS_PASSWORD: 'x' }, /expected both NACOS_USERNAME and NACOS_PASSWORD, or neither/],
  ['password is masked', { NACOS_PASSWORD: '', NACOS_USERNAME: 'u' }, /^fastify-nacos: invalid NACOS_PASSWORD="\*\*\*\*": expected must NOT have fewer than 1 characters$/],
  ['monitoring token is masked', { NACOS_MONITORING_TOKEN: 'short-secret' }, /^fastify-nacos: invalid NACOS_MONITORING_TOKEN="\*\*\*\*": expected 16 to 512 printable ASCII characters, no spaces$/],
  ['NACOS_MONITORING_PROTECT_READS', { NACOS_MONITORING_PROTECT_READS: 'sure' }, /invalid NACOS_MONITORING_PROTECT_READS="sure": expected must be boolean/]
]
for (const [name, env, message] of bad) {
  t.test(`bad value, one clear line: ${name}`, async (t) => {
    t.throws(() => resolve({}, env as NodeJS.ProcessEnv), { code: 'FST_NACOS_BAD_SETTING', message })
  })
}

t.test('a bad option names the option', async (t) => {
  t.throws(() => resolve({ weight: -3 }), { message: /invalid option weight \(NACOS_WEIGHT=-3\): expected must be >= 0/ })
  t.throws(() => resolve({ password: '' , username: 'u' }), { message: /invalid option password \(NACOS_PASSWORD="\*\*\*\*"\)/ })
  t.throws(() => resolve({ monitoringToken: 'has a space in it!' }), { message: /invalid option monitoring.token \(NACOS_MONITORING_TOKEN="\*\*\*\*"\)/ })
})

t.test('backoff grows exponentially, with jitter, up to a ceiling', async (t) => {
  t.equal(backoffDelay(0, 500, 10_000, () => 0), 250)
  t.equal(backoffDelay(0, 500, 10_000, () => 1), 500)
  t.equal(backoffDelay(3, 500, 10_000, () => 1), 4000)
  t.equal(backoffDelay(10, 500, 10_000, () => 1), 10_000)
  t.equal(backoffDelay(10, 500, 10_000, () => 0), 5000)
})
