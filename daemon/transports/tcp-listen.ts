// Listening on a TCP port, shared by the HTTP and Wyoming transports: a failure (port taken, address
// not here) rejects instead of becoming an unhandled 'error' event.
import type { Server } from 'node:net';

export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The port the server got (the configured one until it listens). */
export function boundPort(server: Server, configured: number): number {
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : configured;
}

/** "host:port", with an IPv6 address in brackets. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
