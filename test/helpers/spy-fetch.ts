// A spy on globalThis.fetch (the HTTP transport's client) for the tests of auth tokens: every
// call to one Nacos port, with the token it carried and how it ended.
export interface Call { url: string, method: string, token: string | undefined, status: number | 'pending' | 'error', at: number }

/** Every HTTP call the plugin makes to `port`, with the token it carried and how it ended. */
export function spyFetch (t: { teardown: (fn: () => void) => void }, port: number): Call[] {
  const calls: Call[] = []
  const real = globalThis.fetch
  globalThis.fetch = async (input, init) => {
    const url = String(input)
    if (!url.includes(`:${port}/`)) return await real(input, init)
    const token = (init?.headers as Record<string, string> | undefined)?.accessToken
    const call: Call = { url, method: init?.method ?? 'GET', token, status: 'pending', at: Date.now() }
    calls.push(call)
    try {
      const res = await real(input, init)
      call.status = res.status
      return res
    } catch (err) {
      call.status = 'error'
      throw err
    }
  }
  t.teardown(() => { globalThis.fetch = real })
  return calls
}
