/** A delay drawn from [50%, 100%] of `ceiling`: clients that failed together do not retry together. */
export function jittered (ceiling: number, random: () => number = Math.random): number {
  return Math.round(ceiling / 2 + random() * (ceiling / 2))
}

/** Exponential backoff with jitter: attempt 0 waits ~base, doubling up to `max`, each delay drawn from [50%, 100%]. */
export function backoffDelay (attempt: number, base = 500, max = 10_000, random: () => number = Math.random): number {
  return jittered(Math.min(max, base * 2 ** Math.max(0, attempt)), random)
}
