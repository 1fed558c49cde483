// Listening on a TCP port, shared by the HTTP and Wyoming transports: a failure (port taken, address
// not here) rejects, naming the setting to change, instead of becoming an unhandled 'error' event.
import type { Server } from 'node:net';

/** `what` names the service ("HTTP"), `setting` its port's key ("http.port"). */
export function listen(server: Server, port: number, host: string, what: string, setting: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => reject(new Error(`cannot serve ${what} on ${host}:${port}: ${err.message} (set ${setting}, or 0 to turn it off)`));
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
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

/** A loopback address or name: what only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}
