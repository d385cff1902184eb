// Nacos going away and coming back, against a private Nacos on a free port: the scenarios in
// test/outage/ run at the same time through one stop and one start of that server
// (test/helpers/outage.ts); each waits for the others before Nacos is stopped and before it is
// started again. OUTAGE_SCENARIOS (comma-separated: discovery, recovery, metrics, snapshot) runs
// some of them only: the compatibility and Nacos 3 runs take those their servers are meant for.
import t, { type Test } from 'tap'
import Fastify from 'fastify'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import nacos from '../../src/index.ts'
import { uniqueService } from '../helpers/nacos-api.ts'
import { startNacos, stopNacos } from '../helpers/private-nacos.ts'
import { freeNacosPort } from '../helpers/ports.ts'
import { closedPort } from '../helpers/instances.ts'
import { SharedOutage, type OutageParty } from '../helpers/outage.ts'
import { TRANSPORTS } from '../helpers/transports.ts'
import * as discovery from '../outage/discovery.ts'
import * as recovery from '../outage/recovery.ts'
import * as metrics from '../outage/metrics.ts'
import * as snapshot from '../outage/snapshot.ts'

interface Scenario { title: string, scenario: (t: Test, party: OutageParty) => Promise<void> }
const ALL: Record<string, Scenario> = { discovery, recovery, metrics, snapshot }
const chosen = process.env.OUTAGE_SCENARIOS?.split(',').map((s) => s.trim()).filter(Boolean) ?? Object.keys(ALL)
const unknown = chosen.filter((s) => !(s in ALL))
if (unknown.length > 0) throw new Error(`OUTAGE_SCENARIOS: no scenario ${unknown.join(', ')} (there are ${Object.keys(ALL).join(', ')})`)

// Several scenarios through a JVM stop and start on a busy 2-core machine: more than .taprc's 240 s
// would be a hang, not a slow run, but the start alone can take a minute there.
t.setTimeout(400_000)

for (const transport of TRANSPORTS) {
  t.test(`${transport}: Nacos unreachable at start and no snapshot: start-up fails with FST_NACOS_NO_SNAPSHOT`, async (t) => {
    const empty = mkdtempSync(join(tmpdir(), 'outage-empty-'))
    t.teardown(() => { rmSync(empty, { recursive: true, force: true }) })
    const a = Fastify()
    t.teardown(() => a.close())
    await a.register(nacos, { ip: '127.0.0.1', dotenv: false, handleSignals: false, logLevel: 'silent', requestTimeout: 2000, serverAddr: `127.0.0.1:${await closedPort()}`, snapshotDir: empty, transport, serviceName: uniqueService('none'), configs: [{ dataId: 'never-read.json' }] }).ready()
      .then(() => t.fail('started'), (err: { code?: string, message: string }) => {
        t.equal(err.code, 'FST_NACOS_NO_SNAPSHOT')
        t.match(err.message, /config never-read\.json \(group DEFAULT_GROUP\) could not be read from Nacos .* and no snapshot of it exists/)
      })
  })
}

t.test(`one outage of a private Nacos: ${chosen.join(', ')}`, { jobs: chosen.length }, async (t) => {
  const port = await freeNacosPort()
  await startNacos(port)
  t.teardown(async () => { await stopNacos(port) })
  const outage = new SharedOutage(port, chosen.length)
  // Every scenario joins before any runs: none can be stopped under before all are ready.
  for (const [key, party] of chosen.map((key) => [key, outage.join()] as const)) {
    const { title, scenario } = ALL[key] as Scenario
    void t.test(title, async (t) => {
      try {
        await scenario(t, party)
      } finally {
        party.leave()
      }
    })
  }
})
