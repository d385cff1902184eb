// Load balancing without a server: seeded random numbers make the statistical checks exact
// reruns, so they cannot flake, yet a wrong weighting fails them by a wide margin.
import t from 'tap'
import fc from 'fast-check'
import { baseUrl, createBalancerState, isEligible, pickFromPool, pickInstance, toPool, type Instance, type Strategy } from '../src/naming/balancer.ts'

function instance (ip: string, over: Partial<Instance> = {}): Instance {
  return {
    instanceId: `${ip}#80`, ip, port: 80, weight: 1, healthy: true, enabled: true, ephemeral: true,
    clusterName: 'DEFAULT', serviceName: 'svc', metadata: {}, ...over
  }
}

/** mulberry32: a tiny seeded generator, uniform enough for these checks. */
function seeded (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), a | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

function counts (instances: Instance[], strategy: Strategy, picks: number, seed = 42): Map<string, number> {
  const state = createBalancerState(seeded(seed))
  const pool = toPool(instances)
  const seen = new Map<string, number>()
  for (let i = 0; i < picks; i++) {
    const chosen = pickFromPool(pool, strategy, state, 'svc')
    if (!chosen) throw new Error('nothing picked')
    seen.set(chosen.ip, (seen.get(chosen.ip) ?? 0) + 1)
  }
  return seen
}

/** Pearson's chi-square statistic of observed counts against expected shares. */
function chiSquare (observed: Map<string, number>, expected: Map<string, number>, total: number): number {
  let sum = 0
  for (const [key, share] of expected) {
    const want = share * total
    sum += ((observed.get(key) ?? 0) - want) ** 2 / want
  }
  return sum
}

const excluded = [
  instance('10.0.0.90', { weight: 0 }),
  instance('10.0.0.91', { enabled: false }),
  instance('10.0.0.92', { healthy: false }),
  instance('10.0.0.93', { weight: Number.NaN })
]

t.test('weighted-random follows the weights over 20000 picks (chi-square, 3 degrees of freedom)', async (t) => {
  const weighted = [1, 2, 3, 4].map((w) => instance(`10.0.0.${w}`, { weight: w }))
  const seen = counts([...weighted, ...excluded], 'weighted-random', 20_000)
  const expected = new Map(weighted.map((i) => [i.ip, i.weight / 10]))
  const chi = chiSquare(seen, expected, 20_000)
  t.comment(`weighted picks: ${JSON.stringify(Object.fromEntries(seen))}, chi-square ${chi.toFixed(2)}`)
  // 16.27 is the 0.1% critical value for 3 degrees of freedom.
  t.ok(chi < 16.27, `chi-square ${chi.toFixed(2)} below 16.27`)
  for (const [ip, share] of expected) t.ok(Math.abs((seen.get(ip) ?? 0) / 20_000 - share) < 0.05 * share + 0.005, `${ip} within bounds`)
  t.same([...seen.keys()].filter((ip) => ip.startsWith('10.0.0.9')), [], 'weight 0, disabled, unhealthy and NaN never picked')
})

t.test('a uniform share does not pass for weighted (the check can fail)', async (t) => {
  const weighted = [1, 2, 3, 4].map((w) => instance(`10.0.0.${w}`, { weight: w }))
  const seen = counts(weighted, 'random', 20_000)
  const chi = chiSquare(seen, new Map(weighted.map((i) => [i.ip, i.weight / 10])), 20_000)
  t.ok(chi > 1000, `random ignores weights: chi-square ${chi.toFixed(0)} against weighted shares`)
})

t.test('random spreads evenly and never picks an ineligible instance', async (t) => {
  const even = [1, 2, 3, 4].map((n) => instance(`10.0.0.${n}`, { weight: n }))
  const seen = counts([...even, ...excluded], 'random', 20_000, 7)
  const chi = chiSquare(seen, new Map(even.map((i) => [i.ip, 0.25])), 20_000)
  t.ok(chi < 16.27, `chi-square ${chi.toFixed(2)}`)
  t.equal(seen.size, 4)
})

t.test('round-robin cycles through the eligible instances, one cursor per service key', async (t) => {
  const list = [instance('10.0.0.1'), excluded[0] as Instance, instance('10.0.0.2'), instance('10.0.0.3', { weight: 5 })]
  const state = createBalancerState()
  const order = Array.from({ length: 7 }, () => pickInstance(list, 'round-robin', state, 'a')?.ip)
  t.same(order, ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.1'])
  t.equal(pickInstance(list, 'round-robin', state, 'b')?.ip, '10.0.0.1', 'another service starts at its own cursor')
  t.equal(pickInstance(list.slice(0, 2), 'round-robin', state, 'a')?.ip, '10.0.0.1', 'a shrunk list wraps the cursor')
})

t.test('nothing eligible gives undefined; one eligible is always it', async (t) => {
  const state = createBalancerState()
  for (const strategy of ['random', 'weighted-random', 'round-robin'] as const) {
    t.equal(pickInstance(excluded, strategy, state), undefined, strategy)
    t.equal(pickInstance([...excluded, instance('10.0.0.5')], strategy, state)?.ip, '10.0.0.5', strategy)
  }
  t.throws(() => pickInstance([instance('a'), instance('b')], 'fastest' as Strategy, state), { code: 'FST_NACOS_BAD_SETTING', message: /invalid strategy="fastest": expected one of/ })
})

t.test('any pick is eligible, whatever the list (property)', async (t) => {
  const arb = fc.array(fc.record({
    weight: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 100, noNaN: true })),
    healthy: fc.boolean(),
    enabled: fc.boolean()
  }), { maxLength: 12 })
  fc.assert(fc.property(arb, fc.constantFrom<Strategy>('random', 'weighted-random', 'round-robin'), (specs, strategy) => {
    const list = specs.map((s, i) => instance(`10.1.0.${i}`, s))
    const chosen = pickInstance(list, strategy, createBalancerState())
    return chosen === undefined ? !list.some(isEligible) : isEligible(chosen)
  }))
  t.pass('held for every generated list')
})

t.test('baseUrl: http by default, https when metadata says secure, an explicit protocol wins, IPv6 bracketed', async (t) => {
  t.equal(baseUrl(instance('10.0.0.1')), 'http://10.0.0.1:80')
  t.equal(baseUrl(instance('10.0.0.1', { metadata: { secure: 'true' } })), 'https://10.0.0.1:80')
  t.equal(baseUrl(instance('10.0.0.1', { metadata: { secure: 'true' } }), { protocol: 'http' }), 'http://10.0.0.1:80')
  t.equal(baseUrl(instance('::1', { port: 8080 }), { protocol: 'https' }), 'https://[::1]:8080')
})
