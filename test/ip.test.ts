import t from 'tap'
import type { NetworkInterfaceInfo } from 'node:os'
import { detectIp, inNetwork, isIPv4, isLoopback, type InterfaceTable } from '../src/ip.ts'

function v4 (address: string, internal = false): NetworkInterfaceInfo {
  return { address, family: 'IPv4', internal, netmask: '255.255.255.0', mac: '00:00:00:00:00:00', cidr: `${address}/24` }
}
function v6 (address: string): NetworkInterfaceInfo {
  return { address, family: 'IPv6', internal: false, netmask: 'ffff:ffff:ffff:ffff::', mac: '00:00:00:00:00:00', cidr: `${address}/64`, scopeid: 0 }
}

const table: InterfaceTable = {
  lo: [v4('127.0.0.1', true)],
  docker0: [v4('172.17.0.1'), v6('fe80::1')],
  eth0: [v6('fe80::2'), v4('10.20.30.40')],
  wlan0: [v4('192.168.1.7')]
}

t.test('picks the first non-internal IPv4 when nothing is preferred', async (t) => {
  t.equal(detectIp({}, table), '172.17.0.1')
})

t.test('a preferred interface wins over order', async (t) => {
  t.equal(detectIp({ preferredInterfaces: ['eth0'] }, table), '10.20.30.40')
  t.equal(detectIp({ preferredInterfaces: ['wl*'] }, table), '192.168.1.7')
  t.equal(detectIp({ preferredInterfaces: ['missing', 'wlan0'] }, table), '192.168.1.7', 'falls through to the next preference')
})

t.test('a preferred network (CIDR or prefix) wins over order', async (t) => {
  t.equal(detectIp({ preferredNetworks: ['10.0.0.0/8'] }, table), '10.20.30.40')
  t.equal(detectIp({ preferredNetworks: ['192.168.'] }, table), '192.168.1.7')
  t.equal(detectIp({ preferredNetworks: ['11.0.0.0/8'] }, table), '172.17.0.1', 'no match: first usable')
})

t.test('interfaces are tried before networks', async (t) => {
  t.equal(detectIp({ preferredInterfaces: ['wlan0'], preferredNetworks: ['10.0.0.0/8'] }, table), '192.168.1.7')
})

t.test('never loopback unless nothing else exists', async (t) => {
  t.equal(detectIp({}, { lo: [v4('127.0.0.1', true)] }), '127.0.0.1')
  t.equal(detectIp({}, {}), '127.0.0.1')
  t.equal(detectIp({}, { lo: [v4('127.0.0.1', true)], eth1: [v6('2001:db8::1')] }), '127.0.0.1', 'IPv6-only is not usable')
  t.equal(detectIp({}, { lo: undefined, eth0: [v4('10.0.0.5')] }), '10.0.0.5')
})

t.test('link-local addresses come after routable ones', async (t) => {
  t.equal(detectIp({}, { a: [v4('169.254.3.3')], b: [v4('10.1.1.1')] }), '10.1.1.1')
  t.equal(detectIp({}, { a: [v4('169.254.3.3')] }), '169.254.3.3')
})

t.test('inNetwork understands CIDR edges and rejects malformed ones', async (t) => {
  t.ok(inNetwork('10.255.255.255', '10.0.0.0/8'))
  t.notOk(inNetwork('11.0.0.0', '10.0.0.0/8'))
  t.ok(inNetwork('1.2.3.4', '0.0.0.0/0'))
  t.ok(inNetwork('1.2.3.4', '1.2.3.4/32'))
  t.notOk(inNetwork('1.2.3.5', '1.2.3.4/32'))
  t.notOk(inNetwork('1.2.3.4', '1.2.3.4/33'))
  t.notOk(inNetwork('1.2.3.4', 'x.2.3.4/8'))
})

t.test('isIPv4', async (t) => {
  t.ok(isIPv4('192.168.0.1'))
  t.notOk(isIPv4('256.1.1.1'))
  t.notOk(isIPv4('1.2.3'))
  t.notOk(isIPv4('a.b.c.d'))
})

t.test('ipType IPv6 (Spring Cloud Alibaba\'s ip-type): global IPv6 first, link-local last, IPv4 when there is no IPv6', async (t) => {
  t.equal(detectIp({ ipType: 'IPv6' }, table), 'fe80::1', 'only link-local IPv6 here: the first one')
  t.equal(detectIp({ ipType: 'IPv6' }, { ...table, eth1: [v6('2001:db8::7')] }), '2001:db8::7', 'a routable one wins over link-local')
  t.equal(detectIp({ ipType: 'IPv6', preferredInterfaces: ['eth0'] }, table), 'fe80::2')
  t.equal(detectIp({ ipType: 'IPv6', preferredNetworks: ['2001:db8:'] }, { a: [v6('2001:db9::1'), v6('2001:db8::2')] }), '2001:db8::2')
  t.equal(detectIp({ ipType: 'IPv6' }, { eth0: [v4('10.0.0.5')] }), '10.0.0.5', 'no IPv6: IPv4')
  t.equal(detectIp({ ipType: 'IPv6' }, {}), '::1')
  t.equal(detectIp({ ipType: 'IPv4' }, table), '172.17.0.1')
  t.notOk(inNetwork('2001:db8::1', '0.0.0.0/0'), 'an IPv4 CIDR holds no IPv6 address')
})

t.test('isLoopback', async (t) => {
  for (const ip of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) t.ok(isLoopback(ip), ip)
  for (const ip of ['10.0.0.1', '::', '0.0.0.0', 'fe80::1', '128.0.0.1']) t.notOk(isLoopback(ip), ip)
})
