// Where snapshots of one Nacos cluster + namespace go. The key must differ between a dev and a
// prod cluster on the same host, and must not change when a node joins the server list: it is
// named by the user (NACOS_SNAPSHOT_CLUSTER) or, by default, by the first server of the list as
// written, plus the namespace.
import { createHash } from 'node:crypto'
import { homedir, tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'

/** `<readable part>-<hash>`: the readable part helps a person, the hash keeps keys apart. */
export function clusterKey (cluster: string, namespace: string): string {
  const hash = createHash('sha256').update(`${cluster}\0${namespace}`).digest('hex').slice(0, 16)
  const readable = `${cluster}_${namespace}`.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64)
  return `${readable}-${hash}`
}

/** The per-user default root: $XDG_CACHE_HOME (else ~/.cache)/fastify-nacos/snapshots. */
export function defaultSnapshotRoot (env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(homedir(), '.cache')
  return join(cache, 'fastify-nacos', 'snapshots')
}

/** When the home takes no file (a read-only root file system): a per-user directory in tmpdir. */
export function fallbackSnapshotRoot (): string {
  let user: string
  try {
    user = String(userInfo().uid)
  } catch {
    user = 'user'
  }
  return join(tmpdir(), `fastify-nacos-${user}`, 'snapshots')
}

/** The key of the settings' cluster + namespace. */
export function settingsKey (config: { snapshotCluster: string | undefined, serverAddr: ReadonlyArray<{ host: string, port: number }>, namespace: string }): string {
  const first = config.serverAddr[0]
  return clusterKey(config.snapshotCluster ?? (first === undefined ? 'nacos' : `${first.host}:${first.port}`), config.namespace)
}
