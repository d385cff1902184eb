// Prometheus metrics on prom-client. Names, labels and units follow the Java client where it has
// the metric (nacos_monitor, nacos_client_request in ms, nacos_client_naming_request_failed_total);
// the rest are named in the same family. Apps sharing a registry share the metric objects, as Java
// clients in one JVM share MetricsMonitor's: counters add up, gauges sum over the live apps, and
// the metrics leave the registry when the last app closes (reference counted per registry).
import type * as PromClient from 'prom-client'
import type { AttemptEvent } from '../naming/fetch-options.js'
import type { Observer, RequestEvent, RequestKind } from './events.js'

/** The classes used, from the app's prom-client (kept out of the published declarations: prom-client is optional). */
type Prom = Pick<typeof PromClient, 'Gauge' | 'Counter' | 'Histogram'>
type Registry = PromClient.Registry

/** What the gauges read when Prometheus scrapes. */
export interface MetricsSources {
  /** The registration state now. */
  state: () => string
  /** Services followed by discovery and their cached instance counts. */
  services: () => ReadonlyArray<{ service: string, group: string, instances: number }>
  /** Whether the transport holds a connection now (gRPC); undefined for HTTP. */
  connected: () => boolean | undefined
}

/** Distinct services that get their own series in the call-by-name metrics; later ones count under `_other`. */
export const MAX_CALL_SERVICES = 256
const OTHER = '_other'
const STATES = ['idle', 'registering', 'registered', 'retrying', 'deregistered'] as const
const MS_BUCKETS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]

/** The Java client's request classes, so one dashboard covers both (`nacos_client_naming_request_failed_total{req_class}`). */
const REQUEST_CLASS: Record<RequestKind, string> = {
  register: 'InstanceRequest', deregister: 'InstanceRequest', query: 'ServiceQueryRequest', probe: 'ServerCheckRequest',
  configGet: 'ConfigQueryRequest', configPublish: 'ConfigPublishRequest', configRemove: 'ConfigRemoveRequest'
}

interface App { sources: MetricsSources, listeners: number }

/**
 * One called service's attempts since the last scrape. An attempt only adds to these; the counters
 * take them when Prometheus scrapes (their collect), so a call by name costs a few additions and
 * one histogram observation, not a label hash per counter.
 */
interface Calls { labels: { service: string }, duration: { observe: (ms: number) => void }, ok: number, failed: number, retries: number, ejections: number, failures: number }
type Count = 'ok' | 'failed' | 'retries' | 'ejections' | 'failures'

/** A counter's collect: adds what `count` gathered per service since the last scrape. */
const flush = (calls: Map<string, Calls>, count: Count, labels: (c: Calls) => Record<string, string> = (c) => c.labels) => function (this: PromClient.Counter) {
  for (const c of calls.values()) {
    if (c[count] === 0) continue
    this.inc(labels(c), c[count])
    c[count] = 0
  }
}

