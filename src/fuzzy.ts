// Fuzzy watch (Nacos 3) as app.nacos.fuzzyWatch and app.nacos.config.fuzzyWatch offer it: the
// pattern checked against Nacos's syntax before anything is sent, the transport's answer made a
// handle, and the server's refusals made FST_NACOS_* errors that say what to change.
import type { FuzzyChange, FuzzyWatch } from './transport/types.js'
import { DEFAULT_GROUP } from './naming/names.js'
import { FuzzyPatternError, FuzzyWatchLimitError, FuzzyWatchUnsupportedError } from './errors.js'

/** What `fuzzyWatch` resolves with once Nacos accepted the pattern. */
export interface FuzzyWatchHandle {
  /** Stops the listener; the pattern is released on the server once no listener of it is left. */
  cancel: () => Promise<void>
}

export type FuzzyChangeType = FuzzyChange['change']

// Nacos 3's ErrorCode: the server's pattern count limit, and one pattern's match count limit.
const LIMITS: Record<number, string> = {
  50310: 'the server watches as many patterns as it allows (nacos.naming.fuzzy.watch.max.pattern.count / nacos.config.fuzzy.watch.max.pattern.count, default 20); cancel one or raise the limit',
  50311: 'more services or configs match than the server allows one pattern (nacos.naming.fuzzy.watch.max.pattern.match.service.count / nacos.config.fuzzy.watch.max.pattern.match.config.count, default 500); narrow the pattern'
}

function checkPart (label: string, part: string, shown: string): void {
  if (part.trim() === '') throw new FuzzyPatternError(shown, `${label} is empty`)
  if (part.includes('>>') || part.includes('@@')) throw new FuzzyPatternError(shown, `${label} contains '>>' or '@@', which Nacos uses as separators`)
  const inner = part.replace(/^\*/, '').replace(/\*$/, '')
  if (inner.includes('*')) throw new FuzzyPatternError(shown, `${label} has '*' inside; Nacos matches only exact, '*', 'prefix*', '*suffix' or '*infix*'`)
}

function limitCode (err: unknown): number | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { errorCode?: unknown }).errorCode
    if (typeof code === 'number' && code in LIMITS) return code
  }
  return undefined
}

/** Starts one fuzzy watch: `name` and `group` (default DEFAULT_GROUP) in Nacos's pattern syntax; `tell` gets each change. */
export async function startFuzzyWatch (watch: FuzzyWatch | undefined, what: string, groupPattern: string | undefined, name: string, tell: (change: FuzzyChange) => void): Promise<FuzzyWatchHandle> {
  const group = groupPattern ?? DEFAULT_GROUP
  const shown = `${what} ${JSON.stringify(name)} in group ${JSON.stringify(group)}`
  checkPart('the name', name, shown)
  checkPart('the group', group, shown)
  if (watch === undefined) throw new FuzzyWatchUnsupportedError('this app uses NACOS_TRANSPORT=http, which has no fuzzy watch')
  let cancel: () => Promise<void>
  try {
    cancel = await watch({ group, name }, tell)
  } catch (err) {
    const code = limitCode(err)
    if (code !== undefined) throw new FuzzyWatchLimitError(shown, LIMITS[code] as string, { cause: err })
    throw err
  }
  let done: Promise<void> | undefined
  return { cancel: async () => { done ??= cancel(); await done } }
}
