import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os'

/** The shape of `os.networkInterfaces()`, so tests can pass fabricated tables. */
export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>

/** Which family detection looks for first, as Spring Cloud Alibaba's `ip-type`. */
export const IP_TYPES = ['IPv4', 'IPv6'] as const
export type IpType = (typeof IP_TYPES)[number]

export interface IpPreferences {
  /** The family to advertise (default IPv4); the other one is taken when the machine has none of it. */
  ipType?: IpType
  /** Interface names to prefer, in order; a trailing `*` matches a prefix (`eth*`). */
  preferredInterfaces?: readonly string[]
  /** Networks to prefer, in order: CIDR (`10.0.0.0/8`) or a plain prefix (`192.168.`). */
  preferredNetworks?: readonly string[]
}

const LOOPBACK: Record<IpType, string> = { IPv4: '127.0.0.1', IPv6: '::1' }

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
  if (!isIPv4(address) || !isIPv4(base) || !Number.isInteger(bits) || bits < 0 || bits > 32) return false
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0
  return ((toInt(address) & mask) >>> 0) === ((toInt(base) & mask) >>> 0)
}

function nameMatches (name: string, pattern: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern
}

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback: addresses no other host can reach. */
export function isLoopback (address: string): boolean {
  const v4 = address.toLowerCase().replace(/^::ffff:/, '')
  return address === '::1' || (isIPv4(v4) && v4.startsWith('127.'))
}

function isLinkLocal (address: string): boolean {
  return /^fe[89ab]/i.test(address) || (isIPv4(address) && inNetwork(address, '169.254.0.0/16'))
}

/** Non-internal addresses of one family, link-local (169.254/16, fe80::/10) last since they rarely route. */
function candidates (table: InterfaceTable, family: IpType): Candidate[] {
  const found: Candidate[] = []
  for (const [iface, infos] of Object.entries(table)) {
    for (const info of infos ?? []) {
      if (info.family !== family || info.internal) continue
      found.push({ iface, address: info.address })
    }
  }
  const linkLocal = (c: Candidate): number => (isLinkLocal(c.address) ? 1 : 0)
  return found.sort((a, b) => linkLocal(a) - linkLocal(b))
}

/**
 * Chooses the address to advertise, of the preferred family (IPv4 unless `ipType` says IPv6, and
 * IPv4 when the machine has no IPv6 address): the first non-internal address of a
 * preferred interface, else of a preferred network, else the first usable one. Loopback is the
 * answer only when the machine has nothing else.
 */
export function detectIp (preferences: IpPreferences = {}, table: InterfaceTable = networkInterfaces()): string {
  const family = preferences.ipType ?? 'IPv4'
  const preferred = candidates(table, family)
  // As Spring Cloud Alibaba: IPv6 asked for and none configured → IPv4; IPv4 never turns into IPv6 unasked.
  const all = preferred.length > 0 || family === 'IPv4' ? preferred : candidates(table, 'IPv4')
  for (const pattern of preferences.preferredInterfaces ?? []) {
    const hit = all.find((c) => nameMatches(c.iface, pattern))
    if (hit) return hit.address
  }
  for (const network of preferences.preferredNetworks ?? []) {
    const hit = all.find((c) => inNetwork(c.address, network))
    if (hit) return hit.address
  }
  return all[0]?.address ?? LOOPBACK[family]
}
