// The README's first lines are the two commands a new user runs; the demo and test scripts they
// name must exist.
import t from 'tap'
import { readFileSync } from 'node:fs'

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }

for (const file of ['README.md', 'README.zh-CN.md']) {
  t.test(`${file} starts with the demo command and the test command`, async (t) => {
    const [first, second] = readFileSync(file, 'utf8').split('\n').map((l) => l.trim())
    t.equal(first, 'npm ci && npm run demo')
    t.equal(second, 'npm ci && npm test')
  })
}

t.test('the scripts the commands name exist', async (t) => {
  t.type(pkg.scripts.demo, 'string')
  t.type(pkg.scripts.test, 'string')
})