function families (prom: Prom, registry: Registry, apps: Set<App>, calls: Map<string, Calls>) {
  const registers = [registry]
  const sum = (f: (a: App) => number): number => { let n = 0; for (const a of apps) n += f(a); return n }
  const flushOk = flush(calls, 'ok', (c) => ({ ...c.labels, outcome: 'ok' }))
  const flushFailed = flush(calls, 'failed', (c) => ({ ...c.labels, outcome: 'failed' }))
  return {
    monitor: new prom.Gauge({
      name: 'nacos_monitor', help: 'Nacos client gauges, as the Java client: naming/serviceInfoMapSize (services cached), config/listenConfigCount (config listeners)', labelNames: ['module', 'name'], registers,
      collect () {
        this.set({ module: 'naming', name: 'serviceInfoMapSize' }, sum((a) => a.sources.services().length))
        this.set({ module: 'config', name: 'listenConfigCount' }, sum((a) => a.listeners))
      }
    }),
    request: new prom.Histogram({ name: 'nacos_client_request', help: 'Requests to Nacos, ms (as the Java client); method: what was asked, url: the Java request class, code: 200 or the error code', labelNames: ['module', 'method', 'url', 'code'], buckets: MS_BUCKETS, registers }),
    requestSeconds: new prom.Histogram({ name: 'nacos_client_request_duration_seconds', help: 'Requests to Nacos, seconds (Prometheus convention; the same requests as nacos_client_request)', labelNames: ['module', 'method'], registers }),
    failed: new prom.Counter({ name: 'nacos_client_naming_request_failed_total', help: 'Naming requests to Nacos that failed (as the Java client)', labelNames: ['module', 'req_class', 'res_status', 'res_code', 'err_class'], registers }),
    configFailed: new prom.Counter({ name: 'nacos_client_config_request_failed_total', help: 'Config requests to Nacos that failed', labelNames: ['module', 'req_class', 'res_status', 'res_code', 'err_class'], registers }),
    registration: new prom.Gauge({
      name: 'nacos_client_registration_state', help: 'Registration of this service: 1 for the current state (summed over apps sharing the registry)', labelNames: ['state'], registers,
      collect () { for (const s of STATES) this.set({ state: s }, sum((a) => (a.sources.state() === s ? 1 : 0))) }
    }),
    connection: new prom.Gauge({
      // Labelled so that it can be absent: a gauge without labels always has a sample (0 over HTTP would read as down).
      name: 'nacos_client_connection_up', help: 'gRPC connections to Nacos up now (0 while reconnecting); absent over HTTP', labelNames: ['transport'], registers,
      collect () {
        const grpc = [...apps].filter((a) => a.sources.connected() !== undefined)
        this.reset()
        if (grpc.length > 0) this.set({ transport: 'grpc' }, grpc.filter((a) => a.sources.connected() === true).length)
      }
    }),
    reconnects: new prom.Counter({ name: 'nacos_client_reconnects_total', help: 'gRPC connections to Nacos established again after one was lost', registers }),
    redo: new prom.Counter({ name: 'nacos_client_naming_redo_total', help: 'Registrations the transport sent again by itself on a new connection (gRPC redo)', registers }),
    pushes: new prom.Counter({ name: 'nacos_client_naming_push_received_total', help: 'Instance lists pushed by Nacos (or brought by a re-read) for watched services', registers }),
    pushDelay: new prom.Histogram({ name: 'nacos_client_naming_push_delay_ms', help: 'Time from Nacos changing a service (its lastRefTime) to the client receiving it, ms (clocks of client and server)', buckets: MS_BUCKETS, registers }),
    instances: new prom.Gauge({
      name: 'nacos_client_naming_service_instances', help: 'Cached instances of each service followed (a service no longer followed drops its series)', labelNames: ['service', 'group'], registers,
      collect () {
        this.reset()
        for (const a of apps) for (const s of a.sources.services()) this.inc({ service: s.service, group: s.group }, s.instances)
      }
    }),
    configChanges: new prom.Counter({ name: 'nacos_client_config_changes_total', help: 'Config changes received and applied', registers }),
    snapshot: new prom.Counter({ name: 'nacos_client_snapshot_served_total', help: 'Answers served from a local snapshot while Nacos was unreachable', labelNames: ['module'], registers }),
    attempts: new prom.Counter({
      name: 'nacos_client_call_attempts_total', help: 'Attempts of calls by name (app.nacos.fetch / dispatcher), by outcome', labelNames: ['service', 'outcome'], registers,
      collect () {
        flushOk.call(this)
        flushFailed.call(this)
      }
    }),
    attemptDuration: new prom.Histogram({ name: 'nacos_client_call_duration_ms', help: 'Attempts of calls by name until their answer headers or failure, ms', labelNames: ['service'], buckets: MS_BUCKETS, registers }),
    retries: new prom.Counter({ name: 'nacos_client_call_retries_total', help: 'Attempts of calls by name followed by another on another instance', labelNames: ['service'], registers, collect: flush(calls, 'retries') }),
    ejections: new prom.Counter({ name: 'nacos_client_call_ejections_total', help: 'Instances ejected after consecutive failures', labelNames: ['service'], registers, collect: flush(calls, 'ejections') }),
    failures: new prom.Counter({ name: 'nacos_client_call_failures_total', help: 'Calls by name that failed after their last attempt', labelNames: ['service'], registers, collect: flush(calls, 'failures') })
  }
}

