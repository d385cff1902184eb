import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os'

/** The shape of `os.networkInterfaces()`, so tests can pass fabricated tables. */
export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>

export interface IpPreferences {
  /** Interface names to prefer, in order; a trailing `*` matches a prefix (`eth*`). */
  preferredInterfaces?: readonly string[]
  /** Networks to prefer, in order: CIDR (`10.0.0.0/8`) or a plain prefix (`192.168.`). */
  preferredNetworks?: readonly string[]
}

const LOOPBACK = '127.0.0.1'

interface Candidate {
  iface: string
  address: string
}

function toInt (address: string): number {
  return address.split('.').reduce((acc, part) => (acc << 8) + Number(part), 0) >>> 0
}

export function isIPv4 (value: string): boolean {
  const parts = value.split('.')
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)
}

/** Whether `address` lies in `network`, given as CIDR (`10.1.0.0/16`) or a textual prefix (`10.1.`). */
export function inNetwork (address: string, network: string): boolean {
  const slash = network.indexOf('/')
  if (slash === -1) return address.startsWith(network)
  const base = network.slice(0, slash)
  const bits = Number(network.slice(slash + 1))
  if (!isIPv4(base) || !Number.isInteger(bits) || bits < 0 || bits > 32) return false
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0
  return ((toInt(address) & mask) >>> 0) === ((toInt(base) & mask) >>> 0)
}

function nameMatches (name: string, pattern: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern
}

/** Non-internal IPv4 addresses, link-local (169.254/16) last since they rarely route. */
function candidates (table: InterfaceTable): Candidate[] {
  const found: Candidate[] = []
  for (const [iface, infos] of Object.entries(table)) {
    for (const info of infos ?? []) {
      if (info.family !== 'IPv4' || info.internal) continue
      found.push({ iface, address: info.address })
    }
  }
  const linkLocal = (c: Candidate): number => (inNetwork(c.address, '169.254.0.0/16') ? 1 : 0)
  return found.sort((a, b) => linkLocal(a) - linkLocal(b))
}

/**
 * Chooses the IPv4 address to advertise: the first non-internal address of a preferred
 * interface, else of a preferred network, else the first usable one. Loopback is the answer
 * only when the machine has nothing else.
 */
export function detectIp (preferences: IpPreferences = {}, table: InterfaceTable = networkInterfaces()): string {
  const all = candidates(table)
  for (const pattern of preferences.preferredInterfaces ?? []) {
    const hit = all.find((c) => nameMatches(c.iface, pattern))
    if (hit) return hit.address
  }
  for (const network of preferences.preferredNetworks ?? []) {
    const hit = all.find((c) => inNetwork(c.address, network))
    if (hit) return hit.address
  }
  return all[0]?.address ?? LOOPBACK
}
