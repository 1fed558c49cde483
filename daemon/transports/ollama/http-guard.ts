// Who may use the HTTP API, checked before any route: the bearer token (compared in constant time), and
// what a browser can be made to send. A web page the user visits can make the browser call a port on
// this machine: its Origin header names the page, so only pages on this machine (and http.origins) are
// let through; and a page whose host name was made to resolve to 127.0.0.1 (DNS rebinding) sends its own
// name as Host, so on loopback only loopback names are.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isLoopback } from '../tcp-listen.js';

export interface GuardSettings {
  host: string;
  token: string;
  origins: string[];
}

/** Why the request is refused (status and message), or undefined when it may go on. */
export function refusal(req: IncomingMessage, s: GuardSettings): { status: number; message: string } | undefined {
  if (s.token && !sameSecret(req.headers.authorization ?? '', `Bearer ${s.token}`)) {
    return { status: 401, message: 'unauthorized: send "Authorization: Bearer <http.token>"' };
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !originAllowed(origin, s.origins)) {
    return { status: 403, message: `a web page of ${origin} may not use this API (allow it in http.origins)` };
  }
  const host = hostName(req.headers.host ?? '');
  if (isLoopback(s.host) && host !== '' && !isLoopback(host)) { // '': an HTTP/1.0 client, which no browser is
    return { status: 403, message: `the API listens on loopback and answers only to a loopback host name, not "${host}"` };
  }
  return undefined;
}

function sameSecret(given: string, expected: string): boolean {
  const digest = (x: string) => createHash('sha256').update(x).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function originAllowed(origin: string, allowed: string[]): boolean {
  if (allowed.includes('*') || allowed.includes(origin)) return true;
  try {
    return isLoopback(new URL(origin).hostname);
  } catch {
    return false; // "null" (a file or a sandboxed page), or garbage
  }
}

/** The name in a Host header, without its port or an IPv6 address's brackets. */
function hostName(header: string): string {
  const bracketed = /^\[([^\]]+)\]/.exec(header);
  if (bracketed) return bracketed[1]!;
  return header.replace(/:\d*$/, '');
}
