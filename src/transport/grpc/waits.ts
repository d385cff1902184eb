// The waiting a connection does, in one place so that closing it ends every wait at once:
// sleeps (between reconnect attempts, before a retry) and requests waiting for a connection.
// A sleep does not keep the process alive; a request waiting for a connection does, until its
// deadline (its caller is owed an answer).

interface Waiter<T> {
  resolve: (value: T) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

export class Waits<T> {
  readonly #waiters = new Set<Waiter<T>>()
  readonly #sleepers = new Set<() => void>()

  /** Resolves after `ms`, or at once when close() is called. */
  async sleep (ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer)
        this.#sleepers.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      timer.unref()
      this.#sleepers.add(wake)
    })
  }

  /** Resolves with the value given to release(); rejects with `timedOut()` at `deadline` (epoch ms). */
  async until (deadline: number, timedOut: () => Error): Promise<T> {
    return await new Promise((resolve, reject) => {
      const waiter: Waiter<T> = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter)
          reject(timedOut())
        }, Math.max(0, deadline - Date.now()))
      }
      this.#waiters.add(waiter)
    })
  }

  /** Resolves every until() waiting now with `value`. */
  release (value: T): void {
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer)
      waiter.resolve(value)
    }
    this.#waiters.clear()
  }

  /** Rejects every until() waiting now with `err` (sleeps go on). */
  reject (err: () => Error): void {
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer)
      waiter.reject(err())
    }
    this.#waiters.clear()
  }

  /** Ends every sleep and rejects every until() with `err`. */
  close (err: () => Error): void {
    for (const wake of [...this.#sleepers]) wake()
    this.reject(err)
  }
}