type Families = ReturnType<typeof families>
interface Shared { metrics: Families, apps: Set<App>, calls: Map<string, Calls> }
const SHARED = new WeakMap<Registry, Shared>()

function errorCode (err: Error): string {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && /^[A-Z_]{1,64}$/.test(code) ? code : 'error'
}

export interface Metrics {
  observer: Observer
  /** The registry's text and content type, for the /metrics route. */
  scrape: () => Promise<{ contentType: string, text: string }>
  /** This app stops contributing; the last one out removes the metrics from the registry. */
  close: () => void
}

/** Registers (or joins) the metrics in `registry` and returns this app's observer. */
export function createMetrics (promClient: unknown, target: unknown, sources: MetricsSources): Metrics {
  const prom = promClient as Prom
  const registry = target as Registry
  let shared = SHARED.get(registry)
  if (shared === undefined) {
    const apps = new Set<App>()
    const calls = new Map<string, Calls>()
    shared = { metrics: families(prom, registry, apps, calls), apps, calls }
    SHARED.set(registry, shared)
  }
  const { metrics: m, apps, calls } = shared
  const app: App = { sources, listeners: 0 }
  apps.add(app)
  const counts = (name: string): Calls => {
    const known = calls.get(name)
    if (known !== undefined) return known
    const service = calls.size < MAX_CALL_SERVICES ? name : OTHER
    let c = calls.get(service)
    if (c === undefined) {
      const labels = { service }
      c = { labels, duration: m.attemptDuration.labels(labels), ok: 0, failed: 0, retries: 0, ejections: 0, failures: 0 }
      calls.set(service, c)
    }
    return c
  }
  const request = (e: RequestEvent): void => {
    const code = e.error === undefined ? '200' : errorCode(e.error)
    m.request.observe({ module: e.module, method: e.kind, url: REQUEST_CLASS[e.kind], code }, e.durationMs)
    m.requestSeconds.observe({ module: e.module, method: e.kind }, e.durationMs / 1000)
    if (e.error === undefined) return
    const labels = { module: e.module, req_class: REQUEST_CLASS[e.kind], res_status: 'NA', res_code: code, err_class: e.error.name.slice(0, 64) }
    ;(e.module === 'naming' ? m.failed : m.configFailed).inc(labels)
  }
  const attempt = (e: AttemptEvent): void => {
    const c = counts(e.service)
    if (e.failed) c.failed++
    else c.ok++
    c.duration.observe(e.duration)
    if (e.retry) c.retries++
    if (e.ejectedMs > 0) c.ejections++
    if (e.failed && !e.retry) c.failures++
  }
  let first = true
  const observer: Observer = {
    request,
    attempt,
    push: (_service, _group, delayMs) => {
      m.pushes.inc()
      if (delayMs !== undefined) m.pushDelay.observe(delayMs)
    },
    connected: () => {
      if (!first) m.reconnects.inc()
      first = false
    },
    redo: () => { m.redo.inc() },
    listening: (_dataId, _group, delta) => { app.listeners += delta },
    configChanged: () => { m.configChanges.inc() },
    servedFromSnapshot: (module) => { m.snapshot.inc({ module }) }
  }
  let closed = false
  return {
    observer,
    scrape: async () => ({ contentType: registry.contentType, text: await registry.metrics() }),
    close: () => {
      if (closed) return
      closed = true
      apps.delete(app)
      if (apps.size > 0 || SHARED.get(registry) !== shared) return
      SHARED.delete(registry)
      for (const metric of Object.values(m)) registry.removeSingleMetric((metric as unknown as { name: string }).name)
    }
  }
}
