// Ports for tests that start whole processes: free ones from the OS, and whether anything still listens.
import { createServer, connect } from 'node:net'
import { once } from 'node:events'

/** A port nothing listens on right now (the OS picks it; the probe socket is closed again). */
export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

/** true when a TCP connection to 127.0.0.1:port is refused (nothing listens). */
export async function refused (port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1')
  try {
    await once(socket, 'connect')
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ECONNREFUSED'
  } finally {
    socket.destroy()
  }
}

/** true when no process has this pid (or, negative, no process is in this process group). */
export function gone (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

/** The ports a standalone Nacos on `port` takes: HTTP, gRPC (+1000, +1001) and Raft (-1000). */
const nacosPorts = (port: number): number[] => [port, port + 1000, port + 1001, port - 1000]

/**
 * An HTTP port for a private Nacos: nothing listens on it, on its gRPC ports (+1000, +1001) nor on
 * its Raft port (-1000, which a 3.x server binds even standalone), and none of them is one of the
 * ports of the servers in `besides` (not started yet). Drawn below the OS's ephemeral range, so
 * these ports cannot be taken by an outgoing socket.
 */
export async function freeNacosPort (besides: number[] = []): Promise<number> {
  const taken = new Set(besides.flatMap(nacosPorts))
  for (let i = 0; i < 50; i++) {
    const port = 21000 + Math.floor(Math.random() * 6000)
    const ports = nacosPorts(port)
    if (ports.some((p) => taken.has(p))) continue
    if ((await Promise.all(ports.map(refused))).every(Boolean)) return port
  }
  throw new Error('no free ports for a private Nacos (port, +1000, +1001, -1000) in 50 tries')
}
