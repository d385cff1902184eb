// A config read that meets a write of the same config on the server is refused with "requested
// file is being modified, please try later" (gRPC error 400, HTTP 409). Both transports read it
// again shortly, on one schedule: this many reads in all, 50, 100, 150… ms apart.
import { setTimeout as sleep } from 'node:timers/promises'
import { ClosedError } from '../errors.js'

export const CONFLICT_READS = 5

/** The pause before read `attempt + 1`; `closing` (aborted by close()) ends it with ClosedError. */
export async function pauseBeforeReread (attempt: number, closing: AbortSignal): Promise<void> {
  await sleep(50 * attempt, undefined, { signal: closing }).catch(() => { throw new ClosedError('config client') })
}
