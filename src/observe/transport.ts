// The transport seen by the observer: every request through the seam is timed, reported and
// traced, pushes, config changes and redos are counted. A Proxy like withNacosErrors, so the
// transports themselves know nothing of it.
import type { ConfigKey, ConfigTransport, NamingTransport, ServiceRef, Transport } from '../transport/types.js'
import { requestChannel, type RequestContext } from './channels.js'
import type { Observer, RequestKind } from './events.js'

type Name = (arg: never) => { name: string, group: string }
const naming: Name = (i: { serviceName?: string, service?: string, groupName?: string, group?: string }) =>
  ({ name: i.serviceName ?? i.service ?? '', group: i.groupName ?? i.group ?? '' })
const config: Name = (k: ConfigKey) => ({ name: k.dataId, group: k.group })
const none: Name = () => ({ name: '', group: '' })

const NAMING: Record<string, [RequestKind, Name]> = { register: ['register', naming], deregister: ['deregister', naming], query: ['query', naming], probe: ['probe', none] }
const CONFIG: Record<string, [RequestKind, Name]> = { get: ['configGet', config], publish: ['configPublish', config], remove: ['configRemove', config] }

function timed<T extends object> (target: T, module: 'naming' | 'config', kinds: Record<string, [RequestKind, Name]>, transport: 'http' | 'grpc', observer: Observer): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [method, [kind, name]] of Object.entries(kinds)) {
    const fn = (target as Record<string, (...args: unknown[]) => Promise<unknown>>)[method]
    if (fn === undefined) continue
    out[method] = async (...args: unknown[]): Promise<unknown> => {
      const start = performance.now()
      const report = (error?: Error): void => { observer.request({ module, kind, transport, durationMs: performance.now() - start, error }) }
      const run = async (): Promise<unknown> => await fn.apply(target, args)
      const call = requestChannel.hasSubscribers
        ? requestChannel.tracePromise(run, { module, kind, transport, ...name(args[0] as never) } satisfies RequestContext)
        : run()
      try {
        const result = await call
        report()
        return result
      } catch (err) {
        report(err as Error)
        throw err
      }
    }
  }
  return out
}

function overlay<T extends object> (target: T, own: Record<string, unknown>): T {
  return new Proxy(target, {
    get (obj, prop, receiver) {
      if (typeof prop === 'string' && prop in own) return own[prop]
      const value = Reflect.get(obj, prop, receiver) as unknown
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(obj) : value
    }
  })
}

/** `transport` with every request, push, config change and redo reported to `observer`. */
export function observeTransport (transport: Transport, observer: Observer): Transport {
  const n = transport.naming
  const namingOwn = timed(n, 'naming', NAMING, transport.name, observer)
  namingOwn.watch = (ref: ServiceRef, onChange: Parameters<NamingTransport['watch']>[1]) => n.watch(ref, (snapshot) => {
    observer.push(ref.service, ref.group, snapshot.lastRefTime > 0 ? Math.max(0, Date.now() - snapshot.lastRefTime) : undefined)
    onChange(snapshot)
  })
  namingOwn.keepAlive = (instance: Parameters<NamingTransport['keepAlive']>[0], events: Parameters<NamingTransport['keepAlive']>[1]) =>
    n.keepAlive(instance, { ...events, registeredAgain: () => { observer.redo(); events.registeredAgain() } })
  const c = transport.config
  const configOwn = timed(c, 'config', CONFIG, transport.name, observer)
  configOwn.watch = (key: ConfigKey, onChange: Parameters<ConfigTransport['watch']>[1]) => {
    const stop = c.watch(key, (content) => {
      observer.configChanged(key.dataId, key.group)
      onChange(content)
    })
    observer.listening(key.dataId, key.group, 1)
    let stopped = false
    return () => {
      if (!stopped) observer.listening(key.dataId, key.group, -1)
      stopped = true
      stop()
    }
  }
  const observedNaming = overlay(n, namingOwn)
  const observedConfig = overlay(c, configOwn)
  return overlay(transport, { naming: observedNaming, config: observedConfig })
}
