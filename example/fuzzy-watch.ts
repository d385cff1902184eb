// A watcher of a whole family (Nacos 3): it logs every `example-*` service that appears or goes
// and every `example-*` config created or removed, with no list of names to keep up to date.
// Run it next to `npm run demo` against a Nacos 3 server over gRPC; on Nacos 2.x or with
// NACOS_TRANSPORT=http it says why it cannot (FST_NACOS_FUZZY_WATCH_UNSUPPORTED) and exits.
import Fastify from 'fastify'
import nacos from 'fastify-nacos'
import { configure, loggerOptions } from './common.js'

const app = Fastify({ logger: loggerOptions() })
const env = await configure(app, 3200)
// Only watches: it does not register itself.
await app.register(nacos, { env, dotenv: false, serviceName: 'example-fuzzy-watcher', registerEnabled: false })
const handles: Array<{ cancel: () => Promise<void> }> = []
app.addHook('onClose', async () => { for (const h of handles) await h.cancel() })
await app.ready()

try {
  const services = await app.nacos.fuzzyWatch({ service: 'example-*' }, ({ service, group, change }) => {
    app.log.info({ service, group, change }, 'service family changed')
  })
  const configs = await app.nacos.config.fuzzyWatch({ dataId: 'example-*' }, ({ dataId, group, change }) => {
    app.log.info({ dataId, group, change }, 'config family changed')
  })
  handles.push(services, configs)
} catch (err) {
  app.log.error({ err }, 'fuzzy watch not available here')
  await app.close()
}
