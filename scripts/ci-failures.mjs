// `node scripts/ci-failures.mjs LOG...`: the failed assertions of tap runs, for the end of a CI log.
// CI shows only the tail of its output; this puts each failure there with its diagnostics (found,
// wanted, at, the stack) and the comments its test printed just before it.
import { readFileSync } from 'node:fs'

const MAX_BLOCK = 40
const MAX_TOTAL = 400
let printed = 0

for (const file of process.argv.slice(2)) {
  const lines = readFileSync(file, 'utf8').split('\n')
  for (let i = 0; i < lines.length && printed < MAX_TOTAL; i++) {
    const line = lines[i]
    if (!/^\s*not ok \d+ /.test(line)) continue
    const indent = line.length - line.trimStart().length
    // A parent subtest fails because a child did; only the leaves carry the diagnostics.
    if (isParent(lines, i, indent)) continue
    const block = [`--- ${file}:${i + 1}`]
    for (let j = Math.max(0, i - 6); j < i; j++) if (/^\s*# (?!Subtest)/.test(lines[j])) block.push(lines[j])
    block.push(line)
    if (/^\s*---\s*$/.test(lines[i + 1] ?? '')) {
      for (let j = i + 1; j < lines.length && block.length < MAX_BLOCK; j++) {
        block.push(lines[j])
        if (/^\s*\.\.\.\s*$/.test(lines[j])) break
      }
    }
    console.log(block.join('\n'))
    printed += block.length
  }
}
if (printed === 0) console.log('(no failed assertion in the tap output)')

/** A failed subtest whose body (the lines just above, more indented) holds a failure of its own. */
function isParent (lines, at, indent) {
  for (let j = at - 1; j >= 0; j--) {
    const l = lines[j]
    if (l.trim() === '') continue
    const ind = l.length - l.trimStart().length
    if (ind <= indent) return false
    if (/^\s*not ok \d+ /.test(l)) return true
  }
  return false
}
