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

/**
 * An HTTP port for a private Nacos: nothing listens on it, on its gRPC ports (+1000, +1001) nor on
 * its Raft port (-1000, which a 3.x server binds even standalone). Drawn below the OS's ephemeral
 * range, so these ports cannot be taken by an outgoing socket.
 */
export async function freeNacosPort (): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 21000 + Math.floor(Math.random() * 6000)
    if (await refused(port) && await refused(port + 1000) && await refused(port + 1001) && await refused(port - 1000)) return port
  }
  throw new Error('no free port for a private Nacos (port, +1000, +1001, -1000) in 50 tries')
}
