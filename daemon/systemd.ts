// Talking to systemd: readiness, status, watchdog and stopping notifications (sd_notify through our
// addon: Node has no AF_UNIX datagram sockets), and sockets passed by socket activation.
import { loadAddon } from './engine/index.js';

/** Sends one sd_notify message; false when not run by systemd or when the manager cannot be reached
 * (a failed ping must not take the daemon down: systemd's watchdog is the judge of that). */
export function notify(state: string): boolean {
  if (!process.env['NOTIFY_SOCKET']) return false;
  try {
    return loadAddon().sdNotify(state);
  } catch {
    return false;
  }
}

/** Pings the watchdog from the event loop at half of WatchdogSec, so a stuck loop gets us restarted. */
export function startWatchdog(env: NodeJS.ProcessEnv = process.env): NodeJS.Timeout | undefined {
  const usec = Number(env['WATCHDOG_USEC']);
  const pid = env['WATCHDOG_PID'];
  if (!(usec > 0) || (pid !== undefined && Number(pid) !== process.pid)) return undefined;
  const timer = setInterval(() => notify('WATCHDOG=1'), Math.max(1, Math.floor(usec / 2000)));
  timer.unref();
  return timer;
}

/** File descriptors systemd passed for this process (socket activation), per sd_listen_fds(3). */
export function listenFds(env: NodeJS.ProcessEnv = process.env): number[] {
  if (Number(env['LISTEN_PID']) !== process.pid) return [];
  const n = Number(env['LISTEN_FDS']);
  if (!Number.isInteger(n) || n < 1) return [];
  return Array.from({ length: n }, (_, i) => 3 + i); // SD_LISTEN_FDS_START
}
