// The metrics tables in README.md and README.zh-CN.md against what the code registers: every
// metric with its type and labels, none more, none less (a renamed metric or label fails here).
import t from 'tap'
import { readFileSync } from 'node:fs'
import * as PromClient from 'prom-client'
import { createMetrics } from '../src/observe/metrics.ts'

interface Row { type: string, labels: string[] }

/** The table rows of `text` whose first cell is a metric name: its type and its labels. */
function metricsTable (text: string): Map<string, Row> {
  const rows = new Map<string, Row>()
  let previous: string[] = []
  for (const line of text.split('\n')) {
    const cells = /^\| `(nacos_[a-z_]+)` \|(.*)$/.exec(line)
    if (cells === null) continue
    const [type = '', labelCell = ''] = (cells[2] ?? '').split('|').map((c) => c.trim())
    // "same" (同上) repeats the row above; a parenthesis lists a label's values, not labels.
    const labels = /^(same|同上)$/.test(labelCell) ? previous : [...labelCell.replace(/[(（][^)）]*[)）]/g, '').matchAll(/`([a-z_]+)`/g)].map((m) => m[1] as string)
    previous = labels
    rows.set(cells[1] as string, { type: (type.split(/[,，]/)[0] ?? '').trim(), labels })
  }
  return rows
}

const registry = new PromClient.Registry()
const metrics = createMetrics(PromClient, registry, { state: () => 'idle', services: () => [], connected: () => undefined })
t.teardown(metrics.close)
const registered = new Map(registry.getMetricsAsArray().map((m) => {
  const { name, type, labelNames } = m as unknown as { name: string, type: string, labelNames: string[] }
  return [name, { type, labels: [...labelNames] }]
}))

for (const file of ['README.md', 'README.zh-CN.md']) {
  t.test(`${file}: the metrics table lists what the code registers, with its type and labels`, async (t) => {
    const documented = metricsTable(readFileSync(new URL(`../${file}`, import.meta.url), 'utf8'))
    t.same([...documented.keys()].sort(), [...registered.keys()].sort(), 'the same metrics')
    for (const [name, row] of registered) t.same(documented.get(name), row, name)
  })
}
