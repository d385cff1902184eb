// An app that ran before a Nacos outage and restarts during it (the fault suite's "whole cluster
// down, app restarted, cluster back"): it reads a preloaded config and looks up the service it
// calls, so that both are in its snapshots; the config then changes in Nacos while the app is away.
import type { Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import nacos from '../../src/index.ts'
import { publishConfig, readConfig, uniqueService, waitFor } from './nacos-api.ts'
import type { TransportName } from './transports.ts'

const Settings = Type.Object({ port: Type.Integer() })
type Settings = Static<typeof Settings>

export interface OutageApp {
  transport: TransportName
  serviceName: string
  dataId: string
  /** The service it calls by name, and the answer its `/ping` gives. */
  callee: string
  /** Starts the app again (not listening yet), a watcher on its preloaded config recording values. */
  restart: () => Promise<{ app: FastifyInstance, watched: Settings[] }>
}

/** Options of both runs of the app: the same serverAddr, so the same snapshot directory. */
type Options = Parameters<typeof nacos>[1] & { serverAddr: readonly string[] }

/**
 * Runs the app once with Nacos up (config `{"port":81}` read, `callee` looked up, registered),
 * closes it, then publishes `{"port":82}` on every server: the snapshot holds 81.
 */
export async function ranBefore (t: Test, transport: TransportName, callee: string, options: Options): Promise<OutageApp> {
  const serviceName = uniqueService(`restarted-${transport}`)
  const dataId = `${serviceName}.json`
  const everywhere = async (content: string): Promise<void> => {
    await publishConfig(dataId, content, { addr: options.serverAddr[0] })
    // Set-up, not a claim: the cluster's own replication (Raft, then each node's dump) decides
    // when every node serves it; on a freshly started cluster in CI it took longer than 15 s once.
    await waitFor(async () => (await Promise.all(options.serverAddr.map(async (addr) => await readConfig(dataId, { addr })))).every((c) => c === content), 60_000, 200)
  }
  const start = async (): Promise<FastifyInstance> => {
    const app = Fastify()
    await app.register(nacos, { ...options, transport, serviceName, configs: [{ dataId, schema: Settings }] })
    return app
  }
  await everywhere('{"port":81}')
  const before = await start()
  try {
    t.same(before.nacos.configs.get(dataId), { port: 81 }, `${transport}: the preloaded config, from Nacos`)
    await before.listen({ port: 0, host: '127.0.0.1' })
    t.equal((await before.nacos.instances(callee)).length, 1, `${transport}: looked up ${callee}`)
    await waitFor(() => before.nacos.status().state === 'registered', 10_000)
  } finally {
    await before.close()
  }
  await everywhere('{"port":82}')
  return {
    transport,
    serviceName,
    dataId,
    callee,
    restart: async () => {
      const app = await start()
      t.teardown(() => app.close())
      const watched: Settings[] = []
      app.nacos.config.watch(dataId, { schema: Settings }, (value) => { if (value !== undefined) watched.push(value) })
      return { app, watched }
    }
  }
}
