// Nacos addresses as users write them (the Java client's and Spring's forms), parsed without a
// server; that each form reaches a real Nacos over both transports is in test/server-addr.test.ts.
import t from 'tap'
import { authority, baseUrl, parseServer, parseServerList } from '../../src/server-addr.ts'

const plain = (host: string, port: number, contextPath = '/nacos') => ({ host, port, tls: false, contextPath })

t.test('every form users write: scheme, trailing slash, context path, bare host, IPv6 in brackets', async (t) => {
  t.same(parseServer('127.0.0.1:8848'), plain('127.0.0.1', 8848))
  t.same(parseServer('http://127.0.0.1:8849'), plain('127.0.0.1', 8849))
  t.same(parseServer('http://nacos.local:8849/'), plain('nacos.local', 8849), 'a trailing slash is the default context path')
  t.same(parseServer('http://h:8848/nacos/'), plain('h', 8848))
  t.same(parseServer('http://h:8848/config/nacos'), plain('h', 8848, '/config/nacos'))
  t.same(parseServer('https://h:9443/nacos'), { host: 'h', port: 9443, tls: true, contextPath: '/nacos' })
  t.same(parseServer('HTTPS://h'), { host: 'h', port: 8848, tls: true, contextPath: '/nacos' })
  t.same(parseServer('nacos'), plain('nacos', 8848), 'a bare host takes port 8848')
  t.same(parseServer('[::1]:8850'), plain('::1', 8850))
  t.same(parseServer('http://[fe80::1]'), plain('fe80::1', 8848))
  t.same(parseServer('  h:1  '), plain('h', 1))
})

t.test('what is wrong with an address is said', async (t) => {
  t.throws(() => parseServer('h:99999'), /port 99999 is not between 1 and 65535/)
  t.throws(() => parseServer('h:0'), /port 0 is not between 1 and 65535/)
  t.throws(() => parseServer('[::g]:1'), /\[::g\] is not an IPv6 address/)
  t.throws(() => parseServer('::1'), /"::1" is not an address/, 'IPv6 needs its brackets to tell it from a port')
  t.throws(() => parseServer('ftp://h'), /is not an address/)
  t.throws(() => parseServer('h:8848?x=1'), /is not an address/)
  t.throws(() => parseServerList(' , '), /no address given/)
})

t.test('one cluster, one scheme and context path', async (t) => {
  t.same(parseServerList('a:1, b, [::1]:3'), [plain('a', 1), plain('b', 8848), plain('::1', 3)])
  t.throws(() => parseServerList('https://a:1,http://b:2'), /http:\/\/b:2\/nacos differs from https:\/\/a:1\/nacos in scheme or context path/)
  t.throws(() => parseServerList('a:1/x,b:2'), /differs/)
})

t.test('authority and base URL put IPv6 hosts in brackets', async (t) => {
  t.equal(authority(parseServer('[::1]:8848')), '[::1]:8848')
  t.equal(authority(parseServer('h')), 'h:8848')
  t.equal(baseUrl(parseServer('https://[::1]:9/ctx/')), 'https://[::1]:9/ctx')
  t.equal(baseUrl(parseServer('h')), 'http://h:8848/nacos')
})
