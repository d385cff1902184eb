// The transports the contract suite (test/contract) runs against: every test there runs once per
// name in TRANSPORTS, so a new transport gets the whole suite by being added here.
import type { AllSettings } from '../../src/settings.ts'
import { resolveSettings } from '../../src/resolve.ts'
import { loadTransport } from '../../src/transport/load.ts'
import type { Transport } from '../../src/transport/types.ts'
import { NACOS_ADDR } from './nacos-api.ts'

const ALL = ['http', 'grpc'] as const
export type TransportName = (typeof ALL)[number]

/**
 * Both, unless NACOS_TRANSPORTS names some (comma-separated): a server without the v1 HTTP API
 * (Nacos 3 with it off, 3.2) is run with NACOS_TRANSPORTS=grpc, the only transport it serves.
 */
export const TRANSPORTS: readonly TransportName[] = process.env.NACOS_TRANSPORTS
  ? ALL.filter((name) => process.env.NACOS_TRANSPORTS?.split(',').map((s) => s.trim()).includes(name))
  : ALL

/**
 * The transport of the plugin-level tests (lifecycle, routes, demo...): the plugin's default,
 * gRPC, unless NACOS_TRANSPORT says otherwise. The plugin reads the same variable, so a run with
 * NACOS_TRANSPORT=http (one of CI's runs) takes every such test over HTTP.
 */
export const SUITE_TRANSPORT: TransportName = process.env.NACOS_TRANSPORT === 'http' ? 'http' : 'grpc'

type Fn = (obj: object, msg: string) => void
export interface TestLog { info: Fn, warn: Fn, debug: Fn, error: Fn }

/** Opens a transport as the plugin would (same settings, same loader); close it in a teardown. */
export async function openTransport (name: TransportName, log: TestLog, settings: AllSettings = {}): Promise<Transport> {
  const config = resolveSettings({ serverAddr: NACOS_ADDR, serviceName: 'contract', requestTimeout: 2000, ...settings, transport: name }, { env: {}, dotenv: false })
  const { transport } = await loadTransport(config, { ...log, child: () => log } as never)
  return transport
}
