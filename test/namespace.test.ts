// With no namespace set, our instances and configs land where the official Java client (3.0.3 on
// a 3.x server, 2.5.1 on 2.x) puts its own: the namespace Nacos stores for a client without one
// (3.x: `public`; 2.x: instances in `public`, configs under the empty tenant ''), read back
// through Nacos's own HTTP API.
import t from 'tap'
import Fastify from 'fastify'
import nacos from '../src/index.ts'
import { NACOS_ADDR, isNacos3, listInstances, nacosRequest, uniqueService, waitFor } from './helpers/nacos-api.ts'
import { freePort } from './helpers/ports.ts'
import { JAVA_CLIENT_VERSION, JavaPeer, buildPeer } from './helpers/java-peer.ts'
import { TRANSPORTS } from './helpers/transports.ts'

const classpath = buildPeer()
const three = await isNacos3()

/** The namespace Nacos stored a config under (DEFAULT_GROUP), found by data id alone. */
async function configNamespace (dataId: string): Promise<string | undefined> {
  if (three) {
    const res = await nacosRequest('/v3/admin/cs/config/list', { dataId, groupName: 'DEFAULT_GROUP', namespaceId: 'public', pageNo: '1', pageSize: '10', search: 'accurate' })
    const body = await res.json() as { data?: { pageItems?: Array<{ namespaceId?: string, tenant?: string }> } }
    const item = body.data?.pageItems?.[0]
    return item?.namespaceId ?? item?.tenant
  }
  const res = await nacosRequest('/v1/cs/configs', { dataId, group: 'DEFAULT_GROUP', tenant: '', search: 'accurate', pageNo: '1', pageSize: '10' })
  const body = await res.json() as { pageItems?: Array<{ tenant: string }> }
  return body.pageItems?.[0]?.tenant
}

for (const transport of TRANSPORTS) {
  t.test(`${transport}: no namespace set: instances and configs land beside the Java client ${JAVA_CLIENT_VERSION}'s (${three ? 'public' : "instances public, configs ''"})`, async (t) => {
    const java = new JavaPeer(classpath)
    t.teardown(() => java.close())
    await java.next((e) => e.event === 'ready', 30_000)
    const service = uniqueService('ns-default')
    const app = Fastify()
    await app.register(nacos, { serverAddr: NACOS_ADDR, transport, serviceName: service, ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'warn' })
    t.teardown(() => app.close())
    await app.listen({ port: 0, host: '127.0.0.1' })
    const ours = (app.server.address() as { port: number }).port
    const theirs = await freePort()
    await java.request(`register ${service} ${theirs} lang=java`, 'registered')
    // Nacos's own list of the default namespace holds both.
    const hosts = await waitFor(async () => { const l = await listInstances(service, { namespace: 'public' }); return l.length === 2 ? l : undefined })
    t.same(hosts.map((h) => h.port).sort(), [ours, theirs].sort(), 'both instances in namespace public')

    const javaId = `${uniqueService('ns-java')}.txt`
    const ourId = `${uniqueService('ns-ours')}.txt`
    await java.request(`publish ${javaId} DEFAULT_GROUP from-java`, 'published')
    await app.nacos.config.publish(ourId, 'from-node')
    // '' is a namespace here (2.x's configs): wrapped, so that waitFor sees it as found.
    const stored = async (dataId: string): Promise<{ ns: string } | undefined> => { const ns = await configNamespace(dataId); return ns === undefined ? undefined : { ns } }
    const javaNs = (await waitFor(async () => await stored(javaId), 10_000)).ns
    const ourNs = (await waitFor(async () => await stored(ourId), 10_000)).ns
    t.comment(`${transport}: the Java client's config is stored under namespace ${JSON.stringify(javaNs)}, ours under ${JSON.stringify(ourNs)}`)
    t.equal(ourNs, javaNs, 'our config lands where the Java client puts its own')
    if (three) t.equal(ourNs, 'public')
  })
}
