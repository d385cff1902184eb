// The snapshot store the settings ask for: off, or under NACOS_SNAPSHOT_DIR in the directory of
// this Nacos cluster + namespace.
import type { ResolvedSettings } from '../settings.js'
import { fallbackSnapshotRoot, settingsKey } from './key.js'
import { NO_SNAPSHOTS, openSnapshots, type SnapshotStore } from './store.js'

type Logger = Record<'warn' | 'info' | 'debug', (obj: object, msg: string) => void>

export async function snapshotsOf (config: Pick<ResolvedSettings, 'snapshots' | 'snapshotDir' | 'snapshotCluster' | 'serverAddr' | 'namespace'>, log: Logger): Promise<SnapshotStore> {
  if (!config.snapshots) return NO_SNAPSHOTS
  return await openSnapshots({ root: config.snapshotDir, key: settingsKey(config), log, fallbackRoot: fallbackSnapshotRoot() })
}
