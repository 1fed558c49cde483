// The Unix socket: NDJSON, one request per line, events back as lines tagged with the request id.
// Several requests may share a connection; {"cancel": "<id>"} stops one; hanging up cancels them all.
// {"status": {}} and {"power": {...}} are answered at once, beside any running request.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Config } from '../../config/schema.js';
import type { ServerEvent } from '../../protocol.js';
import { limitConnections } from '../connection-limit.js';
import { MessageChannel } from '../message-channel.js';
import type { Transport, TransportContext } from '../transport.js';
import { LineSplitter } from './line-splitter.js';

export class SocketTransport implements Transport {
  readonly name = 'socket';
  private readonly server: Server;
  private readonly connections = new Set<Socket>();
  private ownsFile = false;
  private nextConnection = 1;

  constructor(
    private readonly settings: Config['socket'],
    private readonly context: TransportContext,
    /** A listening socket handed over by systemd (socket activation); `settings.path` is then only informative. */
    private readonly fd?: number,
  ) {
    // Half-open: a client that shuts down its sending side (socat after its input ends) still gets its answers.
    this.server = createServer({ allowHalfOpen: true }, (sock) => this.serve(sock));
    limitConnections(this.server, settings.max_connections, context.log, 'socket.max_connections');
  }

  /** Where clients connect, for logs. */
  describe(): string {
    return this.fd !== undefined ? `fd ${this.fd} from systemd` : this.settings.path;
  }

  async start(): Promise<void> {
    try {
      await this.listenWhereConfigured();
    } catch (err) {
      throw new Error(`cannot serve the socket: ${(err as Error).message}`);
    }
  }

  private async listenWhereConfigured(): Promise<void> {
    const path = this.settings.path;
    const fd = this.fd;
    const log = this.context.log;
    if (fd !== undefined) {
      await this.listen({ fd });
      log.info('socket: serving the socket systemd passed in', { fd });
      return;
    }
    mkdirSync(dirname(path), { recursive: true });
    await removeStaleSocket(path);
    await this.listen({ path });
    this.ownsFile = true;
    chmodSync(path, parseInt(this.settings.mode, 8));
    if (this.settings.group) chownSync(path, -1, groupId(this.settings.group));
    log.info('socket: listening', { path, mode: this.settings.mode, ...(this.settings.group ? { group: this.settings.group } : {}) });
  }

  /** Stops taking connections; open ones still receive the answers to what they asked. */
  stopAccepting(): void {
    this.server.close();
  }

  /** Closes every connection and removes the socket file. */
  async close(): Promise<void> {
    for (const sock of this.connections) sock.end();
    this.server.close();
    if (this.ownsFile) {
      try {
        unlinkSync(this.settings.path);
      } catch {
        // already gone
      }
    }
  }

  private listen(where: { path: string } | { fd: number }): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(where, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  private serve(sock: Socket): void {
    const name = `socket-${this.nextConnection++}`;
    const log = this.context.log;
    const channel = new MessageChannel(this.context, 'on this connection', { source: name });
    let inputEnded = false;
    this.connections.add(sock);
    log.debug('socket: client connected', { connection: name });

    const send = (event: ServerEvent): void => {
      if (!sock.writable) return;
      sock.write(JSON.stringify(event) + '\n');
      if (inputEnded && channel.pending === 0) sock.end();
    };
    const maxLine = this.settings.max_line_bytes;
    const splitter = new LineSplitter(maxLine, {
      tooLong: (bytes) => channel.refuse(send, `a request line of ${bytes} bytes is over the limit of ${maxLine} (socket.max_line_bytes)`),
      line: (text) => void channel.handle(text, () => send),
    });

    sock.on('data', (chunk: Buffer) => splitter.push(chunk));
    sock.on('end', () => {
      splitter.push(Buffer.from('\n')); // a last line without a newline still counts
      inputEnded = true;
      if (channel.pending === 0) sock.end();
    });
    sock.on('error', (err) => log.debug('socket: connection error', { connection: name, error: err.message }));
    sock.on('close', () => {
      this.connections.delete(sock);
      // Gone (closed, or a write failed): nobody is left to read the answers, so free the engine for others.
      const cancelled = channel.cancelAll();
      if (cancelled) log.info('socket: client hung up; cancelled its requests', { connection: name, requests: cancelled });
    });
  }
}

/** A socket file left by a dead process is replaced; one something still listens on is not. */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new Error(`${path} exists and is not a socket; remove it or set socket.path (BITNETD_SOCKET_PATH)`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = createConnection({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another process is listening on ${path}; is bitnetd already running?`);
  unlinkSync(path);
}

function groupId(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  try {
    const entry = execFileSync('getent', ['group', group], { encoding: 'utf8' });
    const gid = Number(entry.split(':')[2]);
    if (Number.isInteger(gid)) return gid;
  } catch {
    // not found
  }
  throw new Error(`socket.group: no group named "${group}"`);
}
