// Which IP is advertised, given where the server listens (no server): the advertised address must
// be one callers can reach, and when it cannot be, a warning says what to do, once.
import t from 'tap'
import { advertisedIp } from '../../src/naming/instance.ts'
import type { IpType } from '../../src/ip.ts'

const settings = { ip: undefined, ipType: 'IPv4' as IpType, preferredInterfaces: [], preferredNetworks: [] }

function choose (listening: string[], over: { ip?: string, ipType?: IpType } = {}) {
  const warnings: string[] = []
  const ip = advertisedIp({ ...settings, ...over }, listening, (_obj, msg) => { warnings.push(msg) })
  return { ip, warnings }
}

t.test('bound to one address: that address is advertised', async (t) => {
  t.same(choose(['10.0.0.12']), { ip: '10.0.0.12', warnings: [] })
  t.same(choose(['fd00::12']), { ip: 'fd00::12', warnings: [] })
  t.same(choose(['127.0.0.1', '10.0.0.12']), { ip: '10.0.0.12', warnings: [] }, 'not loopback when it can')
  t.same(choose(['10.0.0.12', 'fd00::12'], { ipType: 'IPv6' }), { ip: 'fd00::12', warnings: [] }, 'of the preferred family')
})

t.test('bound to loopback only (app.listen({ port: 0 })): loopback, with one warning that says what to do', async (t) => {
  const { ip, warnings } = choose(['127.0.0.1'])
  t.equal(ip, '127.0.0.1')
  t.equal(warnings.length, 1)
  t.match(warnings[0], /advertising 127\.0\.0\.1: the server listens only on 127\.0\.0\.1, which other hosts cannot reach; listen on all interfaces \(app\.listen\(\{ port, host: '0\.0\.0\.0' \}\) or '::'\)/)
  t.equal(choose(['127.0.0.1', '::1'], { ipType: 'IPv6' }).ip, '::1')
})

t.test('bound to every interface: detection, no warning', async (t) => {
  for (const wildcard of ['0.0.0.0', '::']) {
    const { ip, warnings } = choose([wildcard])
    t.notOk(ip === '0.0.0.0' || ip === '::', `${wildcard}: a detected address, not the wildcard (${ip})`)
    t.same(warnings, [])
  }
  t.same(choose([]).warnings, [], 'unknown (a unix socket): detection')
})

t.test('an IP the user set wins; one the server does not listen on is warned about', async (t) => {
  t.same(choose(['0.0.0.0'], { ip: '10.9.9.9' }), { ip: '10.9.9.9', warnings: [] })
  t.same(choose(['127.0.0.1'], { ip: '127.0.0.1' }), { ip: '127.0.0.1', warnings: [] }, 'loopback set on purpose: as asked')
  t.same(choose(['fd00::12'], { ip: 'fd00::12' }), { ip: 'fd00::12', warnings: [] })
  const { ip, warnings } = choose(['127.0.0.1'], { ip: '10.9.9.9' })
  t.equal(ip, '10.9.9.9')
  t.same(warnings, ["NACOS_SERVICE_IP is 10.9.9.9 but the server listens only on 127.0.0.1: callers of 10.9.9.9 are refused; listen on all interfaces (app.listen({ port, host: '0.0.0.0' }) or '::'), or set NACOS_SERVICE_IP to an address it listens on"])
})
