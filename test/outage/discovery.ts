// Discovery while Nacos is down and after it is back, over each transport: both transports follow
// the same server through the same outage, at the same time.
import type { Test } from 'tap'
import { listInstances, uniqueService, waitFor } from '../helpers/nacos-api.ts'
import { openPorts, register } from '../helpers/instances.ts'
import type { OutageParty } from '../helpers/outage.ts'
import { discoverySetup, ports, seen } from '../helpers/discovery.ts'
import { TRANSPORTS } from '../helpers/transports.ts'

export const title = 'Nacos down: picks answer from the cache, one warning; Nacos back: one info, changes followed again'

export async function scenario (t: Test, { addr, down, up }: OutageParty): Promise<void> {
  const open = await openPorts(2)
  t.teardown(open.close)
  const [a, b] = open.ports as [number, number]
  const service = uniqueService('disc-outage')
  await register(service, { port: a }, addr)
  // A freshly started Nacos acknowledges a persistent instance before its list shows it.
  await waitFor(async () => (await listInstances(service, { addr })).length === 1)
  const each = await Promise.all(TRANSPORTS.map(async (name) => ({ name, ...await discoverySetup(t, name, { addr, refreshInterval: 300 }) })))
  // A server just started beside the other scenarios' apps can take longer than a request's 2 s to
  // take a gRPC connection (seen on 3.0.3): a read straight through each transport, outside
  // discovery (whose first failed read would be its warning), waits until it answers.
  await Promise.all(each.map(async ({ transport }) => await waitFor(async () => await transport.naming.query({ service, group: 'DEFAULT_GROUP', clusters: [] }).then(() => true, () => false), 30_000)))
  for (const { name, discovery } of each) t.same(ports(await discovery.instances(service)), [a], `${name}: read`)

  await down()
  await Promise.all(each.map(async ({ lines, reads }) => {
    await waitFor(() => lines.some((l) => l.level === 'warn'), 10_000)
    const failedBefore = reads.failed
    await waitFor(() => reads.failed >= failedBefore + 3, 10_000)
  }))
  for (const { name, discovery, lines } of each) {
    t.equal((await discovery.pick(service)).port, a, `${name}: pick() answers from the cache`)
    t.equal(discovery.pickCached(service)?.port, a)
    // Discovery's own warning (the gRPC transport also says, once, that its connection was lost).
    const warnings = lines.filter((l) => l.level === 'warn' && /unreachable/.test(l.msg))
    t.equal(warnings.length, 1, `${name}: warned once over several failed refreshes`)
    t.match(warnings[0], { msg: /Nacos unreachable: serving the last known instances/, obj: { service } })
    const cold = await discovery.pick(uniqueService('never-seen')).catch((e: unknown) => e)
    t.match(cold, { code: 'FST_NACOS_NO_INSTANCE', cause: Error }, `${name}: a service never read has nothing to serve`)
  }

  const start = await up()
  const both = [a, b].sort((x, y) => x - y).join()
  const caught = each.map(({ discovery }) => seen(discovery, service, (list) => ports(list).join() === both, 20_000))
  await register(service, { port: b }, addr)
  const at = await Promise.all(caught)
  each.forEach(({ name }, i) => { t.comment(`${name}: after the restart, a new instance reached the cache in ${(at[i] as number) - start} ms (persistent ones survive the restart)`) })
  // A push can bring the change before the next re-read succeeds, and the re-read is what says
  // Nacos is back: wait for it, then for a few more re-reads (300 ms apart).
  const back = (lines: Array<{ level: string, msg: string }>): Array<{ level: string, msg: string }> => lines.filter((l) => l.level === 'info' && /reachable again/.test(l.msg))
  await Promise.all(each.map(async ({ lines, reads }) => {
    await waitFor(() => back(lines).length >= 1, 10_000)
    const okBefore = reads.ok
    await waitFor(() => reads.ok >= okBefore + 3, 10_000)
  }))
  for (const { name, lines } of each) {
    t.equal(back(lines).length, 1, `${name}: told once that Nacos is back`)
    t.equal(lines.filter((l) => l.level === 'warn' && /unreachable/.test(l.msg)).length, 1, `${name}: and not warned again since`)
  }
}
