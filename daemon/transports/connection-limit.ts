// A bound on the connections a listening transport holds at once: more are closed as they arrive (a
// client that opens hundreds and never speaks must not exhaust the daemon's files and memory).
import type { Server } from 'node:net';
import type { Logger } from '../log.js';

const WARN_INTERVAL_MS = 60_000;

export function limitConnections(server: Server, max: number, log: Logger, setting: string): void {
  server.maxConnections = max;
  let lastWarning = 0;
  let dropped = 0;
  server.on('drop', () => {
    dropped++;
    if (Date.now() - lastWarning < WARN_INTERVAL_MS) return;
    lastWarning = Date.now();
    log.warn(`turning connections away: ${max} are open (${setting})`, { dropped });
  });
}
